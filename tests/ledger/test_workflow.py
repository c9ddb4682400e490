"""The whole path over HTTP: list from an evaluation, report, submit, both bureaus sign off."""
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from portal.core.attachments import Attachment
from portal.ledger.models import Problem, ProblemState
from portal.ledger.queries import rates
from tests.factories import make_evaluation, make_project
from tests.ledger.conftest import PDF


def _evaluation(world, db):
    from portal.performance.models import EvaluationFinding

    project = make_project(world.department, name="校舍维修改造项目")
    evaluation = make_evaluation(project, score=72)
    for i, (cat, text, amount) in enumerate([("资金管理", "结余资金未及时上缴", "250000.00"),
                                              ("项目管理", "未按期完工", None),
                                              ("绩效目标", "指标未量化", None)]):
        db.session.add(EvaluationFinding(evaluation=evaluation, category=cat, description=text,
                                         amount=Decimal(amount) if amount else None, suggestion=f"建议{i}"))
    db.session.commit()
    return evaluation


def test_from_evaluation_to_closed_over_http(db, world, client, login, frozen_today):
    evaluation = _evaluation(world, db)
    login(world.finance)
    page = client.get(f"/ledger/from-evaluation/{evaluation.id}").get_data(as_text=True)
    assert "结余资金未及时上缴" in page
    ids = [f.id for f in evaluation.findings][:2]
    response = client.post(f"/ledger/from-evaluation/{evaluation.id}",
                           data={"findings": ids, "rect_type": "deadline", "deadline": "2026-08-31"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    problems = db.session.execute(sa.select(Problem).order_by(Problem.seq)).scalars().all()
    assert [p.number for p in problems] == ["ZG-2026-0001", "ZG-2026-0002"]
    assert problems[0].amount == Decimal("250000.00") and problems[0].unit_id == world.department.id
    assert problems[0].requirement == "建议0"
    # listing the same finding twice is refused
    again = client.post(f"/ledger/from-evaluation/{evaluation.id}",
                        data={"findings": ids[:1], "rect_type": "deadline", "deadline": "2026-08-31"})
    assert again.status_code == 422 and db.session.scalar(sa.select(sa.func.count(Problem.id))) == 2
    client.post("/logout")

    problem = problems[0]
    login(world.unit)
    assert "ZG-2026-0001" in client.get("/ledger/").get_data(as_text=True)
    import io

    response = client.post(f"/ledger/{problem.id}/submit", data={
        "s-state": "listed", "s-text": "结余资金已上缴国库", "s-rect_returned": "250000",
        "s-accountability": "对财务科长诫勉谈话", "s-rules_improved": "修订结余资金管理办法",
        "s-evidence_date": "2026-05-20", "s-files": (io.BytesIO(PDF), "缴款书.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    db.session.refresh(problem)
    assert problem.state == ProblemState.SUBMITTED
    assert problem.accountability == "对财务科长诫勉谈话" and problem.rules_improved == "修订结余资金管理办法"
    assert problem.rect_returned == Decimal("250000")
    evidence = db.session.execute(sa.select(Attachment)).scalar_one()
    assert evidence.document_date == date(2026, 5, 20) and evidence.uploaded_at.date() == date(2026, 6, 1)
    client.post("/logout")

    login(world.audit)
    response = client.post(f"/ledger/{problem.id}/verify", data={"state": "submitted", "decision": "signoff"})
    assert response.status_code == 302
    db.session.refresh(problem)
    assert problem.state == ProblemState.SUBMITTED  # one sign-off does not close
    client.post("/logout")

    login(world.finance)
    client.post(f"/ledger/{problem.id}/verify", data={"state": "submitted", "decision": "signoff"})
    db.session.refresh(problem)
    assert problem.state == ProblemState.CLOSED and problem.closed_on == date(2026, 6, 1)
    row = next(r for r in rates(world.finance, "unit") if r.key == world.department.id)
    assert (row.total, row.closed, row.count_rate) == (2, 1, Decimal("0.5"))
    assert row.amount_rate == Decimal(1)
    page = client.get(f"/ledger/{problem.id}").get_data(as_text=True)
    assert "已销号" in page and "缴款书.pdf" in page and "<span class=\"event\">确认销号</span>" in page


def test_hand_listing_and_monitoring_listing(db, world, client, login, frozen_today):
    project = make_project(world.subunit)
    db.session.commit()
    login(world.audit)
    form = client.get(f"/ledger/new?project={project.id}").get_data(as_text=True)
    assert project.code in form
    response = client.post(f"/ledger/new?project={project.id}", data={
        "source": "monitoring", "unit_id": world.subunit.id, "category": "预算执行",
        "description": "执行率低于序时进度20个百分点", "amount": "0", "rect_type": "deadline",
        "deadline": "2026-07-01", "project_code": project.code})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    problem = db.session.execute(sa.select(Problem)).scalar_one()
    assert problem.project_id == project.id and problem.department_id == world.department.id

