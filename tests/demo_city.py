"""The demo city (portal.demo.seed, as `make run` shows it), seeded once per backend for the
tests, whatever the number of xdist workers, and copied to each worker that asks for it.

Where it is kept: `.cache/demo-city/<backend>-<key>/` in the checkout, from one run to the
next, `key` a hash of every source the seeding reads (portal/, migrations/, templates/, this
file, tests/conftest.py, pyproject.toml) and, for PostgreSQL, of the server's address. A change
to any of them seeds a new city and removes the stale one (its PostgreSQL database too). With
DEMO_CITY_CACHE=0 (.ci/run) it lives in the run's shared temporary folder instead and its
PostgreSQL database is dropped at the end of the run (`drop_seeded`).

The first worker to ask seeds it under a file lock; the others seed the other backend's
meanwhile, or wait. Each worker then gets a copy of its own: SQLite, the database file;
PostgreSQL, `CREATE DATABASE … TEMPLATE` (the seeded database is never opened again, as a
template must be). The seeded instance folder (keys, uploads, both search indexes) is copied with it."""
from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from portal.core import file_lock

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "demo-city"
SOURCES = ("portal", "migrations", "templates", "tests/demo_city.py", "tests/conftest.py", "pyproject.toml")


def cached() -> bool:
    return os.environ.get("DEMO_CITY_CACHE", "1") != "0"


@functools.cache
def sources_key(*extra: str) -> str:
    """A hash of every file the seeding reads (and of `extra`, the server's address)."""
    digest = hashlib.sha256("\n".join(extra).encode())
    for name in SOURCES:
        path = ROOT / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()
                                                      and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".mo"))
        for file in files:
            digest.update(str(file.relative_to(ROOT)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()[:16]


def _home(backend: str, shared: Path, server: str) -> Path:
    """The folder the seeded city of `backend` lives in (see the module docstring)."""
    if not cached():
        return shared / f"demo-{backend}"
    return CACHE / f"{backend}-{sources_key(server if backend == 'postgresql' else '')}"


def _seeded(backend: str, shared: Path, *, pg, seed, wait: bool = True) -> dict | None:
    """The seeded city's manifest ({"url", "ids"}), seeding it first if no worker has; None
    when `wait` is off and another worker is seeding it (or PostgreSQL cannot be reached)."""
    home = _home(backend, shared, pg.server())
    manifest = home / "manifest.pickle"
    home.parent.mkdir(parents=True, exist_ok=True)
    with file_lock.exclusive(home.parent / f"{home.name}.lock", wait=wait) as mine:
        if not mine:
            return None
        if manifest.exists():
            seeded = pickle.loads(manifest.read_bytes())
            if backend == "sqlite" or pg.exists(seeded["url"]):
                return seeded
        shutil.rmtree(home, ignore_errors=True)
        name = f"portal_demo_{hashlib.sha256(str(ROOT).encode()).hexdigest()[:6]}_{home.name.split('-')[-1]}" \
            if cached() else None  # of this checkout's cache: another checkout keeps its own
        url = f"sqlite:///{home / 'demo.db'}" if backend == "sqlite" else pg.create(name=name)
        if url is None:
            return None
        home.mkdir(parents=True)
        seeded = {"url": url, "ids": seed(url, home / "root")}
        manifest.write_bytes(pickle.dumps(seeded))
    if cached():
        _remove_stale(backend, keep=home, pg=pg)
    return seeded


def _remove_stale(backend: str, keep: Path, pg) -> None:
    """Cities of `backend` seeded from older sources (their PostgreSQL databases too)."""
    for home in CACHE.glob(f"{backend}-*"):
        if home == keep or not home.is_dir():
            continue
        with file_lock.exclusive(home.parent / f"{home.name}.lock", wait=False) as mine:
            if not mine:
                continue  # another run uses it now
            manifest = home / "manifest.pickle"
            if backend == "postgresql" and manifest.exists():
                pg.drop(pickle.loads(manifest.read_bytes())["url"])
            shutil.rmtree(home, ignore_errors=True)


def copy(backend: str, shared: Path, target: Path, *, pg, seed) -> tuple[str, dict]:
    """A copy of the seeded demo city in `target` (a folder of this worker's): returns its
    database URL and the seeding's context ids. `pg` makes PostgreSQL databases
    (`create(template=None, name=None)` returns a URL or None, `exists(url)`, `drop(url)`,
    `server()`); `seed(url, root)` migrates and seeds one, returning the ids. While another
    worker seeds this backend's city, this one seeds the other backend's (which the run will
    ask for too) rather than wait idle."""
    seeded = _seeded(backend, shared, wait=False, pg=pg, seed=seed)
    if seeded is None:
        _seeded("postgresql" if backend == "sqlite" else "sqlite", shared, wait=False, pg=pg, seed=seed)
        seeded = _seeded(backend, shared, pg=pg, seed=seed)
    if seeded is None:
        raise RuntimeError(f"the demo city could not be seeded on {backend}")
    home = _home(backend, shared, pg.server())
    shutil.copytree(home / "root", target, dirs_exist_ok=True)
    if backend == "postgresql":
        return pg.create(template=make_url(seeded["url"]).database), seeded["ids"]
    with contextlib.closing(sqlite3.connect(home / "demo.db")) as seeded_db, \
            contextlib.closing(sqlite3.connect(target / "demo.db")) as copied:
        seeded_db.backup(copied)  # the write-ahead log's pages included
    return f"sqlite:///{target / 'demo.db'}", seeded["ids"]


def drop_seeded(shared: Path, drop_pg) -> None:
    """At the end of an uncached run: drop the seeded PostgreSQL database (`drop_pg(url)`)."""
    manifest = shared / "demo-postgresql" / "manifest.pickle"
    if not cached() and manifest.exists():
        drop_pg(pickle.loads(manifest.read_bytes())["url"])
