"""The joint overview: its figures equal counts computed independently; who may see it;
the dashboard panel; sections from other modules appear."""
import re
from datetime import date, timedelta

from portal.conference import operations as ops
from portal.conference.models import ActionState
from portal.core import clock
from portal.core.registry import OVERVIEW_SECTIONS, DashboardPanel
from tests.conference.conftest import make_action, make_document, make_meeting

TODAY = date(2026, 9, 15)


def figures(page: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-figure="(\w+)">(\d+)<', page)}


def test_overview_figures_equal_independent_counts(db, world, client, login):
    import random

    rng = random.Random(8)
    expected = {"meetings": 0, "actions": 0, "unfinished": 0, "overdue": 0, "due_soon": 0}
    with clock.frozen(TODAY):
        for month in (2, 5, 8):
            meeting = make_meeting(world, date(2026, month, 3))
            expected["meetings"] += 1
            for _i in range(4):
                due = TODAY + timedelta(days=rng.randint(-30, 30))
                action = make_action(world, meeting, due_date=due)
                final = rng.choice(["open", "start", "complete", "drop"])
                if final != "open":
                    ops.transition_action(action, final, actor=world.conference, comment="理由")
                expected["actions"] += 1
                if action.state in (ActionState.OPEN, ActionState.IN_PROGRESS):
                    expected["unfinished"] += 1
                    if due < TODAY:
                        expected["overdue"] += 1
                    elif due <= TODAY + timedelta(days=7):
                        expected["due_soon"] += 1
        last_year = make_meeting(world, date(2025, 11, 3))
        make_action(world, last_year, due_date=date(2025, 12, 1))  # overdue, but another year
        docs = [make_document(world, title=f"资料{i}", year=2026) for i in range(3)]
        make_document(world, title="上年资料", year=2025)
        for d in docs[:2]:
            ops.log_open(d, world.finance)
        db.session.commit()
        login(world.observer)
        page = client.get("/conference/overview?year=2026").get_data(as_text=True)
    got = figures(page)
    assert {k: got[k] for k in expected} == expected
    assert got["documents"] == 3 and got["opens"] == 2
    assert "<svg" in page and 'class="bar bar-done"' in page
    assert '/conference/actions?year=2026&amp;state=overdue' in page


OVERVIEW_MATRIX = {"conference": 200, "observer": 200, "finance": 200, "audit": 200, "admin": 200,
                   "unit": 403, "agency": 403, "expert": 403}


def test_who_sees_the_overview(db, world, client, login):
    for who, status in OVERVIEW_MATRIX.items():
        login(getattr(world, who))
        assert client.get("/conference/overview").status_code == status, who
        client.post("/logout")


def test_sections_of_other_modules_are_rendered(db, world, client, login):
    def letters_section(user, year):
        return f'<section class="panel"><h2>函询情况 {year}</h2></section>'

    OVERVIEW_SECTIONS.append(DashboardPanel(900, letters_section))
    try:
        login(world.conference)
        assert "函询情况 2024" in client.get("/conference/overview?year=2024").get_data(as_text=True)
        assert client.get("/conference/overview?year=abc").status_code == 200
    finally:
        OVERVIEW_SECTIONS.pop()


def test_dashboard_shows_my_actions_due(db, world, client, login):
    meeting = make_meeting(world)
    make_action(world, meeting, owner_org=world.department, text="教育局细化绩效目标", due_date=date(2020, 1, 1))
    make_action(world, meeting, owner_org=world.finance_bureau, text="财政局牵头建立机制")
    db.session.commit()
    login(world.unit)
    page = client.get("/").get_data(as_text=True)
    assert "我的议定事项" in page and "教育局细化绩效目标" in page and "逾期" in page
    assert "财政局牵头建立机制" not in page
    client.post("/logout")
    login(world.finance)
    page = client.get("/").get_data(as_text=True)
    assert "财政局牵头建立机制" in page and "教育局细化绩效目标" not in page
