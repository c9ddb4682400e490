"""Every page renders; rubrics, profiles, pool and commissioning over HTTP; panels and API."""
from datetime import timedelta

from portal.core import clock
from portal.core.api import create_token
from portal.extensions import db
from portal.reviews import operations as ops
from portal.reviews import panels
from portal.reviews.models import AgencyProfile, PoolEntry, Report, RubricTemplate
from tests.factories import make_evaluation, make_project
from tests.reviews.conftest import Setup, declared_round, full_scores


def test_bureau_pages_render_and_manage(setup, client, login):
    w = setup.world
    db.session.commit()
    login(w.finance)
    for url in ("/reviews/", "/reviews/?year=2026&state=awaiting", "/reviews/agencies", "/reviews/evaluations",
                "/reviews/rubrics", f"/reviews/agencies/{w.agency_org.id}/profile",
                f"/reviews/agencies/{w.agency_org.id}/quality", f"/reviews/reports/{setup.report.id}"):
        assert client.get(url).status_code == 200, url
    response = client.post("/reviews/rubrics", data={"name": "简化表", "criteria": "质量 50\n规范 40"})
    assert "合计须为 100，当前为 90" in response.get_data(as_text=True)
    assert "质量 50" in response.get_data(as_text=True)  # what was typed stays
    assert client.post("/reviews/rubrics", data={"name": "简化表", "criteria": "质量 60\n规范 40"}).status_code == 302
    assert db.session.query(RubricTemplate).count() == 1  # the default one is stored on first use, not on a visit
    response = client.post(f"/reviews/agencies/{w.agency_org.id}/profile",
                           data={"qualifications": "会计师事务所执业证书", "contact_person": "郑晓光"})
    assert response.status_code == 302
    assert db.session.query(AgencyProfile).one().qualifications == "会计师事务所执业证书"
    assert client.post("/reviews/agencies?year=2026", data={"agency_ids": [w.agency_org.id]}).status_code == 302
    assert [e.agency_id for e in db.session.query(PoolEntry)] == [w.agency_org.id]
    evaluation = make_evaluation(make_project(w.department), agency=w.other_agency_org)
    db.session.commit()
    assert client.post(f"/reviews/evaluations/{evaluation.id}/commission", data={}).status_code == 302
    assert db.session.query(Report).filter_by(evaluation_id=evaluation.id).one().agency_id == w.other_agency_org.id
    client.post("/logout")
    login(w.audit)  # audit reads but does not manage
    assert client.get("/reviews/agencies").status_code == 200
    assert client.post("/reviews/rubrics", data={"name": "x", "criteria": "a 100"}).status_code == 403
    assert client.get(f"/reviews/agencies/{w.agency_org.id}/profile").status_code == 403


def test_dashboard_panel_overview_and_api(setup, client, login):
    w = setup.world
    setup.upload()
    rnd = setup.open_round(deadline=clock.today() + timedelta(days=3))
    db.session.commit()
    login(w.audit)
    assert setup.report.title in client.get("/").get_data(as_text=True)  # waiting for my review
    client.post("/logout")
    setup.review_all(rnd)
    ops.propose(rnd, actor=w.finance, opinion="同意。", decision="accepted")
    db.session.commit()
    login(w.audit)
    page = client.get("/").get_data(as_text=True)
    assert "待会签" in page and setup.report.title in page
    from flask import current_app
    from flask_login import login_user

    with current_app.test_request_context():
        login_user(w.conference)
        assert "评审中" in panels.overview_section(w.conference, 2026)
        assert panels.overview_section(w.agency, 2026) is None
    _token, raw = create_token(w.finance, "api")
    db.session.commit()
    data = client.get("/api/v1/reviews?year=2026", headers={"Authorization": f"Bearer {raw}"}).get_json()
    assert data["total"] == 1 and data["items"][0]["rounds"][0]["opinion"] is None  # not decided yet
    text = str(data)
    assert w.finance.display_name not in text and w.audit.display_name not in text
    assert client.get("/api/v1/reviews").status_code == 401
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/reviews" in spec["paths"]


def test_history_of_drafts_is_shown_to_the_author(setup, client, login):
    w = setup.world
    rnd, a = declared_round(setup)
    ops.save_review(a, version=a.lock_version, actor=w.finance, scores=full_scores(rnd, 0.5))
    ops.save_review(a, version=a.lock_version, actor=w.finance, scores=full_scores(rnd, 0.6))
    db.session.commit()
    login(w.finance)
    assert "修改历史（1 个早期版本）" in client.get(f"/reviews/assignments/{a.id}").get_data(as_text=True)


def test_dashboard_lists_the_first_ten_reviews_by_deadline_and_counts_them_all(db, world, client, login):
    """A reviewer with a dozen open rounds sees the ten due first, and how many there are."""
    setups = []
    for i in range(12):
        s = Setup(world)
        s.report.title = f"第{i:02d}号评价报告"
        s.upload()
        s.open_round(deadline=clock.today() + timedelta(days=30 - i))  # the last made is due first
        setups.append(s)
    db.session.commit()
    login(world.audit)
    page = client.get("/").get_data(as_text=True)
    assert "待我评审（12）" in page and "共 12 项，查看全部" in page
    shown = [s.report.title for s in setups if s.report.title in page]
    assert shown == [f"第{i:02d}号评价报告" for i in range(2, 12)]  # the two due last wait behind the link
