"""The publishing preview (issue 18, item 8) leads with what would change against what is
published now: new, changed and withdrawn items, each a filter; the unchanged are folded."""
import re

import pytest
import sqlalchemy as sa

from portal.core import clock
from portal.performance.models import GoalState, PerformanceGoal, Project
from portal.publishing import operations
from portal.publishing.models import PublicationAction, PublicationLog, Snapshot, SnapshotState
from tests.factories import make_goal, make_project

pytestmark = pytest.mark.commits  # publishing starts the search index's rebuild thread (its own connection)

PREVIEW = "/publishing/?year=2026&department=0&kinds=goals"


def _approved(world, name):
    project = make_project(world.department, name=name)
    goal = make_goal(project, state=GoalState.APPROVED)
    goal.approved_at = clock.now()
    return project


@pytest.fixture()
def published(db, world):
    """Four projects against one publication of their goals: 甲 unchanged, 乙 changed since
    (its description), 丙 approved after it (new), 丁 returned for revision since (withdrawn)."""
    same, changed, gone = (_approved(world, n) for n in ("甲项目", "乙项目", "丁项目"))
    db.session.commit()
    operations.publish(2026, None, ["goals"], actor=world.finance)
    db.session.commit()
    changed.description = "更新后的项目概况"
    db.session.scalars(sa.select(PerformanceGoal).where(PerformanceGoal.project_id == gone.id)).one().state = \
        GoalState.RETURNED
    new = _approved(world, "丙项目")
    db.session.commit()
    return {"same": same, "changed": changed, "withdrawn": gone, "new": new}


def _counts(html: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'<strong data-count="(\w+)">(\d+)</strong>', html)}


def _opened(html: str) -> list[str]:
    """Projects whose public content the preview opens."""
    return re.findall(r'<article class="public-preview">\s*<h3>([^<]+)</h3>', html)


def _independent_counts(db) -> dict[str, int]:
    """From the tables themselves: approved goals against current published goal snapshots."""
    approved = set(db.session.scalars(sa.select(PerformanceGoal.project_id).join(Project).where(
        Project.year == 2026, PerformanceGoal.state == GoalState.APPROVED)))
    live = set(db.session.scalars(sa.select(Snapshot.project_ref).where(
        Snapshot.current.is_(True), Snapshot.state == SnapshotState.PUBLISHED, Snapshot.year == 2026)))
    return {"new": len(approved - live), "withdrawn": len(live - approved), "both": len(approved & live)}


def test_the_summary_counts_what_would_change_and_publishing_agrees(db, world, login, published):
    client = login(world.finance)
    html = client.get(PREVIEW).get_data(as_text=True)
    counts = _counts(html)
    independent = _independent_counts(db)
    assert counts == {"new": 1, "changed": 1, "withdrawn": 1, "same": 1}
    assert (counts["new"], counts["withdrawn"], counts["changed"] + counts["same"]) == (
        independent["new"], independent["withdrawn"], independent["both"])
    # new and changed are opened as the public will see them; the unchanged folded with their count
    assert sorted(_opened(html)) == ["丙项目", "乙项目"]
    folded = re.search(r'<details class="preview-unchanged">(.*?)</details>', html, re.S).group(1)
    assert "未变化 1 项" in folded and "甲项目" in folded
    assert "丁项目" in re.search(r'<section class="preview-withdrawn".*?</section>', html, re.S).group(0)
    assert "确认公开（新公开 1 项，更正 1 项）" in html

    # publishing writes exactly the new and the changed ones (the withdrawn one is withdrawn by hand)
    response = client.post("/publishing/publish", data={"year": 2026, "department": 0, "kinds": ["goals"],
                                                        "note": "项目概况更新。"})
    assert response.status_code == 302
    logged = dict(db.session.execute(sa.select(PublicationLog.action, sa.func.count())
                                     .group_by(PublicationLog.action)).all())
    assert logged[PublicationAction.CORRECT] == counts["changed"]
    assert logged[PublicationAction.PUBLISH] == 3 + counts["new"]  # the first publication's three, then 丙
    after = _counts(client.get(PREVIEW).get_data(as_text=True))
    assert after == {"new": 0, "changed": 0, "withdrawn": 1, "same": 3}


def test_each_count_is_a_filter(db, world, login, published):
    client = login(world.finance)
    new = client.get(PREVIEW + "&show=new").get_data(as_text=True)
    assert _opened(new) == ["丙项目"] and "preview-unchanged" not in new and "preview-withdrawn" not in new
    assert re.search(r'href="[^"]*show=new[^"]*" aria-current="true"', new)  # the filter shown is marked
    changed = client.get(PREVIEW + "&show=changed").get_data(as_text=True)
    assert _opened(changed) == ["乙项目"]
    gone = client.get(PREVIEW + "&show=withdrawn").get_data(as_text=True)
    assert _opened(gone) == [] and "丁项目" in gone and "preview-unchanged" not in gone
    snapshot = db.session.scalars(sa.select(Snapshot).where(Snapshot.project_ref == published["withdrawn"].id)).one()
    assert f'/publishing/snapshots/{snapshot.id}/withdraw' in gone
    same = client.get(PREVIEW + "&show=same").get_data(as_text=True)
    assert _opened(same) == [] and '<details class="preview-unchanged" open>' in same and "甲项目" in same
    # the summary stays whole under every filter
    assert _counts(same) == _counts(new) == {"new": 1, "changed": 1, "withdrawn": 1, "same": 1}
    # an unknown filter shows everything
    assert sorted(_opened(client.get(PREVIEW + "&show=bogus").get_data(as_text=True))) == ["丙项目", "乙项目"]
