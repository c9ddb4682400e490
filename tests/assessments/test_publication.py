"""事前绩效评估情况 on the public site: never before finance publishes it; once published, the public
page and its downloads show exactly a count made here from the assessments; later changes stay
unseen until a correction (with its public note); a withdrawal leaves only the notice."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.assessments import operations as ops
from portal.core.audit import AuditEntry
from portal.core.errors import DomainError, NotPermitted
from portal.extensions import db
from portal.publishing import operations as publishing
from portal.publishing.models import PublishedFigures
from tests.assessments.conftest import application, assessed
from tests.factories import make_project
from tests.publishing.conftest import public_app  # noqa: F401

YEAR = 2027


def _assessments(world):
    """Five concluded in two departments (support, adjust, reject …) and one still a draft."""
    done = []
    for n, (unit, actor, total, amount) in enumerate([
            (world.department, world.unit, 88, "8000000"), (world.department, world.unit, 70, "12000000"),
            (world.department, world.unit, 40, "6000000"), (world.other_department, world.other_unit, 85, "9000000"),
            (world.other_department, world.other_unit, 65, "20000000")]):
        project = make_project(unit, year=YEAR, budget=amount, name=f"新增项目{n}")
        assessment = ops.apply_for(project, application(amount=amount), actor=actor)
        ops.submit(assessment, actor=actor)
        assessed(world, assessment, total)
        done.append(assessment)
    draft = ops.apply_for(make_project(world.department, year=YEAR, budget="7000000", name="填报中项目"),
                          application(amount="7000000"), actor=world.unit)
    db.session.commit()
    return done, draft


def _independent(assessments) -> dict:
    """Per department: (assessed, supported, adjusted, rejected, requested, recommended), counted here."""
    out = {}
    for a in assessments:
        row = out.setdefault(a.department.name, [0, 0, 0, 0, Decimal(0), Decimal(0)])
        row[0] += 1
        row[1] += a.conclusion.value == "support"
        row[2] += a.conclusion.value == "adjust"
        row[3] += a.conclusion.value == "reject"
        row[4] += a.first_requested
        row[5] += a.recommended_amount
    return out


def _published_rows(payload) -> dict:
    return {line["department"]: [line["assessed"], line["supported"], line["adjusted"], line["rejected"],
                                 Decimal(line["requested"]), Decimal(line["recommended"])]
            for line in payload["departments"]}


def test_unpublished_figures_are_never_public(app, db, world, public_app):  # noqa: F811
    _assessments(world)
    public = public_app.test_client()
    assert public.get("/figures/ex_ante/").status_code == 200
    assert "新增项目" not in public.get("/figures/ex_ante/").get_data(as_text=True)
    assert "开展事前绩效评估" not in public.get("/figures/ex_ante/").get_data(as_text=True)
    for path in (f"/figures/ex_ante/{YEAR}", f"/figures/ex_ante/{YEAR}.csv", f"/figures/ex_ante/{YEAR}.json",
                 "/figures/other/2027"):
        assert public.get(path).status_code == 404, path
    # preview in the portal writes nothing
    assert publishing.build_figures("ex_ante", YEAR)["total"]["assessed"] == 5
    assert db.session.scalar(sa.select(sa.func.count(PublishedFigures.id))) == 0


def test_published_figures_equal_an_independent_count(app, db, world, public_app):  # noqa: F811
    done, _draft = _assessments(world)
    expected = _independent(done)
    with pytest.raises(NotPermitted):
        publishing.publish_figures("ex_ante", YEAR, actor=world.unit)
    row = publishing.publish_figures("ex_ante", YEAR, actor=world.finance)
    db.session.commit()
    assert _published_rows(row.payload) == expected
    total = row.payload["total"]
    assert total["assessed"] == 5 and total["rejected"] == 1 and total["adjusted"] == 2
    public = public_app.test_client()
    page = public.get(f"/figures/ex_ante/{YEAR}").get_data(as_text=True)
    assert row.payload["paragraph"] in page and "对5个新增项目开展事前绩效评估，建议取消1个、调整2个" in page
    assert "填报中项目" not in page and "新增项目0" not in page  # no project, unit or assessor is published
    body = json.loads(public.get(f"/figures/ex_ante/{YEAR}.json").get_data(as_text=True))
    by_dept = {line["department"]: line for line in body["items"]}
    for name, (assessed_n, supported, adjusted, rejected, requested, recommended) in expected.items():
        line = by_dept[name]
        assert (line["assessed"], line["supported"], line["adjusted"], line["rejected"]) == (
            assessed_n, supported, adjusted, rejected)
        assert Decimal(line["requested"]) - Decimal(line["recommended"]) == Decimal(line["cut"]) == requested - recommended
    csv = public.get(f"/figures/ex_ante/{YEAR}.csv")
    assert csv.status_code == 200 and world.department.name in csv.get_data(as_text=True)
    assert public.get(f"/figures/ex_ante/{YEAR}.xlsx").status_code == 200
    assert public.get("/figures/ex_ante/").get_data(as_text=True).count(f"{YEAR}年度") == 1
    audit = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "publishing.figures_publish")).all()
    assert len(audit) == 1 and audit[0].actor_id == world.finance.id


def test_a_later_change_needs_a_correction_and_a_withdrawal_leaves_the_notice(app, db, world, public_app):  # noqa: F811
    done, draft = _assessments(world)
    first = publishing.publish_figures("ex_ante", YEAR, actor=world.finance)
    db.session.commit()
    with pytest.raises(DomainError, match="没有新的"):
        publishing.publish_figures("ex_ante", YEAR, actor=world.finance)
    assessed(world, draft, 90)  # a sixth conclusion after publication
    db.session.commit()
    public = public_app.test_client()
    assert "对5个新增项目" in public.get(f"/figures/ex_ante/{YEAR}").get_data(as_text=True)  # the snapshot stands
    with pytest.raises(DomainError, match="更正说明"):
        publishing.publish_figures("ex_ante", YEAR, actor=world.finance)
    second = publishing.publish_figures("ex_ante", YEAR, actor=world.finance, note="补充一个项目的评估结论。")
    db.session.commit()
    assert (second.version, first.current, second.current) == (2, False, True)
    page = public.get(f"/figures/ex_ante/{YEAR}").get_data(as_text=True)
    assert "对6个新增项目" in page and "补充一个项目的评估结论。" in page
    first.data = "{}"
    with pytest.raises(ValueError, match="immutable"):
        db.session.flush()
    db.session.rollback()
    second = db.session.get(PublishedFigures, second.id)
    publishing.withdraw_figures(second, actor=world.finance, note="数据核对中。")
    db.session.commit()
    page = public.get(f"/figures/ex_ante/{YEAR}").get_data(as_text=True)
    assert "数据核对中。" in page and "开展事前绩效评估" not in page
    assert public.get(f"/figures/ex_ante/{YEAR}.csv").status_code == 404


def test_the_portal_page_previews_publishes_and_refuses_others(app, db, world, client, login):
    _assessments(world)
    login(world.unit)
    assert client.get(f"/publishing/figures?kind=ex_ante&year={YEAR}").status_code == 403
    assert client.post("/publishing/figures/publish", data={"kind": "ex_ante", "year": YEAR}).status_code == 403
    client.post("/logout")
    login(world.finance)
    page = client.get(f"/publishing/figures?kind=ex_ante&year={YEAR}").get_data(as_text=True)
    assert "对5个新增项目开展事前绩效评估" in page and "尚未公开" in page
    bad = client.post("/publishing/figures/publish", data={"kind": "nothing", "year": YEAR})
    assert bad.status_code == 422
    empty = client.post("/publishing/figures/publish", data={"kind": "ex_ante", "year": 2030})
    assert empty.status_code == 422 and "尚无可公开的统计" in empty.get_data(as_text=True)
    done = client.post("/publishing/figures/publish", data={"kind": "ex_ante", "year": YEAR})
    assert done.status_code == 302
    row = db.session.scalars(sa.select(PublishedFigures)).one()
    assert row.payload["total"]["assessed"] == 5
    again = client.get(f"/publishing/figures?kind=ex_ante&year={YEAR}").get_data(as_text=True)
    assert "无需重新公开" in again
    withdrawn = client.post(f"/publishing/figures/{row.id}/withdraw", data={"note": ""})
    assert withdrawn.status_code == 422
