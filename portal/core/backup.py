# Over 400 lines: create, restore and verify share the manifest format and must change together.
"""Backup and restore as commands: `flask --app portal backup create|restore|verify`.

A backup is one directory (default `INSTANCE_DIR/backups/<UTC timestamp>/`, mode 0700)::

    manifest.json            created time, database kind, alembic revision, row counts per table,
                             every attachment row's sha256 and size, every file below with its sha256
    database.dump            PostgreSQL: `pg_dump -Fc` (custom format, for pg_restore)
    database.sqlite3         SQLite: a copy made with SQLite's online backup API, never a file copy
    uploads/ab/cd/abcd…      the files of the attachment rows in the dump, stored by SHA-256 as in
                             UPLOAD_DIR (portal/core/attachments.py `storage_path`)
    keys/secret_key          the SECRET_KEY in use, unless it comes from the environment
    keys/audit_key           the audit seal's key in use, unless AUDIT_KEY comes from the environment
    audit-checkpoints.jsonl  the audit checkpoint file (`portal.core.audit.checkpoint_file()`)

The search index is not backed up: it is rebuilt from the snapshots (`flask search reindex`).

Consistency. `create` first writes a fresh audit checkpoint and copies the checkpoint file and the
keys, then takes the database snapshot, then copies the uploads: so the restored chain always
contains the newest checkpoint it is checked against, and every attachment row in the snapshot
already had its file (a file is written before its row commits; files are never deleted). On
PostgreSQL the row counts and attachment list are read in the very transaction whose snapshot
pg_dump uses (`pg_export_snapshot()` + `pg_dump --snapshot`); on SQLite they are read from the copy.
A backup is built in `<dir>.partial` and renamed when complete, so a half-written one never looks
finished.

Restore goes onto an *empty* database: a new one (a new PostgreSQL database, a new SQLite file)
or one just migrated (`flask db upgrade`) that holds no rows outside `alembic_version`; anything
else is refused. PostgreSQL: `pg_restore --clean --if-exists --single-transaction` replaces the
(empty) schema of a migrated target by the backup's own, and is a plain restore on a blank one; a
migrated target at another revision than the backup's is refused (tables of the other revision
would survive the restore). SQLite: the backup API copies the backup into the target file, which
replaces whatever schema the target had. The backup's files are checked against its manifest
before anything is written. Keys: an existing, different key file is not overwritten without
`--force` (except a `secret_key` that this very command's start-up generated, see
`_made_by_this_process`); an AUDIT_KEY in the environment that is not the backup's is refused
too (the restored chain would not verify).

`verify` checks the live installation: every attachment row has its file with the right hash and
size, the audit chain verifies, the search index holds one document per project with a live
(current, published) snapshot; with a backup directory also that its files match its manifest.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.engine import make_url

from portal.extensions import db

FORMAT = 1
MANIFEST = "manifest.json"
PG_FILE = "database.dump"
SQLITE_FILE = "database.sqlite3"
UPLOADS = "uploads"
SECRET_FILE = "keys/secret_key"
AUDIT_KEY_FILE = "keys/audit_key"
CHECKPOINT_FILE = "audit-checkpoints.jsonl"
MAX_LINES = 100  # problems of one kind listed one by one, the rest counted


class BackupError(click.ClickException):
    """A refusal or failure with a message for the operator (exit code 1)."""


# ---- small helpers ---------------------------------------------------------------------------

def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _relative_upload(sha256: str) -> str:
    return f"{UPLOADS}/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, path)


def _copy_file(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def _kind(url) -> str:
    return make_url(url).get_backend_name()


def _sqlite_path(url) -> Path:
    name = make_url(url).database
    if not name or name == ":memory:" or name.startswith("file::memory:"):
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(name).resolve()


def _libpq(url) -> tuple[str, dict]:
    """(connection URI without the password, environment with PGPASSWORD) for pg_dump/pg_restore."""
    url = make_url(url)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _pg_tool(name: str) -> str:
    return os.environ.get(name.upper()) or shutil.which(name) or f"/usr/bin/{name}"


def _run(command: list[str], env: dict) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError as error:
        raise BackupError(f"{command[0]} not found (install the PostgreSQL client, or set "
                          f"{Path(command[0]).name.upper()} to its path)") from error
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed ({done.returncode}): {done.stderr.strip()}")


def _secret_from_environment() -> bool:
    return bool(os.environ.get("SECRET_KEY"))


def _audit_key_from_environment() -> bool:
    return bool(current_app.config.get("AUDIT_KEY"))


def _instance() -> Path:
    return Path(current_app.config["INSTANCE_DIR"])


def _process_start() -> float | None:
    """When this process started (Linux /proc), or None where that cannot be read."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[19])  # field 22, starttime, in clock ticks after boot
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _made_by_this_process(path: Path) -> bool:
    """Was `path` written since this process started? `flask … backup restore` on a new host
    generates instance/secret_key at start-up (portal/config.py); that key protects nothing yet."""
    started = _process_start()
    return started is not None and path.stat().st_mtime >= started - 1


