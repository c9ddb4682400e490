"""Keeping the portal index up to date after each commit, through the transactional outbox.

No operation has to remember the index: a session listener notes every indexed record (or child
row feeding a record's text) that a flush wrote, and just before the commit one
"portal_search.update" message naming them joins the same transaction. The worker's drain then
rewrites those documents (`index.update`); a crash between commit and index loses nothing, and
a failed write is retried by the outbox. Bulk `UPDATE` statements that bypass the ORM are not
seen: `flask search-portal rebuild` covers them.

Self-healing: a search that finds the folder missing or damaged queues `rebuild_task` on the
job runner (run at once where jobs are immediate) and says the index is being rebuilt."""
from __future__ import annotations

import logging
import time

from flask import current_app, has_app_context
from sqlalchemy import event

from portal.core import outbox
from portal.core.jobs import _context, huey
from portal.extensions import db

log = logging.getLogger("portal.search")
KIND = "portal_search.update"
REFS = "portal_index_refs"
_watchers: dict[str, list] | None = None
_last_heal = {"at": 0.0}
HEAL_INTERVAL = 60.0  # seconds between two rebuild requests of one process


def _watch() -> dict[str, list]:
    """model name → [(kind, record → id of the indexed record)]"""
    global _watchers
    if _watchers is None:
        from portal.search.kinds import KINDS

        watchers: dict[str, list] = {}
        for kind in KINDS.values():
            watchers.setdefault(kind.model().__name__, []).append((kind, lambda r: r.id))
            for child, parent in kind.children.items():
                watchers.setdefault(child, []).append((kind, parent))
        _watchers = watchers
    return _watchers


def _live() -> bool:
    return has_app_context() and bool(current_app.config.get("PORTAL_INDEX_LIVE", True))


def _after_flush(session, _flush_context) -> None:
    if not _live():
        return
    watchers = _watch()
    refs = session.info.get(REFS)
    for obj in (*session.new, *session.dirty, *session.deleted):
        for kind, record_id in watchers.get(type(obj).__name__, ()):
            rid = record_id(obj)
            if rid:
                if refs is None:
                    refs = session.info[REFS] = {}
                refs.setdefault(kind.name, set()).add(int(rid))
    if refs:
        session.info["outbox_pending"] = True  # the commit wakes the worker


def _before_commit(session) -> None:
    if _live() and (session.new or session.dirty or session.deleted):
        session.flush()  # the commit flushes after this hook: note what it writes first
    refs = session.info.pop(REFS, None)
    if refs and _live():
        outbox.enqueue(KIND, {"refs": {name: sorted(ids) for name, ids in refs.items()}})


def _forget(session) -> None:
    session.info.pop(REFS, None)


@outbox.handler(KIND)
def apply_update(payload: dict, _run) -> None:
    from portal.search import index

    index.update({name: list(ids) for name, ids in payload.get("refs", {}).items()})


@huey.task()
def rebuild_task():
    from portal.search import index

    with _context():
        if index.health() != "ok":
            index.rebuild()


def heal() -> None:
    """Ask the job runner for a rebuild (once a minute per process at most)."""
    now = time.monotonic()
    if now - _last_heal["at"] < HEAL_INTERVAL and not current_app.config.get("JOBS_IMMEDIATE"):
        return
    _last_heal["at"] = now
    log.warning("portal search index unusable: rebuilding")
    try:
        rebuild_task()
    except Exception:  # noqa: BLE001  never fail a search over the cache; the next one asks again
        log.exception("portal search index rebuild failed")


def init_app(app) -> None:
    if not event.contains(db.session, "after_flush", _after_flush):
        event.listen(db.session, "after_flush", _after_flush)
        event.listen(db.session, "before_commit", _before_commit)
        event.listen(db.session, "after_rollback", _forget)
