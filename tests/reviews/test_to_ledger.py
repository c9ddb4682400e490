"""Problems named in a decided opinion go onto the problem ledger once, for the agency whose report had them."""
from datetime import date

from portal.ledger.models import Problem, ProblemSource
from portal.reviews.models import Decision


def _decided_round(setup):
    setup.upload()
    rnd = setup.open_round()
    setup.review_all(rnd)
    setup.decide(rnd, Decision.ACCEPTED)
    return rnd


def test_finance_lists_the_opinions_problems_once(setup, db, client, login):
    rnd = _decided_round(setup)
    db.session.commit()
    login(setup.world.finance)
    page = client.get(f"/reviews/rounds/{rnd.id}").get_data(as_text=True)
    assert "抽样方法未说明" in page and "列入问题台账" in page
    response = client.post(f"/reviews/rounds/{rnd.id}/ledger", data={"deadline": "2026-12-31"})
    assert response.status_code == 302
    problems = db.session.query(Problem).order_by(Problem.id).all()
    assert [p.description for p in problems] == ["抽样方法未说明。", "数据不一致。"]
    assert {p.source for p in problems} == {ProblemSource.CO_REVIEW}
    assert {p.unit_id for p in problems} == {setup.report.agency_id}  # the report's defects: the agency's to put right
    assert problems[0].deadline == date(2026, 12, 31)
    again = client.post(f"/reviews/rounds/{rnd.id}/ledger", data={"deadline": "2026-12-31"}, follow_redirects=True)
    assert "已列入台账" in again.get_data(as_text=True)
    assert db.session.query(Problem).count() == 2


def test_units_agencies_and_undecided_rounds_cannot(setup, db, client, login):
    setup.upload()
    rnd = setup.open_round()
    db.session.commit()
    login(setup.world.finance)
    response = client.post(f"/reviews/rounds/{rnd.id}/ledger", data={"deadline": "2026-12-31"}, follow_redirects=True)
    assert "评审结论生效后" in response.get_data(as_text=True)
    client.post("/logout")
    login(setup.world.agency)
    assert client.post(f"/reviews/rounds/{rnd.id}/ledger", data={"deadline": "2026-12-31"}).status_code == 403
    assert db.session.query(Problem).count() == 0
