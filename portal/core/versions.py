"""Optimistic concurrency for every editable record (Rails' lock_version, SQLAlchemy's version_id_col).

A model that mixes in `Versioned` gets a `lock_version` column (Rails' name: `version` is a domain
word here — a goal's 第N版, a report's V2) that SQLAlchemy increments on every
UPDATE and checks in its WHERE clause, so two saves of the same loaded row cannot both win.
Edit forms carry the version they were built from (a hidden `lock_version` field); the operation calls
`expect_version(record, form_version)` first, which refuses a stale save with a message saying
who changed what, before anything is overwritten.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Mapped, declared_attr, mapped_column
from sqlalchemy.orm.attributes import flag_modified

from portal.core.errors import StaleRecord


class Versioned:
    lock_version: Mapped[int] = mapped_column(default=1, server_default=sa.text("1"))

    @declared_attr.directive
    def __mapper_args__(cls):  # noqa: N805
        return {"version_id_col": cls.lock_version}


def expect_version(record, version) -> None:
    """Refuse the save when the form was built on another version of `record`."""
    try:
        submitted = int(version)
    except (TypeError, ValueError):
        raise StaleRecord(_("表单缺少版本信息，请刷新页面后重新填写。")) from None
    if submitted != record.lock_version:
        raise StaleRecord(changed_by_message(record))


def changed_by_message(record) -> str:
    from portal.core.audit import AuditEntry
    from portal.core.formatting import cn_datetime
    from portal.extensions import db

    last = db.session.execute(
        sa.select(AuditEntry).where(AuditEntry.record_type == record.__tablename__,
                                    AuditEntry.record_id == str(record.id))
        .order_by(AuditEntry.id.desc()).limit(1)).scalar_one_or_none()
    if last is None:
        return _("该记录已被他人修改，您的修改未保存（页面保留了您填写的内容）。请刷新查看最新内容后再提交。")
    before, after = last.before_dict, last.after_dict
    labels = getattr(type(record), "field_labels", {})
    fields = [str(labels.get(k, k)) for k in after if before.get(k) != after.get(k)]
    return _("该记录已被%(who)s于%(at)s修改（%(fields)s），您的修改未保存（页面保留了您填写的内容）。"
             "请刷新查看最新内容后再提交。", who=last.actor_name or _("系统"), at=cn_datetime(last.at),
             fields="、".join(fields[:8]) or _("状态"))


def touch(record) -> None:
    """Count a change of the record's children (items, rows) as a change of the record."""
    mapper = sa.inspect(type(record))
    column = next(c.key for c in mapper.column_attrs if c.key not in ("id", "lock_version"))
    flag_modified(record, column)
