from portal.accounts.models import Role, User
from portal.core.audit import history
from tests import factories


def test_admin_creates_edits_deactivates_and_resets(client, db, world, login):
    login(world.admin)
    response = client.post("/admin/users/new", data={
        "username": "new.user", "display_name": "新同事", "organisation_id": world.department.id,
        "roles": ["admin"], "password": "Lzcz#Perf88", "email": "", "phone": "", "title": ""})
    assert response.status_code == 302
    user = db.session.query(User).filter_by(username="new.user").one()
    # 三权分立: the system administrator creates the account; its roles are the security
    # administrator's to give (a posted roles field is ignored)
    assert user.roles == set() and user.must_change_password

    response = client.post("/admin/users/new", data={
        "username": "new.user", "display_name": "重名", "organisation_id": world.department.id,
        "password": "Lzcz#Perf88"})
    assert response.status_code == 422 and "已被使用" in response.get_data(as_text=True)

    client.post(f"/admin/users/{user.id}/active", data={"active": "0"})
    db.session.refresh(user)
    assert not user.is_active
    client.post(f"/admin/users/{user.id}/password", data={"password": "Qiu#Lan-2026"})
    db.session.refresh(user)
    assert user.check_password("Qiu#Lan-2026") and user.must_change_password
    assert [e.action for e in history(user)] == ["user.create", "user.deactivate", "user.reset_password"]


def test_a_reset_password_must_be_changed_before_anything_else(app, db, world, client, login):
    login(world.admin)
    assert client.post(f"/admin/users/{world.unit.id}/password",
                       data={"password": "Qiu#Lan-2026"}).status_code == 302
    user_client = app.test_client()
    assert factories.sign_in(user_client, world.unit.username, "Qiu#Lan-2026").status_code == 302
    for path in ("/", "/projects", "/notifications", "/account/2fa/recovery-codes"):
        response = user_client.get(path) if path != "/account/2fa/recovery-codes" else user_client.post(path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/account/password"), path
    page = user_client.get("/account/password").get_data(as_text=True)
    assert "管理员告知的密码" in page
    response = user_client.post("/account/password", data={"current_password": "Qiu#Lan-2026",
                                                          "new_password": "Lzcz#Perf88"})
    assert response.status_code == 302
    db.session.expire_all()
    assert not db.session.get(User, world.unit.id).must_change_password
    assert factories.sign_in(user_client, world.unit.username, "Lzcz#Perf88").status_code == 302
    assert user_client.get("/projects").status_code == 200


def test_the_system_administrator_keeps_accounts_and_organisations_only(db, world, client, login):
    login(world.admin)
    page = client.get(f"/admin/users/{world.unit.id}").get_data(as_text=True)
    assert "重置密码" in page and "停用账户" in page
    for absent in ("退出全部会话", "重置双因素认证", 'name="roles"', "/security/"):
        assert absent not in page, absent
    listing = client.get("/admin/users").get_data(as_text=True)
    assert "/admin/organisations" in listing and "/security/login-limits" not in listing
    # an edit that posts roles changes none
    response = client.post(f"/admin/users/{world.unit.id}", data={
        "username": world.unit.username, "display_name": "改名", "organisation_id": world.department.id,
        "roles": ["admin"], "lock_version": world.unit.lock_version})
    assert response.status_code == 302
    db.session.expire_all()
    unit = db.session.get(User, world.unit.id)
    assert unit.display_name == "改名" and unit.roles == {Role.UNIT_LIAISON}


def test_bad_ids_are_404_not_500(client, world, login):
    login(world.admin)
    for url in ("/admin/users/0", "/admin/users/99999999999999999999", "/admin/organisations/424242"):
        assert client.get(url).status_code == 404
    assert client.get("/admin/organisations?kind=<script>").status_code == 200


def test_organisation_cannot_be_its_own_ancestor(client, db, world, login):
    login(world.admin)
    response = client.post(f"/admin/organisations/{world.department.id}", data={
        "name": world.department.name, "kind": "budget_unit", "parent_id": world.subunit.id, "is_active": "y",
        "lock_version": world.department.lock_version})
    assert response.status_code == 422 and "不能是本单位或其下属单位" in response.get_data(as_text=True)


def test_the_active_switch_and_versions_refuse_tampered_values(client, db, world, login):
    login(world.admin)
    user = world.unit
    for bad in ("yes", "2", "1" * 300, ""):
        assert client.post(f"/admin/users/{user.id}/active", data={"active": bad}).status_code == 400, bad
        db.session.refresh(user)
        assert user.is_active, bad
    response = client.post(f"/admin/users/{user.id}", data={
        "username": user.username, "display_name": "改过的名字", "organisation_id": user.organisation_id,
        "lock_version": str(10**26), "email": "", "phone": "", "title": ""})
    assert response.status_code == 422 and "改过的名字" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.display_name != "改过的名字"
    assert client.post(f"/admin/users/{user.id}/active", data={"active": "0"}).status_code == 302
    db.session.refresh(user)
    assert not user.is_active
