"""The demo seeder leaves reports in every stage, one of them revised twice."""
from portal.demo import DEMO_PASSWORD
from portal.reviews import operations as ops
from portal.reviews.models import AgencyDraw, Report, ReportState
from tests import factories


def test_demo_reports_in_every_stage(demo_app, demo_db):
    db = demo_db
    reports = db.session.query(Report).order_by(Report.id).all()
    assert {r.state for r in reports} == set(ReportState)
    twice = [r for r in reports if [x.decision.value for x in r.rounds if x.decision] == ["revise", "revise", "accepted"]]
    assert len(twice) == 1 and [v.label for v in twice[0].versions] == ["V1", "V2", "V3"]
    assert "修改说明" in twice[0].versions[2].attachment.text
    assert all(ops.verify_draw(d) for d in db.session.query(AgencyDraw))
    client = demo_app.test_client()
    for username in ("finance", "audit", "agency", "expert", "congress"):
        assert factories.sign_in(client, username, DEMO_PASSWORD).status_code == 302
        assert client.get("/").status_code == 200
        listing = client.get("/reviews/")
        assert listing.status_code == 200
        for r in reports[:8]:
            assert client.get(f"/reviews/reports/{r.id}").status_code in (200, 403)
        client.post("/logout")
