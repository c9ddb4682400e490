"""At province scale the work assessment scores the county finance bureaus (县（市、区）财政局: a
finance bureau under the province's) beside the province's own departments: a county's card sums
the departments under it (which get no card of their own), counties are ranked among
themselves, the 通报 has their section, and the county bureau is told when it is circulated."""
from __future__ import annotations

import io
from datetime import datetime

import sqlalchemy as sa
from docx import Document

from portal.accounts.models import OrgKind, Role
from portal.core.notifications import Notification
from portal.core.roles import is_county_bureau
from portal.extensions import db
from portal.oversight import operations
from portal.oversight.models import SubjectKind
from portal.performance.models import GoalState, PerformanceGoal, Project
from tests.factories import make_org, make_project, make_user
from tests.performance.factories import make_goal

YEAR = 2026


def _province(world):
    """Two counties under the province's finance bureau (world.finance_bureau): 清阳县 with two
    departments (one with a subordinate unit), 桃源市 with one; and the province's own department."""
    counties = {}
    for code, name, departments in (("C01", "清阳县财政局", ["清阳县教育局", "清阳县卫生健康局"]),
                                    ("C02", "桃源市财政局", ["桃源市教育局"])):
        bureau = make_org(OrgKind.FINANCE_BUREAU, name, parent=world.finance_bureau, code=code)
        depts = [make_org(OrgKind.BUDGET_UNIT, d, parent=bureau, code=f"{code}{n}") for n, d in enumerate(departments)]
        counties[name] = (bureau, depts)
    qingyang, (edu, health) = counties["清阳县财政局"]
    school = make_org(OrgKind.BUDGET_UNIT, "清阳县第一中学", parent=edu, code="C0101")
    taoyuan, (tao_edu,) = counties["桃源市财政局"]
    # goals: 清阳 3 of 4 projects approved, 桃源 1 of 2, the province's department 1 of 1
    for n, (unit, approved) in enumerate([(school, True), (edu, True), (health, True), (health, False),
                                          (tao_edu, True), (tao_edu, False), (world.department, True)]):
        project = make_project(unit, year=YEAR, name=f"县级项目{n}")
        if approved:
            make_goal(project, state=GoalState.APPROVED).approved_at = datetime(YEAR, 1, 20)
    make_project(world.other_department, year=YEAR - 1)  # inactive this year: no card
    clerk = make_user(qingyang, Role.FINANCE_OFFICER, username="t_qingyang")
    liaison = make_user(edu, Role.UNIT_LIAISON, username="t_qingyang_edu")
    db.session.commit()
    return qingyang, taoyuan, [edu, health, school], [tao_edu], clerk, liaison


def _coverage(org_ids) -> tuple[int, int]:
    """绩效目标覆盖率 counted row by row: projects whose department is one of `org_ids`."""
    projects = [p for p in db.session.scalars(sa.select(Project)) if p.year == YEAR and p.department_id in org_ids]
    goals = list(db.session.scalars(sa.select(PerformanceGoal)))
    hit = [p for p in projects if any(g.project_id == p.id and g.state == GoalState.APPROVED for g in goals)]
    return len(hit), len(projects)


def test_county_bureaus_are_scored_over_their_departments(app, db, world, client, login):
    qingyang, taoyuan, qingyang_orgs, taoyuan_orgs, clerk, liaison = _province(world)
    assert is_county_bureau(qingyang) and not is_county_bureau(world.finance_bureau)
    assessment = operations.compute(YEAR, actor=world.finance)
    cards = {c.organisation.name: c for c in assessment.scorecards}
    assert set(cards) == {world.department.name, "清阳县财政局", "桃源市财政局"}  # county departments: in their county
    assert cards["清阳县财政局"].subject_kind == cards["桃源市财政局"].subject_kind == SubjectKind.COUNTY
    assert cards[world.department.name].subject_kind == SubjectKind.DEPARTMENT
    for name, orgs in (("清阳县财政局", qingyang_orgs), ("桃源市财政局", taoyuan_orgs)):
        line = next(x for x in cards[name].lines if x.indicator.method == "goal_coverage")
        assert (line.numerator, line.denominator) == _coverage({o.id for o in orgs}), name
    assert _coverage({o.id for o in qingyang_orgs}) == (3, 4)  # the county's school counts in its department
    for card in assessment.scorecards:
        manual = next(line for line in card.lines if not line.automatic)
        operations.score_line(card, actor=world.finance, indicator_id=manual.indicator_id, score="5")
    # ranks among counties (清阳 covers more), and the department first among departments
    assert cards["清阳县财政局"].total > cards["桃源市财政局"].total
    assert (cards["清阳县财政局"].rank, cards["桃源市财政局"].rank, cards[world.department.name].rank) == (1, 2, 1)
    operations.publish(assessment, actor=world.finance)
    db.session.commit()
    told = db.session.scalars(sa.select(Notification.user_id).where(Notification.title.contains("考核结果已通报")))
    assert clerk.id in set(told)
    # the 通报: the counties' own section, in rank order
    login(world.finance)
    doc = Document(io.BytesIO(client.get(f"/oversight/assessments/{YEAR}/circular.docx").data))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "县（市、区）财政局考核结果" in text
    county_rows = [row.cells[1].text for table in doc.tables for row in table.rows[1:]
                   if row.cells[1].text.endswith("财政局")]
    assert county_rows == ["清阳县财政局", "桃源市财政局"]
    client.post("/logout")
    # a county department's liaison: no card of its own, and not the county's
    login(liaison)
    assert client.get(f"/oversight/scorecards/{cards['清阳县财政局'].id}").status_code in (403, 404)
    assert client.get(f"/oversight/scorecards/{cards[world.department.name].id}").status_code in (403, 404)
