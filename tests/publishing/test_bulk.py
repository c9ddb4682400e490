"""The published list's bulk bar (issue 18): 撤回 the ticked snapshots with one public note, each
through `withdraw`; a snapshot withdrawn already is named with the reason, the others are done."""
import pytest
import sqlalchemy as sa

from portal.core.audit import AuditEntry, record_key
from portal.publishing import operations
from portal.publishing.models import PublicationKind, Snapshot, SnapshotState

pytestmark = pytest.mark.commits  # publishing starts the search index's rebuild thread (its own connection)

NOTE = "评价报告正在复核，暂时撤回。"


def _current(db, project_ref, kind):
    db.session.expire_all()
    return db.session.scalars(sa.select(Snapshot).where(Snapshot.project_ref == project_ref, Snapshot.kind == kind,
                                                        Snapshot.current.is_(True))).one()


def _withdrawals(db, snapshot):
    record_type, record_id = record_key(snapshot)
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "publishing.withdraw", AuditEntry.record_type == record_type,
        AuditEntry.record_id == record_id))


@pytest.fixture()
def published(db, world, corpus):
    operations.publish(2026, None, ["goals", "finance_evaluation"], actor=world.finance)
    db.session.commit()
    oldtown, shack = corpus["projects"]["oldtown"], corpus["projects"]["shack"]
    return {"first": _current(db, oldtown.id, PublicationKind.FINANCE_EVALUATION),
            "second": _current(db, shack.id, PublicationKind.GOALS),
            "third": _current(db, oldtown.id, PublicationKind.GOALS)}


def test_withdraw_the_ticked_and_name_the_one_withdrawn_already(db, world, login, published):
    first, second, third = published["first"], published["second"], published["third"]
    operations.withdraw(third, actor=world.finance, note="已撤回")
    db.session.commit()
    client = login(world.finance)
    listing = client.get("/publishing/published").get_data(as_text=True)
    assert 'action="/publishing/published/withdraw"' in listing and f'name="ids" value="{first.id}"' in listing
    response = client.post("/publishing/published/withdraw", data={
        "ids": [first.id, second.id, third.id, 999_999], "comment": NOTE, "back": "/publishing/published?year=2026"},
        follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.request.path == "/publishing/published"
    assert "已办理 2 项。" in page
    assert f"{third.project_name}（{third.kind.label}） 未办理：只能撤回当前公开的版本。" in page
    assert "1 项所选记录不存在或无权办理。" in page  # the unknown id counted, not named
    for snapshot in (first, second):
        now = _current(db, snapshot.project_ref, snapshot.kind)
        assert (now.version, now.state, now.note) == (snapshot.version + 1, SnapshotState.WITHDRAWN, NOTE)
        assert _withdrawals(db, now) == 1  # one audit entry per row
    again = _current(db, third.project_ref, third.kind)
    assert again.version == third.version + 1 and again.note == "已撤回"  # not withdrawn a second time


def test_no_note_withdraws_nothing(db, world, login, published):
    first = published["first"]
    client = login(world.finance)
    page = client.post("/publishing/published/withdraw", data={"ids": [first.id], "comment": "  "},
                       follow_redirects=True).get_data(as_text=True)
    assert "请填写撤回说明（将向公众公示）。" in page and "已办理" not in page
    assert _current(db, first.project_ref, first.kind).id == first.id


@pytest.mark.parametrize("who", ["admin", "unit"])
def test_who_may_not_withdraw_is_refused(db, world, login, published, who):
    first = published["first"]
    client = login(getattr(world, who))
    if who == "admin":  # reads the published list, without the bar
        assert 'action="/publishing/published/withdraw"' not in client.get("/publishing/published").get_data(as_text=True)
    assert client.post("/publishing/published/withdraw", data={"ids": [first.id], "comment": NOTE}).status_code == 403
    assert _current(db, first.project_ref, first.kind).id == first.id


def test_a_tampered_bar_changes_nothing(db, world, login, published):
    first = published["first"]
    client = login(world.finance)
    assert client.post("/publishing/published/withdraw", data={"ids": ["1; drop"], "comment": NOTE}).status_code == 400
    assert _current(db, first.project_ref, first.kind).id == first.id