# ---- reading a database ----------------------------------------------------------------------

def _table_names(conn) -> list[str]:
    return sorted(sa.inspect(conn).get_table_names())


def _row_counts(conn) -> dict[str, int]:
    return {name: conn.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar_one()
            for name in _table_names(conn)}


def _revision(conn) -> str | None:
    if "alembic_version" not in _table_names(conn):
        return None
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def _attachment_rows(conn) -> list[dict]:
    if "attachments" not in _table_names(conn):
        return []
    rows = conn.execute(sa.text("SELECT id, sha256, size FROM attachments ORDER BY id")).all()
    return [{"id": row.id, "sha256": row.sha256, "size": row.size} for row in rows]


def _database_facts(conn) -> dict:
    return {"revision": _revision(conn), "row_counts": _row_counts(conn), "attachments": _attachment_rows(conn)}


# ---- create ----------------------------------------------------------------------------------

@dataclass
class BackupResult:
    directory: Path
    manifest: dict
    warnings: list[str] = field(default_factory=list)


def default_directory() -> Path:
    return _instance() / "backups" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def create_backup(directory: str | Path | None = None, *, keys: bool = True) -> BackupResult:
    """Back up the database, the uploads of its attachments, the keys and the audit checkpoints
    into `directory` (which must not exist or be empty). Call inside an application context."""
    from portal.core import audit

    target = Path(directory) if directory is not None else default_directory()
    target = target.resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} already exists and is not empty: choose a new directory")
    work = target.with_name(target.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, mode=0o700)
    warnings: list[str] = []
    try:
        manifest = {"format": FORMAT, "created_at": datetime.now(UTC).isoformat(timespec="seconds")}

        # 1. the audit checkpoint (fresh) and the keys: before the database snapshot
        audit.write_checkpoint()
        source = audit.checkpoint_file()
        if source.exists():
            text = source.read_text(encoding="utf-8")
            complete = text[: text.rfind("\n") + 1]  # an append in progress leaves a partial last line
            _write_private(work / CHECKPOINT_FILE, complete.encode("utf-8"))
            manifest["audit_checkpoint_file"] = CHECKPOINT_FILE
        else:
            manifest["audit_checkpoint_file"] = None
        manifest["keys"] = _backup_keys(work, keys)

        # 2. the database
        url = current_app.config["SQLALCHEMY_DATABASE_URI"]
        kind = _kind(url)
        db.session.rollback()
        if kind == "postgresql":
            facts = _dump_postgresql(url, work / PG_FILE)
            database_file = PG_FILE
        elif kind == "sqlite":
            facts = _copy_sqlite(url, work / SQLITE_FILE)
            database_file = SQLITE_FILE
        else:
            raise BackupError(f"no backup method for a {kind} database")
        manifest["database"] = {"kind": kind, "file": database_file, "alembic_revision": facts["revision"],
                                "row_counts": facts["row_counts"]}
        manifest["attachments"] = facts["attachments"]

        # 3. the uploads of those attachment rows
        manifest["missing_attachments"] = _backup_uploads(work, facts["attachments"], warnings)

        manifest["files"] = {
            str(path.relative_to(work)): {"sha256": _sha256_file(path), "size": path.stat().st_size}
            for path in sorted(work.rglob("*")) if path.is_file()
        }
        (work / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        if target.exists():
            target.rmdir()
        work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return BackupResult(target, manifest, warnings)


def _backup_keys(work: Path, include: bool) -> dict:
    from portal.core import audit

    if not include:
        return {"secret_key": "omitted", "audit_key": "omitted"}
    keys = {}
    if _secret_from_environment():
        keys["secret_key"] = "environment"
    else:
        _write_private(work / SECRET_FILE, current_app.config["SECRET_KEY"].encode("utf-8"))
        keys["secret_key"] = SECRET_FILE
    if _audit_key_from_environment():
        keys["audit_key"] = "environment"
    else:
        _write_private(work / AUDIT_KEY_FILE, audit.audit_key())
        keys["audit_key"] = AUDIT_KEY_FILE
    return keys


def _dump_postgresql(url, out: Path) -> dict:
    """pg_dump -Fc inside a snapshot exported by the transaction that reads the counts."""
    uri, env = _libpq(url)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
            conn.execute(sa.text("SET TRANSACTION READ ONLY"))
            snapshot = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
            _run([_pg_tool("pg_dump"), "-Fc", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                  "-f", str(out), "--dbname", uri], env)
            return _database_facts(conn)
    finally:
        engine.dispose()


def _copy_sqlite(url, out: Path) -> dict:
    path = _sqlite_path(url)
    if not path.exists():
        raise BackupError(f"the SQLite database {path} does not exist")
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as source, \
            closing(sqlite3.connect(out, isolation_level=None)) as copy:
        source.backup(copy)  # one step: a consistent copy even while others write
        check = copy.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"the copy of {path} fails SQLite's quick_check: {check}")
        # one self-contained file (no -wal/-shm beside it, whatever the live database uses)
        copy.execute("PRAGMA journal_mode=DELETE")
        return _sqlite_facts(copy)


