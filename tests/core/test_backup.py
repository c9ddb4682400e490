"""Backup and restore (portal/core/backup.py), on SQLite and PostgreSQL: create → a fresh empty
target → restore → verify, with real uploads, published snapshots and a sealed audit chain; and
what an operator gets wrong: restoring without the uploads, a damaged backup, a non-empty target,
someone else's keys."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from portal.core import audit, backup, jobs
from portal.core.attachments import Attachment, store_bytes
from portal.extensions import db as database
from portal.publishing import operations, search
from portal.publishing.models import Snapshot
from portal.publishing.search import health
from tests import factories
from tests.conftest import _create_pg_database, _drop_pg_database, _pg_server_url, app_config
from tests.publishing import corpus as corpus_module
from tests.publishing.conftest import index_dir  # noqa: F401  (fixture)

pytestmark = pytest.mark.commits  # backups and restores read and replace the database through their own connections

NOTE = "内部资料：项目绩效说明（备份测试）".encode()
KINDS = ["goals", "self_evaluation", "finance_evaluation", "report", "rectification"]


def _counts(conn) -> dict[str, int]:
    return {name: conn.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar_one()
            for name in sa.inspect(conn).get_table_names()}


@pytest.fixture()
def installation(db, world, app, index_dir):  # noqa: F811
    """Published projects (one withdrawn), attachments on disk, an audit chain with a checkpoint."""
    search.reindex()  # an (empty) index to apply publications to
    corpus = corpus_module.build(world)
    project = factories.make_project(world.department, name="备份测试项目")
    note = store_bytes("说明.txt", NOTE, actor=world.unit, record=project)
    audit.record_change(world.admin, "user.update", world.unit, before={"n": 0}, after={"n": 1})
    db.session.commit()
    operations.publish(2026, None, KINDS, actor=world.finance)
    db.session.commit()
    withdrawn = corpus["projects"]["canteen"].id
    for snapshot in db.session.scalars(sa.select(Snapshot).where(Snapshot.project_ref == withdrawn,
                                                                 Snapshot.current.is_(True))).all():
        operations.withdraw(snapshot, actor=world.finance, note="测试撤回")
    db.session.commit()
    search.apply_queue()
    audit.write_checkpoint()
    assert backup.verify_installation().problems == []
    # plain values: ORM objects of this app must not be touched inside the target app's context
    return {"note_id": note.id, "note_sha256": note.sha256, "withdrawn": withdrawn}


@pytest.fixture(scope="module")
def pg_target_url(app):
    """One scratch PostgreSQL database for this module's restores (emptied before each)."""
    if make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() != "postgresql":
        yield None
        return
    url = _create_pg_database()
    if url is None:
        pytest.skip(f"PostgreSQL not reachable at {_pg_server_url()}")
    yield url
    _drop_pg_database(url)


def _make_target(app, pg_target_url, tmp_path, *, migrated: bool):
    """A second app on a fresh, empty database of the same kind (blank, or migrated to head),
    with its own instance and uploads folders."""
    from portal import create_app
    from portal.core.migrations_check import upgrade

    if pg_target_url is not None:
        url = pg_target_url
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:  # what the previous test restored goes: a blank database
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = f"sqlite:///{tmp_path / 'restored.db'}"
    if migrated:
        upgrade(url)
    previous = jobs._app
    target_app = create_app(app_config(url, tmp_path / "target"))
    yield target_app
    jobs._app = previous
    with target_app.app_context():
        database.session.remove()
        database.engine.dispose()


@pytest.fixture()
def target(app, pg_target_url, tmp_path):
    yield from _make_target(app, pg_target_url, tmp_path, migrated=True)


@pytest.fixture()
def blank_target(app, pg_target_url, tmp_path):
    yield from _make_target(app, pg_target_url, tmp_path, migrated=False)


