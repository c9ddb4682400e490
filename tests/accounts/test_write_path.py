"""Accounts on the core write path: stale saves of users and organisations refused, a double
submitted create form writes one user, parallel wrong passwords all count (SQL arithmetic in an
upsert), and every change audited with the changed fields only."""
import re

import sqlalchemy as sa

from portal.accounts import operations as ops
from portal.accounts.models import Organisation, Role, User
from portal.core.audit import AuditEntry, history
from tests import factories
from tests.concurrency import in_parallel, signed_in
from tests.factories import PASSWORD


def version_in(page: str) -> str:
    return re.search(r'name="lock_version" type="hidden" value="(\d+)"', page).group(1)


def user_form(user, version, **changes) -> dict:
    data = {"username": user.username, "display_name": user.display_name, "organisation_id": user.organisation_id,
            "roles": [str(r) for r in user.roles], "title": user.title, "email": user.email, "phone": user.phone,
            "lock_version": version}
    return {**data, **changes}


def second_admin(world):
    admin = factories.make_user(world.finance_bureau, Role.ADMIN, username="t_admin2", display_name="另一管理员")
    factories.db.session.commit()  # the other threads' connections see it
    return admin


def test_stale_user_save_is_refused_and_keeps_both(app, db, world):
    target = world.unit
    a, b = signed_in(app, world.admin), signed_in(app, second_admin(world))
    version_a = version_in(a.get(f"/admin/users/{target.id}").get_data(as_text=True))
    version_b = version_in(b.get(f"/admin/users/{target.id}").get_data(as_text=True))
    form_a, form_b = user_form(target, version_a), user_form(target, version_b)
    assert a.post(f"/admin/users/{target.id}", data={**form_a, "display_name": "甲改的姓名"}).status_code == 302
    refused = b.post(f"/admin/users/{target.id}", data={**form_b, "title": "乙填的职务"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "已被" in page and "姓名" in page  # who changed what
    assert "乙填的职务" in page  # B's input is still on the page
    db.session.expire_all()
    user = db.session.get(User, target.id)
    assert user.display_name == "甲改的姓名" and user.title == ""


def test_a_change_of_roles_alone_moves_the_version_on(app, db, world):
    """The security administrator gives roles (三权分立); a form either administrator opened
    before is then stale."""
    target = world.unit
    security = factories.make_user(world.finance_bureau, Role.SECURITY_ADMIN, username="t_security")
    other_security = factories.make_user(world.finance_bureau, Role.SECURITY_ADMIN, username="t_security2")
    db.session.commit()
    a, b, c = signed_in(app, security), signed_in(app, world.admin), signed_in(app, other_security)
    roles_a = version_in(a.get(f"/security/users/{target.id}").get_data(as_text=True))
    form_b = user_form(target, version_in(b.get(f"/admin/users/{target.id}").get_data(as_text=True)))
    roles_c = version_in(c.get(f"/security/users/{target.id}").get_data(as_text=True))
    assert a.post(f"/security/users/{target.id}/roles", data={"roles": ["unit_liaison", "observer"],
                                                              "lock_version": roles_a}).status_code == 302
    refused = b.post(f"/admin/users/{target.id}", data={**form_b, "phone": "12345"})
    assert refused.status_code == 422  # B's form was built before the roles changed
    refused = c.post(f"/security/users/{target.id}/roles", data={"roles": ["unit_liaison"], "lock_version": roles_c})
    assert refused.status_code == 422  # saving C's older roles would drop A's
    db.session.expire_all()
    user = db.session.get(User, target.id)
    assert user.roles == {Role.UNIT_LIAISON, Role.OBSERVER} and user.phone == ""
    [entry] = [e for e in history(user) if e.action == "user.roles"]
    assert entry.before_dict["roles"] == ["unit_liaison"]
    assert entry.after_dict["roles"] == ["observer", "unit_liaison"]


def org_form(org, version, **changes) -> dict:
    data = {"name": org.name, "short_name": org.short_name, "kind": str(org.kind), "code": org.code or "",
            "parent_id": org.parent_id or 0, "contact_person": org.contact_person,
            "contact_phone": org.contact_phone, "is_active": "y", "lock_version": version}
    return {**data, **changes}


def test_stale_organisation_save_is_refused_and_keeps_both(app, db, world):
    org = world.other_department
    a, b = signed_in(app, world.admin), signed_in(app, second_admin(world))
    form_a = org_form(org, version_in(a.get(f"/admin/organisations/{org.id}").get_data(as_text=True)))
    form_b = org_form(org, version_in(b.get(f"/admin/organisations/{org.id}").get_data(as_text=True)))
    assert a.post(f"/admin/organisations/{org.id}", data={**form_a, "contact_person": "甲联系人"}).status_code == 302
    refused = b.post(f"/admin/organisations/{org.id}", data={**form_b, "contact_phone": "0571-9999"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "已被" in page and "0571-9999" in page
    db.session.expire_all()
    saved = db.session.get(Organisation, org.id)
    assert saved.contact_person == "甲联系人" and saved.contact_phone == ""
    [entry] = [e for e in history(saved) if e.action == "organisation.update"]
    assert entry.before_dict == {"contact_person": ""} and entry.after_dict == {"contact_person": "甲联系人"}


def test_an_edit_without_its_version_is_refused(client, db, world, login):
    login(world.admin)
    data = user_form(world.unit, "")
    data.pop("lock_version")
    response = client.post(f"/admin/users/{world.unit.id}", data={**data, "title": "科长"})
    assert response.status_code == 422 and "版本" in response.get_data(as_text=True)


NEW_USER = {"username": "twice.user", "display_name": "双击", "roles": ["unit_liaison"], "password": "Lzcz#Perf88"}


def test_a_create_user_form_posted_twice_writes_one_user(client, db, world, login):
    login(world.admin)
    data = {**NEW_USER, "organisation_id": world.department.id, "form_key": "key-create-user-1"}
    first = client.post("/admin/users/new", data=data)
    second = client.post("/admin/users/new", data=data)
    assert first.status_code == 302 and second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]  # sent where the first went
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.username == "twice.user")) == 1


def test_two_tabs_submitting_one_create_form_at_once_write_one_user(app, db, world):
    data = {**NEW_USER, "organisation_id": world.department.id, "form_key": "key-create-user-2"}
    tabs = [signed_in(app, world.admin) for _ in range(2)]
    responses = in_parallel([lambda c=c: c.post("/admin/users/new", data=data) for c in tabs])
    assert sorted(r.status_code for r in responses) == [302, 302]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.username == "twice.user")) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "user.create")) == 1