def _sqlite_facts(conn: sqlite3.Connection) -> dict:
    """_database_facts on a plain sqlite3 connection (the app's engines would switch it to WAL)."""
    names = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite~_%' ESCAPE '~' ORDER BY name")]
    counts = {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}
    revision = (conn.execute("SELECT version_num FROM alembic_version").fetchone() or (None,))[0] \
        if "alembic_version" in names else None
    attachments = [{"id": i, "sha256": sha, "size": size} for i, sha, size in
                   conn.execute("SELECT id, sha256, size FROM attachments ORDER BY id")] if "attachments" in names else []
    return {"revision": revision, "row_counts": counts, "attachments": attachments}


def _backup_uploads(work: Path, attachments: list[dict], warnings: list[str]) -> list[str]:
    from portal.core.attachments import storage_path

    missing = []
    for sha256 in sorted({row["sha256"] for row in attachments}):
        source = storage_path(sha256)
        if not source.is_file():
            missing.append(sha256)
            warnings.append(f"attachment file {sha256} is missing from {source.parent}: not in the backup")
            continue
        target = work / _relative_upload(sha256)
        _copy_file(source, target)
        if _sha256_file(target) != sha256:
            warnings.append(f"attachment file {source} does not match its hash (damaged): copied as it is")
    return missing


# ---- checking a backup directory -------------------------------------------------------------

def load_manifest(directory: str | Path) -> dict:
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise BackupError(f"{path} not found: not a backup directory")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise BackupError(f"{path} is not valid JSON: {error}") from error
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: unknown backup format {manifest.get('format')!r}")
    return manifest


def check_backup(directory: str | Path) -> list[str]:
    """Problems with a backup directory: files missing, changed or unexpected against its manifest."""
    directory = Path(directory)
    try:
        manifest = load_manifest(directory)
    except BackupError as error:
        return [error.message]
    problems = []
    files = manifest.get("files", {})
    for name, expected in sorted(files.items()):
        path = directory / name
        if not path.is_file():
            problems.append(f"backup: {name} is missing")
        elif path.stat().st_size != expected["size"] or _sha256_file(path) != expected["sha256"]:
            problems.append(f"backup: {name} does not match its manifest (sha256 or size changed)")
    for path in sorted(directory.rglob("*")):
        name = str(path.relative_to(directory))
        if path.is_file() and name != MANIFEST and name not in files:
            problems.append(f"backup: {name} is not in the manifest")
    database = manifest.get("database", {})
    if database.get("file") not in files:
        problems.append("backup: the manifest lists no database file")
    missing = set(manifest.get("missing_attachments", []))
    for sha256 in sorted({row["sha256"] for row in manifest.get("attachments", [])} - missing):
        if _relative_upload(sha256) not in files:
            problems.append(f"backup: attachment file {sha256} is in the manifest's attachments but not its files")
    for sha256 in sorted(missing):
        problems.append(f"backup: attachment file {sha256} was already missing when the backup was made")
    return problems


