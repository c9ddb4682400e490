"""co-review: comment rows carry a kind (问题/意见) and the criterion they concern; a review keeps
when it was last saved (the lead's progress table)

Revision ID: 0018_review_comment_rows
Revises: 0017_pub_year_figures
Create Date: 2026-12-02 07:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0018_review_comment_rows'
down_revision = '0017_pub_year_figures'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('review_comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.Enum('problem', 'opinion', name='comment_kind', native_enum=False,
                                                      create_constraint=True, length=32),
                                      server_default='opinion', nullable=False))
        batch_op.add_column(sa.Column('criterion_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_review_comments_criterion_id_review_rubric_criteria'),
                                    'review_rubric_criteria', ['criterion_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('review_assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('saved_at', sa.DateTime(), nullable=True))
    # reviews saved before this revision: their last save is their last revision's time
    op.execute("UPDATE review_assignments SET saved_at = (SELECT MAX(saved_at) FROM review_revisions "
               "WHERE review_revisions.assignment_id = review_assignments.id) WHERE revision > 0")
    op.execute("UPDATE review_assignments SET saved_at = submitted_at WHERE submitted_at IS NOT NULL")


def downgrade():
    with op.batch_alter_table('review_assignments', schema=None) as batch_op:
        batch_op.drop_column('saved_at')
    with op.batch_alter_table('review_comments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_review_comments_criterion_id_review_rubric_criteria'),
                                 type_='foreignkey')
        batch_op.drop_column('criterion_id')
        batch_op.drop_constraint(op.f('ck_review_comments_comment_kind'), type_='check')
        batch_op.drop_column('kind')
