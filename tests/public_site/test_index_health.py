"""The search index heals itself: a deleted folder, a truncated segment and a held writer lock are
each made for real. Search is then either correct or says it is being rebuilt — never an empty
or partial result presented as complete — and the index is complete again without a command."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from portal.publishing import search
from portal.publishing.search import health
from tests.publishing.test_publishing import ALL

pytestmark = pytest.mark.commits  # background rebuilds and a subprocess read what the test committed


@pytest.fixture()
def published(db, world, corpus, index_dir, app):
    from portal.publishing import operations

    operations.publish(2026, None, ALL, actor=world.finance)
    db.session.commit()
    _wait_for_rebuilds()  # the publication found no index and started one ...
    search.reindex()  # ... and this one makes sure it holds every publication
    expected = health.expected_documents()
    assert expected > 5 and search.doc_count() == expected and health.check().state == "ok"
    return expected


def _wait_for_rebuilds() -> None:
    health.wait_for_rebuilds(120)


def _search_page(public_app, q="学校"):
    return public_app.test_client().get(f"/search?q={q}").get_data(as_text=True)


def test_a_deleted_index_folder_says_rebuilding_then_heals_without_a_command(published, public_app, index_dir):
    import shutil

    shutil.rmtree(index_dir)
    assert health.check().state == "missing"
    page = _search_page(public_app)
    assert "搜索索引正在重建" in page and "没有找到" not in page
    _wait_for_rebuilds()
    assert search.doc_count() == published and health.check().state == "ok"
    assert "没有找到" not in _search_page(public_app) and "搜索索引正在重建" not in _search_page(public_app)


def test_a_publication_never_creates_a_partial_index(published, db, world, index_dir, app):
    """Before: the next publication after a lost folder created an index holding 1 of 284."""
    import shutil

    from portal.publishing.models import SearchQueueItem

    shutil.rmtree(index_dir)
    db.session.add(SearchQueueItem(project_ref=1))
    db.session.commit()
    assert search.apply_queue() == 0  # nothing written into a fresh, nearly empty index ...
    _wait_for_rebuilds()  # ... the whole index is rebuilt instead
    assert search.doc_count() == published


def test_a_truncated_segment_is_detected_without_opening_it(published, public_app, index_dir):
    segment = max((p for p in index_dir.iterdir() if p.suffix == ".seg"), key=lambda p: p.stat().st_size)
    with segment.open("r+b") as handle:
        handle.truncate(segment.stat().st_size // 3)
    search.forget_views()
    assert health.check().state == "corrupt"
    assert search.current_view() is None  # never mapped into memory (that was a SIGBUS)
    assert "搜索索引正在重建" in _search_page(public_app)
    _wait_for_rebuilds()
    assert health.check().state == "ok" and search.doc_count() == published


def test_an_index_from_another_database_is_rebuilt(published, index_dir):
    import json

    manifest = json.loads((index_dir / health.MANIFEST).read_text())
    manifest["database"] = "0" * 32
    (index_dir / health.MANIFEST).write_text(json.dumps(manifest))
    assert health.check().state == "foreign"
    health.heal()
    _wait_for_rebuilds()
    assert health.check().state == "ok"


def test_a_held_writer_lock_times_out_and_the_queue_keeps_the_work(published, db, app, index_dir, monkeypatch):
    from portal.publishing.models import SearchQueueItem

    lock_file = index_dir.parent / (index_dir.name + ".writer.lock")
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, sys, time\n"
        f"h = open({str(lock_file)!r}, 'w'); fcntl.flock(h, fcntl.LOCK_EX)\n"
        "print('held', flush=True); time.sleep(60)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"  # another process (a stuck worker) holds it
        monkeypatch.setitem(app.config, "SEARCH_WRITER_TIMEOUT", 0.5)
        db.session.add(SearchQueueItem(project_ref=1))
        db.session.commit()
        with pytest.raises(search.IndexBusy):
            search.apply_queue()
        assert db.session.query(SearchQueueItem).count() == 1  # kept for the next attempt
    finally:
        holder.kill()
        holder.wait()
    assert search.apply_queue() == 1 and search.doc_count() == published


def test_readyz_reports_a_missing_index_and_recovers(published, client, index_dir):
    import shutil

    shutil.rmtree(index_dir)
    response = client.get("/readyz")
    assert response.status_code == 503 and response.get_json()["checks"]["search_index"] in ("missing", "rebuilding")
    _wait_for_rebuilds()
    assert client.get("/readyz").status_code == 200


def test_the_manifest_records_every_file_of_the_commit(published, index_dir):
    manifest = health.read_manifest(index_dir)
    on_disk = {p.name for p in Path(index_dir).iterdir() if p.is_file() and p.name != health.MANIFEST
               and not p.name.endswith(".lock")}
    assert set(manifest["files"]) == on_disk and manifest["documents"] == published



def _run_and_exit(script: str, app, index_dir, portal_dir) -> None:
    """`script` in a process of its own, on the test's database and index folders."""
    import os

    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "INSTANCE_DIR": str(portal_dir.parent),
           "SEARCH_INDEX_DIR": str(index_dir), "PORTAL_INDEX_DIR": str(portal_dir)}
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=120)


def test_a_command_that_finds_the_folder_lost_exits_with_the_index_whole(published, app, index_dir, tmp_path):
    """`flask search apply` on a lost folder starts the rebuild in the background and returns at
    once: the process must not exit (and kill the rebuild half-way) before the index is whole."""
    import shutil

    shutil.rmtree(index_dir)
    _run_and_exit("from portal import create_app\n"
                  "from portal.publishing import search\n"
                  "with create_app().app_context():\n"
                  "    assert search.apply_queue() == 0\n", app, index_dir, tmp_path / "portal-index")
    assert health.check().state == "ok" and search.doc_count() == published


def test_seed_demo_leaves_both_indexes_built(published, app, index_dir, tmp_path, monkeypatch):
    """`flask seed-demo` (what `make run` starts with) says it is done only once both indexes are
    complete, not left for the first searches to find "being rebuilt"."""
    import shutil

    from portal.search import index as portal_index

    shutil.rmtree(index_dir)
    portal_dir = tmp_path / "portal-index"
    _run_and_exit("from portal import create_app\n"
                  "from portal.cli import build_search_indexes\n"
                  "from portal.publishing.search import health\n"
                  "with create_app().app_context():\n"
                  "    health.heal(health.Status('missing'))\n"  # what the seeding's first publication starts
                  "    build_search_indexes()\n"
                  "    assert health.check().state == 'ok'\n", app, index_dir, portal_dir)
    assert health.check().state == "ok" and search.doc_count() == published
    monkeypatch.setitem(app.config, "PORTAL_INDEX_DIR", str(portal_dir))
    assert portal_index.health() == "ok"
