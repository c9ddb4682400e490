"""Shared library: sharing notifies the other bureau, search over titles and file text honours
permissions, every open is logged; plans and their overlaps."""
import io
from datetime import date

import pytest
import sqlalchemy as sa

from portal.conference import operations as ops
from portal.conference.models import DocumentKind, LibraryAccess, PlanBureau, SharedDocument
from portal.conference.queries import plan_overlaps, search_documents
from portal.core.api import create_token
from portal.core.errors import DomainError, NotPermitted
from portal.core.notifications import Notification
from tests.conference.conftest import make_document, make_meeting
from tests.factories import make_project

REPORT = "临州市2025年度预算执行审计报告。审计发现：棚户区改造专项资金结存超过两年，存在资金闲置问题。"


def search(user, q, **kw):
    return db_scalars(search_documents(user, q, **kw))


def db_scalars(stmt):
    from portal.extensions import db

    return db.session.scalars(stmt).all()


def test_search_matches_title_and_extracted_text_every_term(db, world):
    report = make_document(world, title="2025年度预算执行审计报告", text=REPORT)
    other = make_document(world, actor=world.finance, title="重点评价结果", text="教育项目评价等级为良。",
                          kind=DocumentKind.EVALUATION_RESULT)
    db.session.commit()
    assert search(world.finance, "资金闲置") == [report]
    assert search(world.finance, "棚户区 闲置") == [report]
    assert search(world.finance, "棚户区 教育") == []
    assert search(world.finance, "评价结果") == [other]
    assert set(search(world.finance, "")) == {report, other}
    assert search(world.finance, "100%") == [] and search(world.finance, "_") == []
    assert search(world.finance, "", kind="evaluation_result") == [other]
    # normalised as the public site's search: traditional characters, full-width space
    assert search(world.finance, "棚戶區　資金閑置") == [report]


SEARCH_MATRIX = {
    "finance": True, "audit": True, "conference": True, "observer": True, "admin": True, "finance_signer": True,
    "unit": False, "subunit_user": False, "agency": False, "expert": False,
}


def test_search_honours_permissions(db, world):
    make_document(world, title="审计报告", text=REPORT)
    db.session.commit()
    for who, finds in SEARCH_MATRIX.items():
        assert bool(search(getattr(world, who), "资金闲置")) is finds, who


def test_sharing_notifies_the_other_bureau_and_logs(db, world):
    document = make_document(world, title="审计决定书", text="归还原渠道资金")
    db.session.commit()
    notified = set(db.session.scalars(sa.select(Notification.user_id)))
    assert {world.finance.id, world.finance_signer.id} <= notified
    assert world.audit.id not in notified and world.unit.id not in notified
    events = db.session.execute(sa.select(LibraryAccess.event, LibraryAccess.user_id)).all()
    assert events == [("shared", world.audit.id)]
    with pytest.raises(NotPermitted):
        make_document(world, actor=world.observer)
    with pytest.raises(NotPermitted):
        make_document(world, actor=world.unit)
    assert document.shared_by_org == world.audit_bureau