def test_create_restore_verify_round_trip(db, app, installation, target, tmp_path):
    directory = tmp_path / "backup"
    result = backup.create_backup(directory)
    assert result.directory == directory.resolve() and result.warnings == []
    assert not Path(f"{directory}.partial").exists()
    assert oct(directory.stat().st_mode & 0o777) == "0o700"

    manifest = json.loads((directory / "manifest.json").read_text())
    kind = db.engine.dialect.name
    with db.engine.connect() as conn:
        source_counts = _counts(conn)
        head = conn.execute(sa.select(sa.func.max(audit.AuditEntry.id))).scalar()
        last_org = conn.execute(sa.text("SELECT max(id) FROM organisations")).scalar()
    assert manifest["database"]["kind"] == kind
    assert manifest["database"]["file"] == ("database.dump" if kind == "postgresql" else "database.sqlite3")
    assert manifest["database"]["row_counts"] == source_counts
    assert manifest["database"]["alembic_revision"]
    note_id, sha256 = installation["note_id"], installation["note_sha256"]
    assert {"id": note_id, "sha256": sha256, "size": len(NOTE)} in manifest["attachments"]
    assert len(manifest["attachments"]) == source_counts["attachments"] >= 2
    assert manifest["files"][f"uploads/{sha256[:2]}/{sha256[2:4]}/{sha256}"]["size"] == len(NOTE)
    assert manifest["keys"] == {"secret_key": "keys/secret_key", "audit_key": "keys/audit_key"}
    assert (directory / "keys/audit_key").read_bytes() == audit.audit_key()
    assert (directory / "keys/secret_key").read_text() == app.config["SECRET_KEY"]
    assert oct((directory / "keys/audit_key").stat().st_mode & 0o777) == "0o600"
    assert json.loads((directory / "audit-checkpoints.jsonl").read_text().splitlines()[-1])["last_id"] == head
    assert not any(name.startswith(("index", "search")) for name in manifest["files"])  # rebuilt, not kept
    assert backup.verify_installation(directory).problems == []
    audit_key = audit.audit_key()
    db.session.commit()

    with target.app_context():
        restored = backup.restore_backup(directory)
        assert any("search reindex" in step for step in restored.next_steps)
        with database.engine.connect() as conn:
            assert _counts(conn) == source_counts
        copy = database.session.get(Attachment, note_id)
        assert copy.path.read_bytes() == NOTE and str(copy.path).startswith(target.config["UPLOAD_DIR"])
        assert audit.audit_key() == audit_key
        assert audit.verify().ok and audit.verify().checked == source_counts["audit_entries"]
        database.session.rollback()

        # the index is rebuilt, not restored: verify says so until it is
        problems = backup.verify_installation(directory).problems
        assert len(problems) == 1 and problems[0].startswith("search: no index") and "reindex" in problems[0]
        search.reindex()
        published = database.session.scalar(sa.select(sa.func.count(sa.distinct(Snapshot.project_ref)))
                                            .where(Snapshot.current.is_(True)))
        assert search.doc_count() == health.expected_index_documents() == published - 1  # one withdrawn
        assert backup.verify_installation(directory).problems == []
        database.session.rollback()

        # the restored database carries on: sequences, the chain and its checkpoints
        org = factories.make_org(name="恢复后新建机构")
        audit.record_change(None, "organisation.create", org, after={"name": org.name})
        database.session.commit()
        assert org.id > last_org
        audit.write_checkpoint()
        assert audit.verify().ok
        database.session.rollback()


def test_cli_create_and_verify_report_a_tampered_backup(db, app, installation, tmp_path):
    runner = app.test_cli_runner()
    directory = tmp_path / "nightly"
    created = runner.invoke(args=["backup", "create", "--to", str(directory)])
    assert created.exit_code == 0, created.output
    assert "backup written to" in created.output
    ok = runner.invoke(args=["backup", "verify", str(directory)])
    assert ok.exit_code == 0 and ok.output.startswith("OK: "), ok.output

    upload = next(p for p in (directory / "uploads").rglob("*") if p.is_file())
    upload.write_bytes(upload.read_bytes() + b"x")
    dump = directory / json.loads((directory / "manifest.json").read_text())["database"]["file"]
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    (directory / "uploads" / "stray.txt").write_text("not from the backup")

    report = runner.invoke(args=["backup", "verify", str(directory)])
    assert report.exit_code == 1
    lines = report.output.strip().splitlines()
    assert f"backup: {upload.relative_to(directory)} does not match its manifest (sha256 or size changed)" in lines
    assert f"backup: {dump.name} does not match its manifest (sha256 or size changed)" in lines
    assert "backup: uploads/stray.txt is not in the manifest" in lines
    assert len(lines) == 3  # one line per problem; the live installation itself is fine
    (directory / "keys" / "audit_key").unlink()
    assert "backup: keys/audit_key is missing" in backup.verify_installation(directory).problems

    refused = runner.invoke(args=["backup", "restore", str(directory)])
    assert refused.exit_code == 1 and "refusing to restore a damaged backup" in refused.output
    assert runner.invoke(args=["backup", "create", "--to", str(directory)]).exit_code == 1  # not over a backup


