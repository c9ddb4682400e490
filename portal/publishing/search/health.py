"""The search index is a cache that heals itself.

Whenever a writer commits, it records in the index folder (`portal-index.json`) which database the
index was built from, how many documents it holds and the size of every file. `check()` compares
that with the folder and the database without opening a segment (a truncated segment, mapped
into memory, would kill the process with SIGBUS): an index that is missing, corrupt, built from
another database, or holds fewer projects than are published is rebuilt by `heal()` — in the
background, into a new folder swapped in atomically, one rebuild at a time across processes —
while search answers from the old index, or says plainly that search is being rebuilt.
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from portal.core import file_lock

log = logging.getLogger("portal.publishing.search")
MANIFEST = "portal-index.json"
HEALTHY = ("ok", "lagging")


@dataclass
class Status:
    state: str  # ok | lagging | missing | corrupt | foreign | partial | rebuilding
    detail: str = ""

    @property
    def usable(self) -> bool:
        """Whether searches may be answered from the index as it is."""
        return self.state in HEALTHY


def database_identity() -> str:
    """Which database this is (not where it is reached from): PostgreSQL's system identifier and
    database name, or SQLite's file."""
    from portal.extensions import db

    engine = db.engine
    if engine.dialect.name == "postgresql":
        row = db.session.execute(sa.text("SELECT system_identifier::text, current_database() FROM pg_control_system()"))
        ident = ":".join(row.one())
    else:
        ident = str(Path(engine.url.database or ":memory:").resolve())
    db.session.commit()
    return hashlib.sha256(f"{engine.dialect.name}:{ident}".encode()).hexdigest()[:32]


def _files(path: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in path.iterdir() if p.is_file() and p.name != MANIFEST
            and not p.name.endswith(".lock")}


def write_manifest(path: Path, documents: int, position: int | None = None) -> None:
    """Called by the writer, under the writer lock, right after a commit. `position` is a
    replica node's place in the commit-ordered index log (kept when not given)."""
    if position is None:
        position = (read_manifest(path) or {}).get("position", 0)
    data = {"database": database_identity(), "documents": documents, "files": _files(path), "position": position}
    tmp = path / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(data, sort_keys=True))
    tmp.replace(path / MANIFEST)


def read_manifest(path: Path) -> dict | None:
    try:
        return json.loads((path / MANIFEST).read_text())
    except (FileNotFoundError, ValueError):
        return None


def files_intact(path: Path) -> bool:
    """Every file the last commit left is there with its size (cheap: one stat per file)."""
    manifest = read_manifest(path)
    if manifest is None:
        return False
    for name, size in manifest["files"].items():
        try:
            if (path / name).stat().st_size != size:
                return False
        except FileNotFoundError:
            return False
    return True


def expected_documents() -> int:
    from portal.extensions import db
    from portal.publishing.models import Snapshot, SnapshotState

    count = db.session.scalar(sa.select(sa.func.count(sa.distinct(Snapshot.project_ref)))
                              .where(Snapshot.current.is_(True), Snapshot.state != SnapshotState.WITHDRAWN))
    db.session.commit()
    return count or 0


def _queued() -> int:
    if current_app.config.get("PUBLIC_REPLICA"):
        from portal.publishing import replica

        return replica.pending()
    from portal.extensions import db
    from portal.publishing.models import SearchQueueItem

    count = db.session.scalar(sa.select(sa.func.count()).select_from(SearchQueueItem))
    db.session.commit()
    return count or 0


def check() -> Status:
    from portal.publishing.search import index_dir

    path = index_dir()
    if rebuilding():
        return Status("rebuilding")
    manifest = read_manifest(path) if path.exists() else None
    if manifest is None:
        expected = expected_documents()
        return Status("ok") if expected == 0 and not path.exists() else Status("missing")
    if not files_intact(path):
        return Status("corrupt", "a file of the index is missing or truncated")
    if manifest["database"] != database_identity():
        return Status("foreign", "built from another database")
    expected = expected_documents()
    if manifest["documents"] != expected:
        if _queued():
            return Status("lagging", f"{manifest['documents']} of {expected} projects, updates queued")
        return Status("partial", f"{manifest['documents']} of {expected} projects")
    return Status("ok")


# ---- rebuilding ------------------------------------------------------------------------------

_local_rebuild: dict[str, threading.Thread] = {}


def _rebuild_lock_path() -> Path:
    from portal.publishing.search import index_dir

    path = index_dir()
    return path.parent / (path.name + ".rebuild.lock")


