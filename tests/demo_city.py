"""The demo city (portal.demo.seed, as `make run` shows it), seeded once per test run and
backend, whatever the number of xdist workers, and copied to each worker that asks for it.

The first worker to ask seeds it under a file lock in the run's shared temporary folder (the
parent of the workers' own); the others seed the other backend's meanwhile, or wait. Each worker then gets a copy of its own:
SQLite, the database file; PostgreSQL, `CREATE DATABASE … TEMPLATE` (the seeded database is
never opened again, as a template must be). The seeded instance folder (keys, uploads, both
search indexes) is copied with it. The controller drops the seeded PostgreSQL databases at the
end of the run (`drop_seeded`)."""
from __future__ import annotations

import contextlib
import pickle
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from portal.core import file_lock

SEEDED = "demo-{backend}"


def _seeded(backend: str, shared: Path, *, create_pg, seed, wait: bool = True) -> dict | None:
    """The seeded city's manifest ({"url", "ids"}), seeding it first if no worker has; None
    when `wait` is off and another worker is seeding it (or PostgreSQL cannot be reached)."""
    source = shared / SEEDED.format(backend=backend)
    manifest = source / "manifest.pickle"
    with file_lock.exclusive(shared / f"{source.name}.lock", wait=wait) as mine:
        if not mine:
            return None
        if not manifest.exists():
            url = f"sqlite:///{source / 'demo.db'}" if backend == "sqlite" else create_pg()
            if url is None:
                return None
            source.mkdir(parents=True, exist_ok=True)
            manifest.write_bytes(pickle.dumps({"url": url, "ids": seed(url, source / "root")}))
        return pickle.loads(manifest.read_bytes())


def copy(backend: str, shared: Path, target: Path, *, create_pg, seed) -> tuple[str, dict]:
    """A copy of the seeded demo city in `target` (a folder of this worker's): returns its
    database URL and the seeding's context ids. `create_pg(template=None)` makes a PostgreSQL
    database (empty, or a copy of `template`) and returns its URL; `seed(url, root)` migrates
    and seeds one, returning the ids. While another worker seeds this backend's city, this one
    seeds the other backend's (which the run will ask for too) rather than wait idle."""
    makers = {"create_pg": create_pg, "seed": seed}
    seeded = _seeded(backend, shared, wait=False, **makers)
    if seeded is None:
        _seeded("postgresql" if backend == "sqlite" else "sqlite", shared, wait=False, **makers)
        seeded = _seeded(backend, shared, **makers)
    if seeded is None:
        raise RuntimeError(f"the demo city could not be seeded on {backend}")
    source = shared / SEEDED.format(backend=backend)
    shutil.copytree(source / "root", target, dirs_exist_ok=True)
    if backend == "postgresql":
        return create_pg(template=make_url(seeded["url"]).database), seeded["ids"]
    with contextlib.closing(sqlite3.connect(source / "demo.db")) as seeded_db, \
            contextlib.closing(sqlite3.connect(target / "demo.db")) as copied:
        seeded_db.backup(copied)  # the write-ahead log's pages included
    return f"sqlite:///{target / 'demo.db'}", seeded["ids"]


def drop_seeded(shared: Path, drop_pg) -> None:
    """At the end of the run: drop the seeded PostgreSQL database (`drop_pg(url)`)."""
    manifest = shared / SEEDED.format(backend="postgresql") / "manifest.pickle"
    if manifest.exists():
        drop_pg(pickle.loads(manifest.read_bytes())["url"])
