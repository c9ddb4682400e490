"""three administrators (三权分立): security and audit administrator roles

Revision ID: 0013_admin_duties
Revises: 0012_sessions_login
Create Date: 2026-12-08 12:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0013_admin_duties'
down_revision = '0012_sessions_login'
branch_labels = None
depends_on = None

BEFORE = ('admin', 'finance_officer', 'signer', 'audit_liaison', 'conference_member', 'unit_liaison',
          'agency_staff', 'expert', 'observer')
AFTER = BEFORE + ('security_admin', 'audit_admin')


def _roles(values):
    # roles are VARCHAR + CHECK (portal.core.db.enum_column): the CHECK lists the codes
    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_roles_role'), type_='check')
        batch_op.create_check_constraint(op.f('ck_user_roles_role'),
                                         sa.column('role').in_(values))


def upgrade():
    _roles(AFTER)


def downgrade():
    op.execute(sa.text("DELETE FROM user_roles WHERE role IN ('security_admin', 'audit_admin')"))
    _roles(BEFORE)
