"""The demo seeder leaves reports in every stage, one of them revised twice."""
from portal.demo import DEMO_PASSWORD, seed
from portal.reviews import operations as ops
from portal.reviews.models import AgencyDraw, Report, ReportState


def test_demo_reports_in_every_stage(app, db, monkeypatch):
    from werkzeug.security import generate_password_hash

    monkeypatch.setattr("portal.accounts.models.generate_password_hash",  # scrypt is slow; not under test here
                        lambda password, method=None: generate_password_hash(password, "pbkdf2:sha256:1"))
    seed()
    reports = db.session.query(Report).all()
    assert {r.state for r in reports} == set(ReportState)
    twice = [r for r in reports if [x.decision.value for x in r.rounds if x.decision] == ["revise", "revise", "accepted"]]
    assert len(twice) == 1 and [v.label for v in twice[0].versions] == ["V1", "V2", "V3"]
    assert "修改说明" in twice[0].versions[2].attachment.text
    assert all(ops.verify_draw(d) for d in db.session.query(AgencyDraw))
    client = app.test_client()
    for username in ("finance", "audit", "agency", "expert", "congress"):
        assert client.post("/login", data={"username": username, "password": DEMO_PASSWORD}).status_code == 302
        assert client.get("/").status_code == 200
        listing = client.get("/reviews/")
        assert listing.status_code == 200
        for r in reports[:8]:
            assert client.get(f"/reviews/reports/{r.id}").status_code in (200, 403)
        client.post("/logout")
