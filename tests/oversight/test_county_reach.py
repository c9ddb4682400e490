"""A county finance bureau (县级财政局) at province scale is assessed, not the assessor: in joint
oversight its staff reach their own county only — its own scorecard once circulated, the teams on
its county's evaluations (and those they sit on), no package — while the province's finance bureau
reaches everything (portal/core/reach.py COUNTY)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.core import reach
from portal.core.errors import NotPermitted
from portal.core.permissions import visible
from portal.extensions import db
from portal.oversight import operations, packages
from portal.oversight.models import JointTeam, Scorecard
from tests.factories import make_evaluation, make_project
from tests.oversight.test_county_scorecards import YEAR, _province


def _scored(world):
    qingyang, taoyuan, qingyang_orgs, taoyuan_orgs, clerk, _liaison = _province(world)
    assessment = operations.compute(YEAR, actor=world.finance)
    for card in assessment.scorecards:
        manual = next(line for line in card.lines if not line.automatic)
        operations.score_line(card, actor=world.finance, indicator_id=manual.indicator_id, score="5")
    db.session.commit()
    cards = {c.organisation_id: c for c in assessment.scorecards}
    return assessment, cards, qingyang, taoyuan, qingyang_orgs, taoyuan_orgs, clerk


def test_a_county_bureau_reads_its_own_scorecard_only_and_scores_nothing(app, db, world, client, login):
    assessment, cards, qingyang, taoyuan, _q, _t, clerk = _scored(world)
    own, neighbour, department = cards[qingyang.id], cards[taoyuan.id], cards[world.department.id]
    # a finance officer's role at the county bureau does not make it the assessor
    for attempt in (lambda: operations.compute(YEAR, actor=clerk),
                    lambda: operations.score_line(own, actor=clerk, indicator_id=own.lines[-1].indicator_id, score="9"),
                    lambda: operations.publish(assessment, actor=clerk)):
        with pytest.raises(NotPermitted):
            attempt()
    login(clerk)  # the province's draft: not even its own card yet
    assert client.get(f"/oversight/assessments/{YEAR}").status_code == 403
    assert client.get(f"/oversight/scorecards/{own.id}").status_code == 403
    client.post("/logout")
    operations.publish(assessment, actor=world.finance)
    db.session.commit()
    expected = {  # user: (year page, own card, neighbour's card, a province department's, circular)
        clerk: (200, 200, 403, 403, 403),
        world.finance: (200, 200, 200, 200, 200),
    }
    for user, want in expected.items():
        login(user)
        got = (client.get(f"/oversight/assessments/{YEAR}").status_code,
               *(client.get(f"/oversight/scorecards/{c.id}").status_code for c in (own, neighbour, department)),
               client.get(f"/oversight/assessments/{YEAR}/circular.docx").status_code)
        assert got == want, user.username
        client.post("/logout")
    login(clerk)  # the year page lists its own card, no other county's and no department's
    page = client.get(f"/oversight/assessments/{YEAR}").get_data(as_text=True)
    assert "清阳县财政局" in page and "桃源市财政局" not in page and world.department.name not in page
    assert "circular.docx" not in page  # no button that would answer 403
    assert set(db.session.scalars(visible(clerk, Scorecard).with_only_columns(Scorecard.id))) == {own.id}
    assert set(db.session.scalars(visible(world.finance, Scorecard).with_only_columns(Scorecard.id))) == {
        c.id for c in cards.values()}


def test_a_county_bureau_reads_its_countys_teams_and_those_it_sits_on(app, db, world, client, login):
    _assessment, _cards, _qingyang, _taoyuan, qingyang_orgs, taoyuan_orgs, clerk = _scored(world)
    evaluations = {name: make_evaluation(make_project(unit, year=YEAR, name=f"{name}重点评价项目"), score="85")
                   for name, unit in (("own", qingyang_orgs[2]), ("neighbour", taoyuan_orgs[0]),
                                      ("province", world.department), ("seated", world.other_department))}
    for name, evaluation in evaluations.items():
        operations.add_member(evaluation, actor=world.finance, user_id=world.finance.id, role="lead")
        if name == "seated":  # the county's officer sits on one of the province's teams
            operations.add_member(evaluation, actor=world.finance, user_id=clerk.id, role="member")
    db.session.commit()
    teams = {name: operations.team_of(e) for name, e in evaluations.items()}
    with pytest.raises(NotPermitted):  # it forms no team, not even on its county's evaluation
        operations.add_member(evaluations["own"], actor=clerk, user_id=clerk.id, role="member")
    assert set(db.session.scalars(visible(clerk, JointTeam).with_only_columns(JointTeam.id))) == {
        teams["own"].id, teams["seated"].id}
    assert set(db.session.scalars(visible(world.finance, JointTeam).with_only_columns(JointTeam.id))) == {
        t.id for t in teams.values()}
    login(clerk)
    got = {name: client.get(f"/oversight/evaluations/{e.id}/team").status_code for name, e in evaluations.items()}
    assert got == {"own": 200, "neighbour": 403, "province": 403, "seated": 200}
    listing = client.get("/oversight/teams").get_data(as_text=True)
    assert "own重点评价项目" in listing and "seated重点评价项目" in listing
    assert "neighbour重点评价项目" not in listing and "province重点评价项目" not in listing
    client.post("/logout")
    operations.add_opinion(teams["seated"], actor=clerk, text="县级财政意见")  # a member opines where it sits
    login(world.finance)
    assert all(client.get(f"/oversight/evaluations/{e.id}/team").status_code == 200 for e in evaluations.values())


def test_a_county_bureau_reaches_no_package_for_the_peoples_congress(app, db, world, client, login):
    *_rest, clerk = _scored(world)
    with pytest.raises(NotPermitted):
        packages.start(YEAR, "final_accounts", actor=clerk)
    package = packages.start(YEAR, "final_accounts", actor=world.finance)
    db.session.commit()
    assert not reach.reaches(clerk, "package") and reach.reaches_all(world.finance, "package", reach.WRITE)
    login(clerk)
    assert client.get("/oversight/packages").status_code == 403
    assert client.get(f"/oversight/packages/{package.id}").status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(visible(clerk, type(package)).subquery())) == 0


def _circular_text(client) -> str:
    import io

    from docx import Document

    response = client.get(f"/oversight/assessments/{YEAR}/circular.docx")
    assert response.status_code == 200
    return "\n".join(p.text for p in Document(io.BytesIO(response.data)).paragraphs)


def test_departments_are_the_provinces_at_province_scale(app, db, world, client, login, monkeypatch):
    """市直部门 at a city's installation, 省直部门 at a province's (JURISDICTION_LEVEL), on the year's page
    and in the 通报; the counties' section is the same at both."""
    assessment, *_rest = _scored(world)
    operations.publish(assessment, actor=world.finance)
    db.session.commit()
    login(world.finance)
    page = client.get(f"/oversight/assessments/{YEAR}").get_data(as_text=True)
    text = _circular_text(client)
    assert "市直部门" in page and "省直部门" not in page
    assert "一、市直部门考核结果" in text and "抄送：市政府办公室" in text
    monkeypatch.setitem(app.config, "JURISDICTION_LEVEL", "province")
    page = client.get(f"/oversight/assessments/{YEAR}").get_data(as_text=True)
    text = _circular_text(client)
    assert "省直部门" in page and "市直部门" not in page and "县（市、区）财政局" in page
    assert "一、省直部门考核结果" in text and "市直部门" not in text and "二、县（市、区）财政局考核结果" in text
    assert "抄送：省政府办公厅，省人大常委会预算工作委员会，省审计厅" in text