# ---- restore ---------------------------------------------------------------------------------

@dataclass
class RestoreResult:
    kind: str
    revision: str | None
    rows: int
    uploads: int
    restored: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)


def _target_rows(engine) -> tuple[list[str], str | None]:
    """(tables other than alembic_version that hold rows, the target's alembic revision)."""
    with engine.connect() as conn:
        names = _table_names(conn)
        first = [n for n in ("organisations", "users") if n in names]
        full = [name for name in first + [n for n in names if n not in first and n != "alembic_version"]
                if conn.execute(sa.select(sa.literal(1)).select_from(sa.table(name)).limit(1)).first()]
        return full, _revision(conn)


def _refuse_unless_empty(manifest: dict) -> None:
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    kind = _kind(url)
    if kind != manifest["database"]["kind"]:
        raise BackupError(f"the backup holds a {manifest['database']['kind']} database; the target "
                          f"(SQLALCHEMY_DATABASE_URI) is {kind}")
    db.session.remove()
    full, revision = _target_rows(db.engine)
    if full:
        shown = ", ".join(full[:6]) + (f" and {len(full) - 6} more tables" if len(full) > 6 else "")
        raise BackupError(
            f"refusing to restore: the target database is not empty (rows in {shown}). Restore onto an "
            "empty database: a new one, or one just migrated with `flask --app portal db upgrade`.")
    wanted = manifest["database"].get("alembic_revision")
    if kind == "postgresql" and revision is not None and revision != wanted:
        raise BackupError(
            f"refusing to restore: the target database is migrated to revision {revision}, the backup is at "
            f"{wanted}. Restore into a new (blank) database, or one migrated to {wanted}.")


def _key_conflicts(directory: Path, manifest: dict, force: bool, warnings: list[str]) -> list[str]:
    from portal.core import audit

    problems = []
    keys = manifest.get("keys", {})
    if keys.get("secret_key") == SECRET_FILE:
        wanted = (directory / SECRET_FILE).read_text().strip()
        existing = _instance() / "secret_key"
        if _secret_from_environment():
            if os.environ["SECRET_KEY"] != wanted:
                warnings.append("SECRET_KEY in the environment is not the backup's secret key: sessions and "
                                f"signed links from before the backup are void (the backup's is in {SECRET_FILE})")
        elif existing.exists() and existing.read_text().strip() != wanted and not _made_by_this_process(existing):
            problems.append(f"{existing} exists and differs from the backup's secret key")
    if keys.get("audit_key") == AUDIT_KEY_FILE:
        wanted = (directory / AUDIT_KEY_FILE).read_text().strip()
        existing = _instance() / "audit_key"
        if _audit_key_from_environment():
            if current_app.config["AUDIT_KEY"] != wanted:
                problems.append("AUDIT_KEY in the environment is not the backup's audit key: the restored audit "
                                f"chain would not verify (set AUDIT_KEY to the content of {AUDIT_KEY_FILE})")
        elif existing.exists() and existing.read_text().strip() != wanted:
            problems.append(f"{existing} exists and differs from the backup's audit key")
    if manifest.get("audit_checkpoint_file"):
        existing = audit.checkpoint_file()
        if existing.exists() and existing.read_bytes() != (directory / CHECKPOINT_FILE).read_bytes():
            problems.append(f"{existing} exists and differs from the backup's audit checkpoints")
    if problems and force:
        warnings += [f"overwritten (--force): {problem}" for problem in problems]
        return []
    return problems


