"""Helpers of the performance tests: the versions an edit form would carry."""
from __future__ import annotations


def version(db, record) -> int:
    """The record's committed lock_version (what a freshly loaded form carries)."""
    db.session.expire_all()
    return db.session.get(type(record), record.id).lock_version


def with_version(db, record, data: dict | None = None, **more) -> dict:
    return {**(data or {}), **more, "lock_version": version(db, record)}


def settings_versions() -> dict:
    from portal.performance import operations as ops

    return {name: ops.setting_versions()[key] for key, name in ops.SETTING_FORM_KEYS.items()}
