"""TOTP secrets encrypted at rest; the forced password change after an administrator's reset

Revision ID: 0015_totp_encryption
Revises: 0014_assessments
Create Date: 2026-12-09 01:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0015_totp_encryption'
down_revision = '0014_assessments'
branch_labels = None
depends_on = None

users = sa.table('users', sa.column('id', sa.Integer), sa.column('totp_secret', sa.String))


def _rewrite(convert):
    """Every stored secret through `convert` (the key: TOTP_KEY or instance/totp_key)."""
    conn = op.get_bind()
    rows = conn.execute(sa.select(users.c.id, users.c.totp_secret).where(users.c.totp_secret.isnot(None))).all()
    for row in rows:
        value = convert(row.totp_secret)
        if value != row.totp_secret:
            conn.execute(sa.update(users).where(users.c.id == row.id).values(totp_secret=value))


def upgrade():
    from portal.accounts.encryption import encrypt, is_encrypted

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=64), type_=sa.String(length=255),
                              existing_nullable=True)
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    _rewrite(lambda value: value if is_encrypted(value) else encrypt(value))


def downgrade():
    from portal.accounts.encryption import decrypt, is_encrypted

    _rewrite(lambda value: decrypt(value) if is_encrypted(value) else value)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=255), type_=sa.String(length=64),
                              existing_nullable=True)