def test_parallel_wrong_passwords_all_count(app, db, world):
    from portal.accounts.models import LoginThrottle

    clients = [app.test_client() for _ in range(5)]
    responses = in_parallel([lambda c=c: c.post("/login", data={"username": "t_unit", "password": "wrong-1"})
                             for c in clients])
    assert all(r.status_code == 422 for r in responses)
    db.session.expire_all()
    user = db.session.get(User, world.unit.id)
    # five failures counted everywhere (none lost to a read-modify-write), nothing locked
    assert user.failed_logins == 5
    counts = {t.scope: t.failures for t in db.session.scalars(sa.select(LoginThrottle))}
    assert counts == {"pair": 5, "address": 5, "account": 5}
    assert [e.action for e in history(user)].count("user.login_failed") == 5
    assert user.lock_version == world.unit.lock_version  # bookkeeping, not an edit of the account


def test_login_records_what_it_changed(client, db, world):
    version = world.unit.lock_version
    assert client.post("/login", data={"username": "t_unit", "password": "wrong-1"}).status_code == 422
    assert client.post("/login", data={"username": "t_unit", "password": PASSWORD}).status_code == 302
    db.session.expire_all()
    user = db.session.get(User, world.unit.id)
    failed, login = history(user)
    assert failed.action == "user.login_failed" and failed.before_dict == {"failed_logins": 0}
    assert failed.after_dict == {"failed_logins": 1}
    assert login.action == "user.login" and login.before_dict == {"failed_logins": 1, "last_login_at": None}
    assert login.after_dict["failed_logins"] == 0 and login.after_dict["last_login_at"]
    assert user.last_login_at is not None and user.lock_version == version


def test_every_account_change_is_audited_with_changed_fields_only(db, world):
    user = ops.create_user(actor=world.admin, username="audited", display_name="审计", organisation=world.department.id,
                           password="Lzcz#Perf88")
    db.session.commit()
    ops.update_user(user, actor=world.admin, version=user.lock_version, display_name="审计二", title="")
    ops.set_active(user, False, actor=world.admin)
    ops.set_active(user, False, actor=world.admin)  # already so: nothing to record
    ops.reset_password(user, "Qiu#Lan-2026", actor=world.admin)
    db.session.commit()
    created, updated, deactivated, reset = history(user)
    assert created.after_dict["username"] == "audited" and created.after_dict["roles"] == []
    assert updated.before_dict == {"display_name": "审计"} and updated.after_dict == {"display_name": "审计二"}
    assert deactivated.before_dict == {"is_active": True} and deactivated.after_dict == {"is_active": False}
    assert reset.action == "user.reset_password"
    for entry in (updated, deactivated, reset):
        assert all(entry.before_dict[k] != entry.after_dict[k] for k in entry.after_dict)
    assert "Qiu#Lan-2026" not in (reset.before or "") + (reset.after or "")
    assert user.password_hash not in (reset.before or "") + (reset.after or "")