def _rebuild_lock():
    """The rebuild lock, taken without waiting: yields whether this caller holds it."""
    return file_lock.exclusive(_rebuild_lock_path(), wait=False)


def rebuilding() -> bool:
    """Whether a rebuild runs now, in this process or another."""
    with _rebuild_lock() as free:
        return not free


def rebuild_now() -> bool:
    """Rebuild in this thread unless another rebuild holds the lock. True when it rebuilt."""
    from portal.publishing import search

    with _rebuild_lock() as mine:
        if not mine:
            return False
        count = search.reindex()
        log.warning("search index rebuilt: %s projects", count)
        return True


def wait_for_rebuilds(timeout: float | None = None) -> None:
    """Wait for the background rebuilds this process started (a command before it exits)."""
    for thread in list(_local_rebuild.values()):
        thread.join(timeout)


def heal(status: Status | None = None) -> threading.Thread | None:
    """Start a background rebuild when the index is not usable; returns the thread (tests wait)."""
    status = status or check()
    if status.usable or status.state == "rebuilding":
        return None
    key = str(_rebuild_lock_path())
    running = _local_rebuild.get(key)
    if running is not None and running.is_alive():
        return running
    log.warning("search index %s (%s): rebuilding in the background", status.state, status.detail)
    app = current_app._get_current_object()

    def run():
        with app.app_context():
            try:
                rebuild_now()
            except Exception:  # noqa: BLE001  the next check starts another attempt
                log.exception("search index rebuild failed")
    # not a daemon: a command that started it (`flask search apply` on a lost folder) exits only
    # once the index is whole again, instead of killing the rebuild half-way
    thread = threading.Thread(target=run, name="search-index-rebuild", daemon=False)
    _local_rebuild[key] = thread
    thread.start()
    return thread


def heal_on_first_request(app) -> None:
    """Each process checks the index once, at its first request (start-up)."""
    done: list[bool] = []
    lock = threading.Lock()

    @app.before_request
    def check_index_once():
        if done:
            return
        with lock:
            if done:
                return
            done.append(True)
        try:
            heal()
        except Exception:  # noqa: BLE001  never fail a request over the cache
            log.exception("search index check failed")


def readiness_check():
    """/readyz on both faces: present, intact, from this database and complete; a failing index
    starts its rebuild."""
    from portal.core.telemetry import Check

    try:
        status = check()
    except Exception as error:  # noqa: BLE001  a broken index is "not ready", never a 500
        return Check("search_index", False, type(error).__name__)
    if not status.usable:
        heal(status)
    return Check("search_index", status.usable, "" if status.usable else status.state)


def expected_index_documents() -> int:
    """Projects the search index should hold: those with a current snapshot that is not withdrawn
    (`portal.publishing.search.reindex` indexes every project with a current snapshot, and
    `build_document` drops those whose current snapshots are all withdrawn)."""
    from portal.extensions import db
    from portal.publishing.models import Snapshot, SnapshotState

    return db.session.scalar(sa.select(sa.func.count(sa.distinct(Snapshot.project_ref)))
                             .where(Snapshot.current.is_(True), Snapshot.state == SnapshotState.PUBLISHED)) or 0


def verify_against_snapshots(report) -> None:
    """`flask backup verify`: the index holds exactly the live snapshots' projects."""
    from whoosh import index as whoosh_index

    from portal.extensions import db
    from portal.publishing import search
    from portal.publishing.models import SearchQueueItem

    expected = expected_index_documents()
    queued = db.session.scalar(sa.select(sa.func.count()).select_from(SearchQueueItem)) or 0
    db.session.rollback()
    fix = "run `flask --app portal search reindex`"
    try:
        present = search.index_dir().is_dir() and whoosh_index.exists_in(str(search.index_dir()))
        count = search.doc_count()
    except Exception as error:  # noqa: BLE001  a damaged index is a finding, not a crash
        report.problems.append(f"search: the index at {search.index_dir()} cannot be read ({error}): {fix}")
        return
    if not present and expected:
        report.problems.append(f"search: no index at {search.index_dir()} ({expected} published projects): {fix}")
    elif count != expected:
        pending = f"; {queued} updates queued (`flask --app portal search apply`)" if queued else ""
        report.problems.append(f"search: the index holds {count} documents, the live snapshots call for "
                               f"{expected}{pending}: {fix}")
    report.checked.append(f"search index of {count} documents")
