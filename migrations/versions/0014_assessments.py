"""ex-ante performance assessment (事前绩效评估): applications, rounds, score sheets

Revision ID: 0014_assessments
Revises: 0013_admin_duties
Create Date: 2026-12-02 01:04:09.797277
"""
from alembic import op
import sqlalchemy as sa


revision = '0014_assessments'
down_revision = '0013_admin_duties'
branch_labels = None
depends_on = None


def upgrade():
    
    op.create_table('assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('draft', 'submitted', 'assessing', 'revising', 'supported', 'rejected', 'withdrawn', name='assessment_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('basis', sa.Text(), nullable=False),
    sa.Column('plan', sa.Text(), nullable=False),
    sa.Column('costing', sa.Text(), nullable=False),
    sa.Column('overall_goal', sa.Text(), nullable=False),
    sa.Column('requested_amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('score', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('conclusion', sa.Enum('support', 'adjust', 'reject', name='conclusion', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('recommended_amount', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('first_requested', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('was_adjusted', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('lock_version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("state NOT IN ('supported', 'rejected', 'revising') OR conclusion IS NOT NULL", name=op.f('ck_assessments_concluded_has_conclusion')),
    sa.CheckConstraint('recommended_amount IS NULL OR recommended_amount >= 0', name=op.f('ck_assessments_recommended_non_negative')),
    sa.CheckConstraint('requested_amount >= 0', name=op.f('ck_assessments_requested_non_negative')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_assessments_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['department_id'], ['organisations.id'], name=op.f('fk_assessments_department_id_organisations')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_assessments_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['organisations.id'], name=op.f('fk_assessments_unit_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessments')),
    sa.UniqueConstraint('project_id', name=op.f('uq_assessments_project_id'))
    )
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessments_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessments_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index('ix_assessments_year_department', ['year', 'department_id'], unique=False)

    op.create_table('assessment_indicators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('level1', sa.Enum('output', 'benefit', 'satisfaction', 'cost', name='level1', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('target', sa.String(length=100), nullable=False),
    sa.Column('weight', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_assessment_indicators_assessment_id_assessments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_indicators'))
    )
    with op.batch_alter_table('assessment_indicators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_indicators_assessment_id'), ['assessment_id'], unique=False)

    op.create_table('assessment_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.SmallInteger(), nullable=False),
    sa.Column('method', sa.Enum('finance', 'experts', 'agency', name='method', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('draw_seed', sa.String(length=64), nullable=False),
    sa.Column('draw_pool', sa.Text(), nullable=False),
    sa.Column('draw_witnesses', sa.Text(), nullable=False),
    sa.Column('rules', sa.Text(), nullable=False),
    sa.Column('requested_amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('score', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('conclusion', sa.Enum('support', 'adjust', 'reject', name='conclusion', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('recommended_amount', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('opinion', sa.Text(), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=True),
    sa.Column('concluded_at', sa.DateTime(), nullable=True),
    sa.Column('concluded_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('score IS NULL OR (score >= 0 AND score <= 100)', name=op.f('ck_assessment_rounds_score_range')),
    sa.ForeignKeyConstraint(['agency_id'], ['organisations.id'], name=op.f('fk_assessment_rounds_agency_id_organisations')),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_assessment_rounds_assessment_id_assessments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['concluded_by_id'], ['users.id'], name=op.f('fk_assessment_rounds_concluded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_rounds')),
    sa.UniqueConstraint('assessment_id', 'number', name=op.f('uq_assessment_rounds_assessment_id_number'))
    )
    with op.batch_alter_table('assessment_rounds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_rounds_assessment_id'), ['assessment_id'], unique=False)

    op.create_table('assessment_sheets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('assessor_id', sa.Integer(), nullable=True),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.Enum('pending', 'submitted', name='sheet_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('necessity', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('economy', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('goals', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('feasibility', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('funding', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('lock_version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.CheckConstraint('assessor_id IS NOT NULL OR agency_id IS NOT NULL', name=op.f('ck_assessment_sheets_has_assessor')),
    sa.ForeignKeyConstraint(['agency_id'], ['organisations.id'], name=op.f('fk_assessment_sheets_agency_id_organisations')),
    sa.ForeignKeyConstraint(['assessor_id'], ['users.id'], name=op.f('fk_assessment_sheets_assessor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['round_id'], ['assessment_rounds.id'], name=op.f('fk_assessment_sheets_round_id_assessment_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_assessment_sheets_submitted_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_sheets'))
    )
    with op.batch_alter_table('assessment_sheets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_sheets_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessment_sheets_assessor_id'), ['assessor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessment_sheets_round_id'), ['round_id'], unique=False)




def downgrade():
    
    with op.batch_alter_table('assessment_sheets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_sheets_round_id'))
        batch_op.drop_index(batch_op.f('ix_assessment_sheets_assessor_id'))
        batch_op.drop_index(batch_op.f('ix_assessment_sheets_agency_id'))

    op.drop_table('assessment_sheets')
    with op.batch_alter_table('assessment_rounds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_rounds_assessment_id'))

    op.drop_table('assessment_rounds')
    with op.batch_alter_table('assessment_indicators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_indicators_assessment_id'))

    op.drop_table('assessment_indicators')
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index('ix_assessments_year_department')
        batch_op.drop_index(batch_op.f('ix_assessments_unit_id'))
        batch_op.drop_index(batch_op.f('ix_assessments_department_id'))

    op.drop_table('assessments')

