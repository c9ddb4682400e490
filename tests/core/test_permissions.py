"""A user of one organisation cannot read another's records through any URL."""
import sqlalchemy as sa

from portal.core.permissions import can, visible
from portal.performance.models import Project
from tests.factories import make_project


def test_units_see_their_own_and_subordinate_projects_only(db, world):
    own = make_project(world.department)
    sub = make_project(world.subunit)
    other = make_project(world.other_department)
    db.session.commit()

    def seen(user):
        return set(db.session.execute(visible(user, Project)).scalars())

    assert seen(world.unit) == {own, sub}
    assert seen(world.subunit_user) == {sub}
    assert seen(world.other_unit) == {other}
    assert seen(world.finance) == seen(world.audit) == seen(world.observer) == {own, sub, other}
    assert seen(world.agency) == set()
    assert not can(world.unit, "view", other)
    assert can(world.unit, "view", sub) and not can(world.subunit_user, "view", own)


def test_admin_pages_refuse_everyone_but_admins(client, world, login):
    for user in (world.finance, world.audit, world.unit, world.agency, world.observer):
        login(user)
        for url in ("/admin/users", f"/admin/users/{world.admin.id}", "/admin/organisations", "/audit",
                    "/security/", f"/security/users/{world.admin.id}", "/security/login-limits"):
            response = client.get(url)
            assert response.status_code == 403, (user.username, url)
            assert "无权访问" in response.get_data(as_text=True)
        client.post("/logout")
    login(world.admin)
    assert client.get("/admin/users").status_code == 200


def test_inactive_user_can_do_nothing(db, world):
    project = make_project(world.department)
    world.unit.is_active_account = False
    assert not can(world.unit, "view", project)
    assert db.session.execute(sa.select(sa.func.count()).select_from(visible(world.finance, Project).subquery())).scalar() == 1
