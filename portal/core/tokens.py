"""API tokens (API 令牌): the model and its only writers, `create_token` and `revoke_token`.

A token is created by its user on the tokens page (the raw secret is shown once and stored only
as a hash) and revoked there; both write one audit entry with before and after. The API itself
(`portal.core.api`) only reads tokens; when a token was last used is recorded outside the
request's transaction (see `api._note_use`)."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core import clock
from portal.core.audit import record_change
from portal.core.errors import DomainError
from portal.core.writes import lock
from portal.extensions import db

NAME_MAX = 100


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(12))  # shown so users can tell tokens apart
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user = relationship("User")


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(user, name: str, *, actor=None) -> tuple[ApiToken, str]:
    """Returns the token row and the raw secret (shown once, never stored)."""
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise DomainError(_("请填写令牌用途（不超过100字）。"), field="name")
    raw = "jx_" + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_token(raw), prefix=raw[:10],
                     created_at=clock.now())
    db.session.add(token)
    db.session.flush()
    record_change(actor or user, "api_token.create", token,
                  after={"name": token.name, "prefix": token.prefix, "user_id": token.user_id})
    return token, raw


def revoke_token(token: ApiToken, *, actor) -> ApiToken:
    """吊销: idempotent — a token revoked meanwhile (another tab) is left as it is, with no entry."""
    lock(token)
    if token.revoked_at is not None:
        return token
    token.revoked_at = clock.now()
    record_change(actor, "api_token.revoke", token, before={"revoked_at": None},
                  after={"revoked_at": token.revoked_at})
    return token
