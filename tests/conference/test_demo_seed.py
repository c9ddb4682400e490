"""The demo seeder: three meetings, resolutions in every state, a searchable library, both plans
with overlaps — and every conference page renders for every demo account."""
import sqlalchemy as sa

from portal.conference.demo import seed
from portal.conference.models import Action, ActionState, Meeting, SharedDocument
from portal.conference.queries import plan_overlaps, search_documents
from portal.core import clock
from portal.demo import DEMO_PASSWORD, USERS, seed_organisations_and_users
from tests import factories
from tests.factories import make_project


def test_demo_seeder_and_every_page_renders(app, db, monkeypatch):
    from werkzeug.security import generate_password_hash

    from portal.accounts.models import User

    # the demo hashes passwords with scrypt; a cheap hash keeps this test fast
    monkeypatch.setattr(User, "set_password", lambda self, password: setattr(
        self, "password_hash", generate_password_hash(password, method="pbkdf2:sha256:1")))
    ctx = {}
    seed_organisations_and_users(ctx)
    year = clock.today().year
    orgs = ctx["orgs"]
    ctx["projects"] = [make_project(orgs[k], year=year, name=f"演示项目{k}")
                       for k in ("edu", "edu/0", "health", "housing")]
    seed(ctx)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Meeting.id))) == 3
    assert set(db.session.scalars(sa.select(Action.state))) == set(ActionState)
    assert db.session.scalar(sa.select(sa.func.count(SharedDocument.id))) == 5
    assert db.session.scalars(search_documents(ctx["users"]["finance"], "棚户区 闲置")).all()
    assert len(plan_overlaps(year)) >= 4

    client = app.test_client()
    action = db.session.scalars(sa.select(Action).order_by(Action.id)).first()
    meeting_id, document_id = action.meeting_id, db.session.scalars(sa.select(SharedDocument.id)).first()
    pages = ["/conference/", f"/conference/meetings/{meeting_id}", f"/conference/meetings/{meeting_id}/minutes.docx",
             "/conference/actions", "/conference/actions?state=overdue", f"/conference/actions/{action.id}",
             "/conference/library?q=审计", f"/conference/library/{document_id}", "/conference/plans",
             "/conference/overview", "/conference/meetings/new", "/conference/library/new", "/"]
    for username, *_rest in USERS:
        assert factories.sign_in(client, username, DEMO_PASSWORD).status_code == 302  # with the TOTP step
        for path in pages:
            status = client.get(path).status_code
            assert status in (200, 403), (username, path, status)
        client.post("/logout")