def test_restore_onto_a_non_empty_database_is_refused(db, app, installation, tmp_path):
    directory = tmp_path / "backup"
    backup.create_backup(directory)
    db.session.commit()
    with db.engine.connect() as conn:
        before = _counts(conn)
    result = app.test_cli_runner().invoke(args=["backup", "restore", str(directory)])
    assert result.exit_code == 1
    assert "refusing to restore: the target database is not empty (rows in organisations, users" in result.output
    with db.engine.connect() as conn:
        assert _counts(conn) == before


def test_restore_without_the_uploads_makes_verify_report_every_missing_file(db, app, installation, blank_target,
                                                                           tmp_path):
    target = blank_target  # restored into a blank database this time (not a migrated one)
    directory = tmp_path / "backup"
    backup.create_backup(directory)
    db.session.commit()
    with target.app_context():
        restored = backup.restore_backup(directory, uploads=False)
        assert any("--no-uploads" in w for w in restored.warnings)
        search.reindex()
        upload_dir = Path(target.config["UPLOAD_DIR"])
        assert not upload_dir.exists()
        rows = database.session.scalar(sa.select(sa.func.count()).select_from(Attachment))
        result = target.test_cli_runner().invoke(args=["backup", "verify"])
        assert result.exit_code == 1
        assert result.output.strip().splitlines() == [
            f"attachments: the uploads folder {upload_dir} is missing: all {rows} attachment files are absent "
            "(restore the backup's uploads/ into UPLOAD_DIR)"]

        # the folder is back, one file is not: that attachment is named
        note_id, sha256 = installation["note_id"], installation["note_sha256"]
        for name in json.loads((directory / "manifest.json").read_text())["files"]:
            if name.startswith("uploads/") and not name.endswith(sha256):
                (upload_dir / name.removeprefix("uploads/")).parent.mkdir(parents=True, exist_ok=True)
                (upload_dir / name.removeprefix("uploads/")).write_bytes((directory / name).read_bytes())
        problems = backup.verify_installation().problems
        path = database.session.get(Attachment, note_id).path
        assert problems == [f"attachments: #{note_id} 说明.txt: file missing ({path})"]
        database.session.rollback()


def test_keys_are_not_overwritten_unless_forced(db, app, installation, target, tmp_path, monkeypatch):
    directory = tmp_path / "backup"
    backup.create_backup(directory)
    db.session.commit()
    instance = Path(target.config["INSTANCE_DIR"])
    instance.mkdir(parents=True, exist_ok=True)
    (instance / "audit_key").write_text("someone-elses-key")
    (instance / "secret_key").write_text("another-secret")
    monkeypatch.setattr(backup, "_process_start", lambda: time.time() + 60)  # files older than the command
    with target.app_context():
        with pytest.raises(backup.BackupError) as refused:
            backup.restore_backup(directory)
        message = refused.value.message
        assert "refusing to overwrite keys" in message and "audit_key exists and differs" in message
        assert "secret_key exists and differs" in message
        with database.engine.connect() as conn:  # nothing was restored
            assert conn.execute(sa.text("SELECT count(*) FROM organisations")).scalar() == 0

        # a secret_key generated by this very command's start-up (a new host) is replaced quietly
        monkeypatch.setattr(backup, "_process_start", lambda: (instance / "secret_key").stat().st_mtime)
        with pytest.raises(backup.BackupError) as still:
            backup.restore_backup(directory)
        assert "secret_key" not in still.value.message and "audit_key exists" in still.value.message

        restored = backup.restore_backup(directory, force=True)
        assert any("overwritten (--force)" in w and "audit_key" in w for w in restored.warnings)
        assert (instance / "audit_key").read_bytes() == (directory / "keys/audit_key").read_bytes()
        assert (instance / "secret_key").read_text() == app.config["SECRET_KEY"]
        assert audit.verify().ok
        database.session.rollback()


def test_an_audit_key_from_the_environment_must_be_the_backups(db, app, installation, target, tmp_path):
    directory = tmp_path / "backup"
    backup.create_backup(directory)
    db.session.commit()
    target.config["AUDIT_KEY"] = "not-the-backups"
    with target.app_context():
        with pytest.raises(backup.BackupError, match="AUDIT_KEY in the environment is not the backup's"):
            backup.restore_backup(directory)
    assert not os.path.exists(Path(target.config["INSTANCE_DIR"]) / "audit_key")
