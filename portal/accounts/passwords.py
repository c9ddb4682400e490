"""The password policy (等保 2.0 三级 identification and authentication): length, three character
classes, not common and not derived from the username or name (zxcvbn), no reuse of the last N,
an expiry. Every refusal says why."""
from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import check_password_hash

from portal.accounts.models import PasswordHistory, User
from portal.core import clock
from portal.extensions import db

CLASSES = (r"[a-z]", r"[A-Z]", r"\d", r"[^A-Za-z0-9]")


def _derived_from(password: str, words: list[str]) -> bool:
    low = password.lower()
    for word in words:
        word = (word or "").strip().lower()
        if len(word) >= 3 and (word in low or word[::-1] in low):
            return True
    return False


def problems(password: str, username: str = "", display_name: str = "") -> list[str]:
    """The reasons `password` is refused (empty when it is acceptable)."""
    found = []
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        found.append(_("密码至少%(n)s位。", n=minimum))
    if len(password) > 128:
        found.append(_("密码不能超过128位。"))
    if sum(bool(re.search(c, password)) for c in CLASSES) < 3:
        found.append(_("密码须包含大写字母、小写字母、数字、符号中的至少三类。"))
    if _derived_from(password, [username, display_name]):
        found.append(_("密码不能包含用户名或姓名。"))
    elif not found and len(password) <= 128:
        from zxcvbn import zxcvbn

        result = zxcvbn(password, user_inputs=[w for w in (username, display_name) if w])
        if result["score"] < current_app.config["PASSWORD_MIN_SCORE"]:
            found.append(_("密码过于常见或容易猜测（如常用密码、键盘序列、重复字符、年份），请换一个。"))
    return found


def reused(user: User, password: str) -> bool:
    """True when `password` is the current one or one of the last PASSWORD_HISTORY - 1 before it."""
    keep = current_app.config["PASSWORD_HISTORY"]
    if keep <= 0:
        return False
    if user.password_hash and check_password_hash(user.password_hash, password):
        return True
    earlier = db.session.execute(
        sa.select(PasswordHistory.password_hash).where(PasswordHistory.user_id == user.id)
        .order_by(PasswordHistory.id.desc()).limit(max(keep - 1, 0))).scalars()
    return any(check_password_hash(h, password) for h in earlier)


def remember_old(user: User) -> None:
    """Keep the hash being replaced in the history (pruned to PASSWORD_HISTORY entries)."""
    keep = current_app.config["PASSWORD_HISTORY"]
    if keep <= 0 or not user.password_hash or user.id is None:
        return
    db.session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash, created_at=clock.now()))
    db.session.flush()
    ids = db.session.execute(sa.select(PasswordHistory.id).where(PasswordHistory.user_id == user.id)
                             .order_by(PasswordHistory.id.desc()).offset(keep)).scalars().all()
    if ids:
        db.session.execute(sa.delete(PasswordHistory).where(PasswordHistory.id.in_(ids)))


def expired(user: User) -> bool:
    days = current_app.config["PASSWORD_MAX_AGE_DAYS"]
    if days <= 0 or user.password_changed_at is None:
        return False
    return clock.now() - user.password_changed_at > timedelta(days=days)
