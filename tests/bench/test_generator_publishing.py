"""The publishing plug-in writes exactly what the portal's publisher would, and the public site
serves and finds it."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from bench.generate import generate
from portal.performance.models import Project
from portal.publishing import operations, snapshots
from portal.publishing.models import PublicationLog, PublishedFile, Snapshot

pytestmark = pytest.mark.commits  # the bulk loader commits and vacuums through connections of its own

FACETS = ("year", "project_code", "project_name", "department_ref", "department_name", "unit_name", "project_kind",
          "budget_type", "amount", "amount_band", "score", "grade", "rectification")


def test_generated_snapshots_are_what_the_publisher_would_write(db, app):
    generate(app.config["SQLALCHEMY_DATABASE_URI"], "tiny", seed=1, migrate=False, quiet=True)
    rows = db.session.scalars(sa.select(Snapshot).order_by(Snapshot.id)).all()
    assert {s.kind.value for s in rows} >= {"goals", "self_evaluation", "finance_evaluation", "report"}
    compared = 0
    for s in rows:
        project = db.session.get(Project, s.project_ref)
        data, files = snapshots.build(project, s.kind)
        if s.withdrawn:
            assert s.current and s.note and s.version == 2
            assert s.payload == {"project": data["project"], "kind": s.kind.value}
            continue
        if not s.current:  # the first, wrongly published version of a corrected goal table
            newer = db.session.scalar(sa.select(Snapshot).where(Snapshot.project_ref == s.project_ref,
                                                                Snapshot.kind == s.kind, Snapshot.current))
            assert newer.version == s.version + 1
            if newer.withdrawn:
                assert s.data == snapshots.dumps(data)
            else:
                assert newer.note and s.data != newer.data
            continue
        assert s.data == snapshots.dumps(data), (s.project_ref, s.kind)
        facets = {"score": None, "grade": None, "rectification": None,
                  **operations._facets(project, s.kind, data)}
        for name in FACETS:
            expected = facets[name]
            assert str(getattr(s, name)) == str(expected), (name, s.project_ref, s.kind)
        for a in files:
            copy = db.session.get(PublishedFile, a.sha256)
            assert copy.content.startswith(b"%PDF-") and copy.text == a.text and copy.size == len(copy.content)
        compared += 1
    assert compared >= 60
    # one log line per snapshot, each naming the finance officer
    log = db.session.scalars(sa.select(PublicationLog)).all()
    assert sorted(entry.snapshot_id for entry in log) == [s.id for s in rows]
    assert {entry.actor_name for entry in log} and all(entry.actor_id for entry in log)


def test_the_public_site_serves_and_finds_generated_snapshots(db, app, tmp_root):
    import shutil
    from pathlib import Path

    import public_site
    from portal.publishing.search import reindex
    from public_site import live
    from public_site.data import RENDERED
    from tests.conftest import app_config

    generate(app.config["SQLALCHEMY_DATABASE_URI"], "tiny", seed=1, migrate=False, quiet=True)
    index = Path(app.config["SEARCH_INDEX_DIR"])
    shutil.rmtree(index, ignore_errors=True)
    assert reindex() > 0
    public = public_site.create_app(app_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_root,
                                               SEARCH_INDEX_DIR=str(index)))
    RENDERED.clear()
    live.forget()
    report = db.session.scalars(sa.select(Snapshot).where(Snapshot.kind == "report")).first()
    client = public.test_client()
    page = client.get(f"/projects/{report.project_ref}")
    assert page.status_code == 200 and report.project_name in page.get_data(as_text=True)
    sha = report.payload["reports"][0]["sha256"]
    pdf = client.get(f"/reports/{sha}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    found = client.get("/search", query_string={"q": report.project_code})
    assert f'href="/projects/{report.project_ref}"' in found.get_data(as_text=True)
    shutil.rmtree(index, ignore_errors=True)
