"""复制上年指标 under real concurrency: a double submit (two requests of the same form at once,
with or without the same form key) copies last year's table once — the goal's row lock and the
version the form was built on refuse the second."""
import pytest
import sqlalchemy as sa

from portal.core.audit import AuditEntry
from portal.performance.models import GoalState, Indicator
from tests.concurrency import in_parallel, signed_in
from tests.factories import make_project
from tests.performance.conftest import with_version
from tests.performance.factories import make_goal

HX = {"HX-Request": "true"}


def _names(db, goal_id) -> list[tuple]:
    db.session.expire_all()
    return db.session.execute(sa.select(Indicator.level1, Indicator.level2, Indicator.name, Indicator.position)
                              .where(Indicator.goal_id == goal_id).order_by(Indicator.position)).all()


@pytest.mark.commits
@pytest.mark.parametrize("same_key", [True, False], ids=["same-form-key", "two-tabs"])
def test_a_double_submit_copies_last_years_table_once(app, db, world, same_key):
    old = make_goal(make_project(world.department, year=2025, code="P2025COPY", name="教师培训项目"),
                    state=GoalState.APPROVED)
    goal = make_goal(make_project(world.department, year=2026, code="P2025COPY", name="教师培训项目"), rows=[])
    db.session.commit()
    expected = [row[:3] for row in _names(db, old.id)]
    assert expected
    goal_id = goal.id
    forms = [with_version(db, goal, form_key="copy-1" if same_key else f"copy-{n}") for n in range(2)]
    clients = [signed_in(app, world.unit) for _ in range(2)]
    db.session.rollback()
    url = f"/goals/{goal_id}/copy-last-year"
    responses = in_parallel([lambda c=c, f=f: c.post(url, data=f, headers=HX)
                             for c, f in zip(clients, forms, strict=True)])
    codes = sorted(r.status_code for r in responses)
    assert codes in ([200, 200], [200, 422]), codes
    rows = _names(db, goal_id)
    assert [row[:3] for row in rows] == expected  # each of last year's rows once
    assert [row[3] for row in rows] == list(range(len(expected)))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "goal.copy_last_year")) == 1
