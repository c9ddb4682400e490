"""public site at province scale: covering index of live snapshots, notices index

Revision ID: 0009_public_site_indexes
Revises: 0008_conference
Create Date: 2026-12-01 11:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_public_site_indexes'
down_revision = '0008_conference'
branch_labels = None
depends_on = None

LIVE_COLUMNS = ["current", "state", "id", "project_ref", "kind", "published_at", "amount", "score", "project_code",
                "department_name", "year", "department_ref", "unit_name", "project_kind", "budget_type",
                "amount_band", "grade", "rectification"]


def upgrade():
    with op.batch_alter_table('pub_snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_pub_snapshots_live', LIVE_COLUMNS, unique=False)
        batch_op.create_index('ix_pub_snapshots_notices', ['published_at', 'id'], unique=False,
                              sqlite_where=sa.text("note != ''"), postgresql_where=sa.text("note != ''"))


def downgrade():
    with op.batch_alter_table('pub_snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_pub_snapshots_notices', sqlite_where=sa.text("note != ''"),
                            postgresql_where=sa.text("note != ''"))
        batch_op.drop_index('ix_pub_snapshots_live')
