"""published year figures (公开的年度统计): pub_year_figures, e.g. the ex-ante assessments' figures

Revision ID: 0017_pub_year_figures
Revises: 0016_oversight
Create Date: 2026-12-02 07:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0017_pub_year_figures'
down_revision = '0016_oversight'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pub_year_figures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('current', sa.Boolean(), nullable=False),
    sa.Column('state', sa.Enum('published', 'withdrawn', name='snapshot_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('version >= 1', name=op.f('ck_pub_year_figures_version_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pub_year_figures')),
    sa.UniqueConstraint('kind', 'year', 'version', name=op.f('uq_pub_year_figures_kind_year_version'))
    )
    with op.batch_alter_table('pub_year_figures', schema=None) as batch_op:
        batch_op.create_index('ix_pub_year_figures_current', ['kind', 'current', 'year'], unique=False)


def downgrade():
    with op.batch_alter_table('pub_year_figures', schema=None) as batch_op:
        batch_op.drop_index('ix_pub_year_figures_current')
    op.drop_table('pub_year_figures')
