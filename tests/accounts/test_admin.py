from portal.accounts.models import Role, User
from portal.core.audit import history


def test_admin_creates_edits_deactivates_and_resets(client, db, world, login):
    login(world.admin)
    response = client.post("/admin/users/new", data={
        "username": "new.user", "display_name": "新同事", "organisation_id": world.department.id,
        "roles": ["unit_liaison"], "password": "Welcome2026", "email": "", "phone": "", "title": ""})
    assert response.status_code == 302
    user = db.session.query(User).filter_by(username="new.user").one()
    assert user.roles == {Role.UNIT_LIAISON}

    response = client.post("/admin/users/new", data={
        "username": "new.user", "display_name": "重名", "organisation_id": world.department.id,
        "roles": ["unit_liaison"], "password": "Welcome2026"})
    assert "已被使用" in response.get_data(as_text=True)

    client.post(f"/admin/users/{user.id}/active", data={"active": "0"})
    db.session.refresh(user)
    assert not user.is_active
    client.post(f"/admin/users/{user.id}/password", data={"password": "Another2026"})
    db.session.refresh(user)
    assert user.check_password("Another2026")
    assert [e.action for e in history(user)] == ["user.create", "user.deactivate", "user.reset_password"]


def test_bad_ids_are_404_not_500(client, world, login):
    login(world.admin)
    for url in ("/admin/users/0", "/admin/users/99999999999999999999", "/admin/organisations/424242"):
        assert client.get(url).status_code == 404
    assert client.get("/admin/organisations?kind=<script>").status_code == 200


def test_organisation_cannot_be_its_own_ancestor(client, db, world, login):
    login(world.admin)
    response = client.post(f"/admin/organisations/{world.department.id}", data={
        "name": world.department.name, "kind": "budget_unit", "parent_id": world.subunit.id, "is_active": "y"})
    assert "不能是本单位或其下属单位" in response.get_data(as_text=True)