@pytest.mark.commits  # the opening is recorded in a transaction of its own, after the response
def test_share_over_http_bad_input_keeps_fields_and_open_is_logged(db, world, client, login):
    project = make_project(world.department)
    db.session.commit()
    login(world.audit)
    form = {"title": "棚改资金专项审计报告", "kind": "audit_report", "year": "2026", "note": "请参阅第三部分",
            "project_ids": [project.id], "unit_ids": [world.department.id]}
    response = client.post("/conference/library/new", data=form, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "请上传资料文件" in page
    assert "棚改资金专项审计报告" in page and "请参阅第三部分" in page
    assert db.session.scalar(sa.select(sa.func.count(SharedDocument.id))) == 0
    response = client.post("/conference/library/new", content_type="multipart/form-data",
                           data=dict(form, files=(io.BytesIO(REPORT.encode()), "报告.txt")))
    assert response.status_code == 302
    document = db.session.scalars(sa.select(SharedDocument)).one()
    assert document.projects == [project] and document.units == [world.department]
    client.post("/logout")
    login(world.finance)
    page = client.get("/conference/library?q=结存超过两年").get_data(as_text=True)
    assert "棚改资金专项审计报告" in page and "结存超过两年" in page
    url = f"/conference/library/{document.id}"
    db.session.rollback()  # the test's own (SQLite: write-locking) transaction ends, as a request's would
    response = client.get(url)
    assert response.status_code == 200
    response.close()  # as the WSGI server does: the opening is recorded after the response, not by the GET
    db.session.rollback()
    opened = db.session.scalars(sa.select(LibraryAccess.user_id).where(LibraryAccess.event == "opened")).all()
    assert opened == [world.finance.id]


def test_api_lists_library_and_conferences_with_permissions(db, world, client):
    make_document(world, title="审计报告", text=REPORT)
    make_meeting(world, date(2026, 2, 2))
    _t, finance_token = create_token(world.finance, "t")
    _t, unit_token = create_token(world.unit, "t")
    db.session.commit()
    body = client.get("/api/v1/library?q=资金闲置", headers={"Authorization": f"Bearer {finance_token}"}).json
    assert body["total"] == 1 and body["items"][0]["title"] == "审计报告"
    body = client.get("/api/v1/conferences", headers={"Authorization": f"Bearer {finance_token}"}).json
    assert body["items"][0]["title"] == "2026年第1次联席会议"
    for path in ("/api/v1/library", "/api/v1/conferences"):
        assert client.get(path, headers={"Authorization": f"Bearer {unit_token}"}).json["total"] == 0
    assert client.get("/api/v1/library").status_code == 401
    assert "/api/v1/library" in client.get("/api/v1/openapi.json").json["paths"]


def test_plan_overlaps_same_project_or_same_unit_same_year(db, world):
    p1 = make_project(world.department, name="义务教育经费")
    p2 = make_project(world.subunit, name="一中校舍维修")
    p3 = make_project(world.other_department, name="基层医疗补助")
    p_2025 = make_project(world.other_department, year=2025, name="上年项目")
    f1 = ops.add_plan_item(actor=world.finance, year=2026, title="评价义务教育经费", project=p1)
    f2 = ops.add_plan_item(actor=world.finance, year=2026, title="评价校舍维修", project=p2)
    f3 = ops.add_plan_item(actor=world.finance, year=2026, title="评价医疗补助", project=p3)
    f_2025 = ops.add_plan_item(actor=world.finance, year=2025, title="上年评价", project=p_2025)
    a1 = ops.add_plan_item(actor=world.audit, year=2026, title="义务教育经费专项审计", project=p1)
    a2 = ops.add_plan_item(actor=world.audit, year=2026, title="一中预算执行审计", unit=world.subunit)
    a3 = ops.add_plan_item(actor=world.audit, year=2025, title="卫健委上年审计", unit=world.other_department)
    db.session.commit()
    overlaps = plan_overlaps(2026)
    assert overlaps[f1.id] == [a1] and overlaps[a1.id] == [f1]
    assert overlaps[f2.id] == [a2] and overlaps[a2.id] == [f2]
    assert f3.id not in overlaps  # the other department is audited only in 2025
    assert plan_overlaps(2025) == {f_2025.id: [a3], a3.id: [f_2025]}
    assert a1.bureau == PlanBureau.AUDIT and f1.bureau == PlanBureau.FINANCE


def test_plan_input_rules(db, world, client, login):
    p = make_project(world.department, year=2025)
    with pytest.raises(DomainError, match="至少一项"):
        ops.add_plan_item(actor=world.audit, year=2026, title="x")
    with pytest.raises(DomainError, match="2025年度"):
        ops.add_plan_item(actor=world.finance, year=2026, title="x", project=p)
    with pytest.raises(DomainError, match="须选择要评价的项目"):
        ops.add_plan_item(actor=world.finance, year=2026, title="x", unit=world.department)
    with pytest.raises(NotPermitted):
        ops.add_plan_item(actor=world.observer, year=2026, title="x", unit=world.department)
    db.session.commit()
    login(world.audit)
    response = client.post("/conference/plans", data={"year": "2026", "title": "专项审计", "project_id": 0,
                                                      "unit_id": 0, "note": "第三季度进点"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "至少一项" in page and "第三季度进点" in page
    response = client.post("/conference/plans", data={"year": "2026", "title": "专项审计", "project_id": 0,
                                                      "unit_id": world.department.id})
    assert response.status_code == 302
    page = client.get("/conference/plans?year=2026").get_data(as_text=True)
    assert "专项审计" in page