def restore_backup(directory: str | Path, *, force: bool = False, uploads: bool = True) -> RestoreResult:
    """Restore a backup into this application's (empty) database, UPLOAD_DIR and instance folder.
    Call inside an application context; the session is removed and the engine's pool disposed."""
    directory = Path(directory).resolve()
    manifest = load_manifest(directory)
    problems = check_backup(directory)
    damaged = [p for p in problems if "already missing when the backup was made" not in p]
    if damaged:
        raise BackupError("refusing to restore a damaged backup:\n" + "\n".join(damaged))
    _refuse_unless_empty(manifest)
    warnings = [p for p in problems if p not in damaged]
    conflicts = _key_conflicts(directory, manifest, force, warnings)
    if conflicts:
        raise BackupError("refusing to overwrite keys (use --force if the backup's keys are the ones to keep):\n"
                          + "\n".join(conflicts))

    database = manifest["database"]
    result = RestoreResult(kind=database["kind"], revision=database.get("alembic_revision"),
                           rows=sum(database.get("row_counts", {}).values()), uploads=0, warnings=warnings)
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    db.session.remove()
    db.engine.dispose()
    if result.kind == "postgresql":
        uri, env = _libpq(url)
        _run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
              "--single-transaction", "--exit-on-error", "--dbname", uri, str(directory / database["file"])], env)
    else:
        path = _sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        backup_file = f"{(directory / database['file']).as_uri()}?mode=ro&immutable=1"  # never -wal/-shm here
        with closing(sqlite3.connect(backup_file, uri=True)) as source, \
                closing(sqlite3.connect(path)) as target:
            source.backup(target)
    db.engine.dispose()
    result.restored.append(f"database ({result.kind}, revision {result.revision}, {result.rows} rows)")

    if uploads:
        result.uploads = _restore_uploads(directory, manifest)
        result.restored.append(f"{result.uploads} attachment files into {current_app.config['UPLOAD_DIR']}")
    else:
        result.warnings.append("uploads not restored (--no-uploads): copy them into UPLOAD_DIR before going live")
    result.restored += _restore_keys(directory, manifest)

    result.next_steps = [
        "flask --app portal db upgrade        # when this code is newer than the backup's revision",
        "flask --app portal search reindex    # the search index is rebuilt, never restored",
        f"flask --app portal backup verify {directory}",
        "then start the web servers and the worker",
    ]
    return result


def _restore_uploads(directory: Path, manifest: dict) -> int:
    upload_dir = Path(current_app.config["UPLOAD_DIR"])
    count = 0
    for name, expected in sorted(manifest["files"].items()):
        if not name.startswith(UPLOADS + "/"):
            continue
        target = upload_dir / Path(name).relative_to(UPLOADS)
        if not (target.is_file() and _sha256_file(target) == expected["sha256"]):
            _copy_file(directory / name, target)
        count += 1
    return count


def _restore_keys(directory: Path, manifest: dict) -> list[str]:
    from portal.core import audit

    done = []
    keys = manifest.get("keys", {})
    if keys.get("secret_key") == SECRET_FILE and not _secret_from_environment():
        _write_private(_instance() / "secret_key", (directory / SECRET_FILE).read_bytes())
        done.append("secret key")
    if keys.get("audit_key") == AUDIT_KEY_FILE and not _audit_key_from_environment():
        _write_private(_instance() / "audit_key", (directory / AUDIT_KEY_FILE).read_bytes())
        done.append("audit key")
    if manifest.get("audit_checkpoint_file"):
        _write_private(audit.checkpoint_file(), (directory / CHECKPOINT_FILE).read_bytes())
        done.append("audit checkpoints")
    for name, where in keys.items():
        if where in ("environment", "omitted"):
            done.append(f"{name}: {'from the environment' if where == 'environment' else 'not in this backup'}"
                        " (provide it as before)")
    return done


# ---- verify ----------------------------------------------------------------------------------

