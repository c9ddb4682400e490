"""The year's figures and the Linzi-style paragraph, against an independent count of the same
assessments; and the unit's revise-and-resubmit after 调整后支持."""
import random
import re
from decimal import Decimal

from portal.assessments import operations as ops
from portal.assessments import queries
from portal.assessments.models import AssessmentState
from tests.assessments.conftest import application, applied, assessed, new_project
from tests.factories import make_project


def test_the_paragraph_equals_an_independent_count(db, world, app):
    rng = random.Random(21)
    plans = []
    for n in range(14):
        unit = world.department if n % 2 else world.other_department
        project = make_project(unit, year=2027, budget="9000000")
        actor = world.unit if unit is world.department else world.other_unit
        assessment = ops.apply_for(project, application(amount=str(rng.randint(500, 3000) * 10000)), actor=actor)
        plan = ["support", "adjust", "reject", "adjust_then_support", "draft"][n % 5]
        if plan == "draft":
            plans.append((plan, assessment))
            continue
        ops.submit(assessment, actor=actor)
        total = {"support": 88, "adjust": 70, "reject": 45, "adjust_then_support": 65}[plan]
        assessed(world, assessment, total)
        if plan == "adjust_then_support":
            ops.update_application(assessment, application(amount=str(assessment.recommended_amount)), actor=actor,
                                   version=assessment.lock_version)
            ops.submit(assessment, actor=actor)
            assessed(world, assessment, 90, recommended=assessment.requested_amount)
        plans.append((plan, assessment))
    make_project(world.department, year=2026)  # another year: not counted
    # the independent count, from the plans alone
    concluded = [(p, a) for p, a in plans if p != "draft"]
    rejected = sum(p == "reject" for p, _a in concluded)
    adjusted = sum(p in ("adjust", "adjust_then_support") for p, _a in concluded)
    requested = sum(a.first_requested for _p, a in concluded)
    recommended = sum(Decimal(0) if p == "reject" else a.recommended_amount for p, a in concluded)
    rows, total = queries.figures(world.finance, 2027)
    assert (total.assessed, total.rejected, total.adjusted) == (len(concluded), rejected, adjusted)
    assert total.supported == sum(p in ("support", "adjust_then_support") for p, _a in concluded)
    assert total.requested == requested and total.recommended == recommended
    assert {r.department for r in rows} == {world.department.name, world.other_department.name}
    with app.test_request_context():
        text = queries.paragraph(2027, total)
    cut = ((requested - recommended) / Decimal(100_000_000)).quantize(Decimal("0.01"))
    expected = f"对{len(concluded)}个新增项目开展事前绩效评估，建议取消{rejected}个、调整{adjusted}个，核减预算{cut}亿元"
    assert expected in text, text
    assert re.search(r"核减率\d+\.\d%。$", text)
    # the unit's liaison sees its own department's figures only
    own_rows, _own = queries.figures(world.unit, 2027)
    assert [r.department for r in own_rows] == [world.department.name]


def test_revise_and_resubmit_after_adjustment(db, world):
    assessment = applied(world)
    first = assessed(world, assessment, 72)
    assert assessment.state == AssessmentState.REVISING and assessment.was_adjusted
    ops.update_application(assessment, application(amount="6000000", plan="压缩规模后分两期实施。"),
                           actor=world.unit, version=assessment.lock_version)
    ops.submit(assessment, actor=world.unit)
    second = assessed(world, assessment, 86, recommended=Decimal("6000000"))
    assert [first.number, second.number] == [1, 2]
    assert assessment.state == AssessmentState.SUPPORTED and assessment.first_requested == Decimal("8000000")
    assert first.requested_amount == Decimal("8000000") and second.requested_amount == Decimal("6000000")


def test_an_agency_drawn_by_lot_scores_and_the_draw_is_reproducible(db, world):
    from portal.reviews.operations import draw_result, set_pool

    set_pool(2027, [world.agency_org.id, world.other_agency_org.id], actor=world.finance)
    assessment = applied(world, project=new_project(world))
    ops.submit(assessment, actor=world.unit)
    pool = sorted([world.agency_org.id, world.other_agency_org.id])
    seed = next(s for s in (f"s{n}" for n in range(50)) if draw_result(s, pool) == world.agency_org.id)
    rnd = ops.arrange(assessment, actor=world.finance, method="agency", pool_ids=pool, witnesses="周明", seed=seed)
    assert rnd.agency_id == world.agency_org.id and ops.verify_draw(rnd)
    sheet = rnd.sheets[0]
    import pytest

    from portal.core.errors import NotPermitted
    from tests.assessments.conftest import scores_for
    with pytest.raises(NotPermitted):
        ops.save_sheet(sheet, actor=world.other_agency, version=sheet.lock_version, scores=scores_for(90), comment="x")
    ops.save_sheet(sheet, actor=world.agency, version=sheet.lock_version, scores=scores_for(90), comment="意见",
                   submit=True)
    ops.conclude(assessment, actor=world.finance, opinion="委托评估意见", recommended_amount="7500000")
    assert assessment.state == AssessmentState.SUPPORTED


def test_the_figures_reach_the_overview_the_page_and_the_api(db, world, client, login):
    from portal.core.tokens import create_token

    assessment = applied(world)
    assessed(world, assessment, 50)  # 不予支持: 800万元 cut
    db.session.commit()
    sentence = "对1个新增项目开展事前绩效评估，建议取消1个、调整0个，核减预算0.08亿元，核减率100.0%。"
    login(world.observer)
    assert sentence in client.get("/conference/overview?year=2027").get_data(as_text=True)
    assert sentence in client.get("/conference/overview?year=2026").get_data(as_text=True)  # next budget year
    page = client.get("/assessments/figures?year=2027").get_data(as_text=True)
    assert sentence in page and world.department.name in page
    client.post("/logout")
    login(world.unit)
    assert client.get("/assessments/figures?year=2027").status_code == 403
    _token, raw = create_token(world.finance, "figures")
    db.session.commit()
    body = client.get("/api/v1/assessments/figures?year=2027", headers={"Authorization": f"Bearer {raw}"}).get_json()
    assert body["total"]["rejected"] == 1 and body["total"]["cut"] == "8000000.00" and sentence in body["paragraph"]
