"""one write path: versions on editable records, one gapless counter, the outbox, submission
keys, sealed audit entries (and, on PostgreSQL, an audit table that refuses UPDATE and DELETE)

Revision ID: 0010_write_path
Revises: 0009_public_site_indexes
Create Date: 2026-12-01 22:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010_write_path'
down_revision = '0009_public_site_indexes'
branch_labels = None
depends_on = None

VERSIONED = ["problems", "projects", "performance_goals", "indicators", "evaluations", "performance_settings",
             "indicator_library", "inquiry_letters", "inquiry_issuing_codes", "conference_meetings",
             "conference_actions", "conference_plan_items", "library_documents", "review_reports", "review_rubrics",
             "review_assignments", "users", "organisations"]

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_entries is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only();
"""


def upgrade():
    for table in VERSIONED:  # a plain ADD COLUMN with a default: no table rebuild on SQLite
        op.add_column(table, sa.Column('lock_version', sa.Integer(), server_default=sa.text('1'), nullable=False))

    op.create_table(
        'counters',
        sa.Column('scope', sa.String(length=60), nullable=False),
        sa.Column('period', sa.Integer(), nullable=False),
        sa.Column('last', sa.Integer(), nullable=False),
        sa.CheckConstraint('last >= 0', name=op.f('ck_counters_last_not_negative')),
        sa.PrimaryKeyConstraint('scope', 'period', name=op.f('pk_counters')),
    )
    op.execute("INSERT INTO counters (scope, period, last) SELECT 'ledger', year, last FROM ledger_counters")
    op.execute("INSERT INTO counters (scope, period, last) SELECT 'inquiry:' || code, year, last "
               "FROM inquiry_number_counters")
    op.execute("INSERT INTO counters (scope, period, last) SELECT 'meeting', year, last FROM conference_meeting_counters")
    op.drop_table('ledger_counters')
    op.drop_table('inquiry_number_counters')
    op.drop_table('conference_meeting_counters')

    op.create_table(
        'outbox_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('due_at', sa.DateTime(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.Column('failed_at', sa.DateTime(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('claim', sa.String(length=32), nullable=True),
        sa.Column('claimed_until', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
    )
    op.create_index('ix_outbox_messages_pending', 'outbox_messages', ['sent_at', 'failed_at', 'due_at'], unique=False)

    op.create_table(
        'submission_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('redirect_to', sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_submission_keys_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_submission_keys')),
        sa.UniqueConstraint('key', name=op.f('uq_submission_keys_key')),
    )
    op.create_index(op.f('ix_submission_keys_created_at'), 'submission_keys', ['created_at'], unique=False)

    op.add_column('audit_entries', sa.Column('mac', sa.String(length=64), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(APPEND_ONLY)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries")
        op.execute("DROP FUNCTION IF EXISTS audit_entries_append_only()")
    op.drop_column('audit_entries', 'mac')  # SQLite 3.35+ drops a plain column in place
    op.drop_index(op.f('ix_submission_keys_created_at'), table_name='submission_keys')
    op.drop_table('submission_keys')
    op.drop_index('ix_outbox_messages_pending', table_name='outbox_messages')
    op.drop_table('outbox_messages')

    op.create_table(
        'conference_meeting_counters',
        sa.Column('year', sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column('last', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('year', name=op.f('pk_conference_meeting_counters')),
    )
    op.create_table(
        'inquiry_number_counters',
        sa.Column('code', sa.String(length=20), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('last', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('code', 'year', name=op.f('pk_inquiry_number_counters')),
    )
    op.create_table(
        'ledger_counters',
        sa.Column('year', sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column('last', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('year', name=op.f('pk_ledger_counters')),
    )
    op.execute("INSERT INTO ledger_counters (year, last) SELECT period, last FROM counters WHERE scope = 'ledger'")
    op.execute("INSERT INTO inquiry_number_counters (code, year, last) SELECT substr(scope, 9), period, last "
               "FROM counters WHERE scope LIKE 'inquiry:%'")
    op.execute("INSERT INTO conference_meeting_counters (year, last) SELECT period, last FROM counters "
               "WHERE scope = 'meeting'")
    op.drop_table('counters')

    for table in reversed(VERSIONED):
        op.drop_column(table, 'lock_version')