@dataclass
class VerifyReport:
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_attachments(report: VerifyReport) -> None:
    from portal.core.attachments import Attachment, storage_path

    rows = db.session.execute(sa.select(Attachment.id, Attachment.filename, Attachment.sha256, Attachment.size)
                              .order_by(Attachment.id)).all()
    db.session.rollback()
    upload_dir = Path(current_app.config["UPLOAD_DIR"])
    if rows and not upload_dir.is_dir():
        report.problems.append(f"attachments: the uploads folder {upload_dir} is missing: all {len(rows)} "
                               "attachment files are absent (restore the backup's uploads/ into UPLOAD_DIR)")
        return
    bad, hashes = [], {}
    for row in rows:
        path = storage_path(row.sha256)
        if not path.is_file():
            bad.append(f"attachments: #{row.id} {row.filename}: file missing ({path})")
            continue
        if row.sha256 not in hashes:
            hashes[row.sha256] = _sha256_file(path), path.stat().st_size
        digest, size = hashes[row.sha256]
        if digest != row.sha256 or size != row.size:
            bad.append(f"attachments: #{row.id} {row.filename}: file does not match its hash or size ({path})")
    report.problems += bad[:MAX_LINES]
    if len(bad) > MAX_LINES:
        report.problems.append(f"attachments: … and {len(bad) - MAX_LINES} more attachment files missing or damaged")
    report.checked.append(f"{len(rows)} attachment files")


def _check_audit(report: VerifyReport) -> None:
    from portal.core import audit

    result = audit.verify()
    db.session.rollback()
    report.problems += [f"audit: {problem}" for problem in result.problems]
    report.checked.append(f"audit chain of {result.checked} entries")


def add_verify_check(app, check) -> None:
    """Modules add their own installation checks, `check(report)` (the search index against the
    live snapshots): core knows no module."""
    app.extensions.setdefault("verify_checks", []).append(check)


def verify_installation(directory: str | Path | None = None) -> VerifyReport:
    """Attachments against their files, the audit chain, the search index against the live
    snapshots; with `directory`, also that backup's files against its manifest."""
    report = VerifyReport()
    _check_attachments(report)
    _check_audit(report)
    for check in current_app.extensions.get("verify_checks", []):
        check(report)
    if directory is not None:
        report.problems += check_backup(directory)
        report.checked.append(f"backup {directory} against its manifest")
    return report


# ---- commands --------------------------------------------------------------------------------

backup = click.Group("backup", help="Back up, restore and verify the database, uploads and keys.")


@backup.command("create")
@click.option("--to", "directory", type=click.Path(file_okay=False), default=None,
              help="Backup directory (default: INSTANCE_DIR/backups/<UTC timestamp>).")
@click.option("--no-keys", is_flag=True, help="Leave the secret and audit keys out (kept elsewhere).")
def create_command(directory, no_keys):
    """Back up the database (pg_dump / SQLite backup API), uploads, keys and audit checkpoints."""
    result = create_backup(directory, keys=not no_keys)
    for warning in result.warnings:
        click.echo(f"WARNING: {warning}", err=True)
    database = result.manifest["database"]
    click.echo(f"backup written to {result.directory}: {database['kind']} database at revision "
               f"{database['alembic_revision']}, {sum(database['row_counts'].values())} rows, "
               f"{len(result.manifest['attachments'])} attachments, {len(result.manifest['files'])} files")
    if not no_keys:
        click.echo("It holds the keys (keys/): store it encrypted, and keep a copy of the keys apart.")


@backup.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--force", is_flag=True, help="Overwrite existing, different key and checkpoint files.")
@click.option("--no-uploads", is_flag=True, help="Leave UPLOAD_DIR alone (the uploads are restored separately).")
def restore_command(directory, force, no_uploads):
    """Restore a backup onto an EMPTY database, then the uploads, keys and checkpoints."""
    result = restore_backup(directory, force=force, uploads=not no_uploads)
    for line in result.restored:
        click.echo(f"restored: {line}")
    for warning in result.warnings:
        click.echo(f"WARNING: {warning}", err=True)
    click.echo("Next:")
    for step in result.next_steps:
        click.echo(f"  {step}")


@backup.command("verify")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def verify_command(directory):
    """Check attachments, the audit chain and the search index (and DIRECTORY against its manifest)."""
    report = verify_installation(directory)
    if report.ok:
        click.echo("OK: " + ", ".join(report.checked))
        return
    for problem in report.problems:
        click.echo(problem)
    raise SystemExit(1)


def register(app) -> None:
    app.cli.add_command(backup)
