"""三权分立 (issue 15, item 6): system administrator (accounts and organisations), security
administrator (roles, sessions, login limits, 2FA resets) and audit administrator (the audit log); no one
holds two by default; each is refused the others' pages; the audit log is read by the audit
administrator and the joint-conference office only; entries are kept at least 180 days."""
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.accounts import operations as account_ops
from portal.accounts.models import ADMIN_DUTIES, Role
from portal.core import audit, clock
from portal.core.errors import DomainError, NotPermitted
from tests.factories import make_user


@pytest.fixture()
def admins(db, world):
    class Admins:
        system = world.admin
        security = make_user(world.finance_bureau, Role.SECURITY_ADMIN, username="t_security")
        auditor = make_user(world.finance_bureau, Role.AUDIT_ADMIN, username="t_auditor")
    db.session.commit()
    return Admins


@pytest.mark.parametrize("pair", [(Role.ADMIN, Role.SECURITY_ADMIN), (Role.ADMIN, Role.AUDIT_ADMIN),
                                  (Role.SECURITY_ADMIN, Role.AUDIT_ADMIN)])
def test_no_one_holds_two_administrators_roles(db, world, admins, pair):
    with pytest.raises(DomainError) as refused:  # the command line's create-user
        account_ops.create_user(actor=None, username="twohats", display_name="两职", roles=list(pair),
                                organisation=world.finance_bureau, password="Lz!2026-Secure-pass")
    assert refused.value.field == "roles" and "三权分立" in str(refused.value)
    db.session.rollback()
    with pytest.raises(DomainError) as refused:  # the security administrator's role assignment
        account_ops.assign_roles(world.unit, list(pair), actor=admins.security, version=world.unit.lock_version)
    assert refused.value.field == "roles" and "三权分立" in str(refused.value)
    db.session.rollback()
    with pytest.raises(DomainError):
        world.admin.set_roles([*pair])
    db.session.rollback()


def test_an_administrator_may_hold_other_roles_and_the_flag_allows_two(app, db, world):
    world.admin.set_roles([Role.ADMIN, Role.FINANCE_OFFICER])
    app.config["ALLOW_COMBINED_ADMIN_DUTIES"] = True
    try:
        world.admin.set_roles(ADMIN_DUTIES)
        assert world.admin.roles == set(ADMIN_DUTIES)
    finally:
        app.config["ALLOW_COMBINED_ADMIN_DUTIES"] = False
    db.session.rollback()


def test_the_roles_form_refuses_a_second_duty(db, world, admins, login):
    client = login(admins.security)
    user = admins.auditor
    response = client.post(f"/security/users/{user.id}/roles", data={
        "roles": ["security_admin", "audit_admin"], "lock_version": user.lock_version})
    assert response.status_code == 422 and "三权分立" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(type(user), user.id).roles == {Role.AUDIT_ADMIN}


def test_the_security_administrator_gives_roles_but_never_their_own(db, world, admins, login, client):
    login(admins.security)
    response = client.post(f"/security/users/{world.unit.id}/roles", data={
        "roles": ["unit_liaison", "observer"], "lock_version": world.unit.lock_version})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(world.unit), world.unit.id).roles == {Role.UNIT_LIAISON, Role.OBSERVER}
    me = db.session.get(type(admins.security), admins.security.id)
    page = client.get(f"/security/users/{me.id}").get_data(as_text=True)
    assert "不能更改自己的角色" in page and 'name="roles"' not in page
    response = client.post(f"/security/users/{me.id}/roles", data={
        "roles": ["security_admin", "finance_officer"], "lock_version": me.lock_version})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(type(me), me.id).roles == {Role.SECURITY_ADMIN}


@pytest.mark.parametrize("who", ["system", "audit"])
def test_the_operations_refuse_the_other_administrators(db, world, admins, who):
    actor = admins.system if who == "system" else admins.auditor
    target = world.unit
    for call in (lambda: account_ops.assign_roles(target, ["observer"], actor=actor, version=target.lock_version),
                 lambda: account_ops.end_sessions(target, actor=actor),
                 lambda: account_ops.reset_totp(world.admin, actor=actor),
                 lambda: account_ops.clear_login_limit(None, actor=actor)):
        with pytest.raises(NotPermitted):
            call()
    with pytest.raises(NotPermitted):  # and the security administrator is refused the accounts
        account_ops.reset_password(target, "Qiu#Lan-2026", actor=admins.security)
    with pytest.raises(NotPermitted):
        account_ops.set_active(target, False, actor=admins.security)
    db.session.rollback()


def _pages(world, target):
    return {
        "system": [("GET", "/admin/users"), ("GET", "/admin/organisations"), ("GET", f"/admin/users/{target.id}"),
                   ("GET", "/admin/users/new"), ("POST", f"/admin/users/{target.id}/active"),
                   ("POST", f"/admin/users/{target.id}/password")],
        "security": [("GET", "/security/"), ("GET", f"/security/users/{target.id}"),
                     ("POST", f"/security/users/{target.id}/roles"),
                     ("POST", f"/security/users/{target.id}/sessions/end"),
                     ("POST", f"/security/users/{world.admin.id}/2fa/reset"),
                     ("GET", "/security/login-limits"), ("POST", "/security/login-limits/clear")],
        "audit": [("GET", "/audit"), ("GET", "/audit?record_type=users")],
    }


@pytest.mark.parametrize("who", ["system", "security", "audit"])
def test_each_administrator_is_refused_the_others_pages(db, world, admins, login, client, who):
    user = {"system": admins.system, "security": admins.security, "audit": admins.auditor}[who]
    login(user)
    for duty, pages in _pages(world, world.unit).items():
        for method, url in pages:
            response = client.get(url) if method == "GET" else client.post(url, data={})
            if duty == who:
                assert response.status_code in (200, 302, 400, 422), (who, url, response.status_code)  # 400: allowed, the empty form refused
            else:
                assert response.status_code == 403, (who, url, response.status_code)


@pytest.mark.parametrize("who,allowed", [("conference", True), ("finance", False), ("audit", False),
                                         ("observer", False), ("unit", False), ("expert", False)])
def test_the_audit_log_is_read_by_the_audit_administrator_and_the_conference_office(db, world, login, client,
                                                                                   who, allowed):
    login(getattr(world, who))
    assert client.get("/audit").status_code == (200 if allowed else 403)


def test_the_menu_shows_each_administrator_their_own_pages(db, world, admins, login, client):
    login(admins.auditor)
    page = client.get("/").get_data(as_text=True)
    assert 'href="/audit"' in page and 'href="/admin/users"' not in page and 'href="/security/"' not in page
    client.post("/logout")
    login(admins.security)
    page = client.get("/").get_data(as_text=True)
    assert 'href="/security/"' in page and 'href="/audit"' not in page and 'href="/admin/users"' not in page
    client.post("/logout")
    login(admins.system)
    page = client.get("/").get_data(as_text=True)
    assert 'href="/admin/users"' in page and 'href="/security/"' not in page and 'href="/audit"' not in page
    for url in ("/admin/users", f"/admin/users/{admins.security.id}"):  # no button to a page that answers 403
        page = client.get(url).get_data(as_text=True)
        assert "/security/" not in page and "/audit" not in page, url


# ---- retention: purge only older than 180 days, by command ------------------------------------

def _old_entries(world, days_ago: int, n: int):
    with clock.frozen(clock.now() - timedelta(days=days_ago)):
        for i in range(n):
            audit.append(world.admin, "test.old", "users", str(i), after={"i": i})


@pytest.mark.parametrize("days", [0, 30, 179])
def test_purge_refuses_less_than_180_days(app, db, world, days):
    _old_entries(world, 400, 2)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["audit", "purge", "--older-than-days", str(days)])
    assert result.exit_code != 0 and "180" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(audit.AuditEntry)) == 2


def test_purge_deletes_only_old_entries_audits_itself_and_verify_still_passes(app, db, world):
    _old_entries(world, 400, 3)
    _old_entries(world, 200, 2)
    _old_entries(world, 10, 2)
    db.session.commit()
    audit.write_checkpoint()
    assert audit.verify().ok
    result = app.test_cli_runner().invoke(args=["audit", "purge", "--older-than-days", "300"])
    assert result.exit_code == 0, result.output
    assert "purged 3 entries" in result.output
    actions = db.session.scalars(sa.select(audit.AuditEntry.action).order_by(audit.AuditEntry.id)).all()
    assert actions == ["test.old"] * 4 + ["audit.purge"]
    report = audit.verify()
    assert report.ok, report.problems
    note = json.loads(audit.checkpoint_file().read_text().splitlines()[-1])
    assert note["genesis"]["deleted"] == 3 and "purge" in note["note"]
    # entries written after the purge chain on; the next checkpoint and verify agree
    audit.append(world.admin, "test.new", "users", "9")
    db.session.commit()
    audit.write_checkpoint()
    assert audit.verify().ok
    # a further deletion from the start, outside the purge, is still detected
    if db.engine.dialect.name == "sqlite":
        first = db.session.scalar(sa.select(sa.func.min(audit.AuditEntry.id)))
        db.session.execute(sa.delete(audit.AuditEntry).where(audit.AuditEntry.id == first))
        db.session.commit()
        assert not audit.verify().ok


def test_on_postgresql_the_log_stays_append_only_after_a_purge(app, db, world):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only")
    _old_entries(world, 400, 2)
    _old_entries(world, 1, 1)
    db.session.commit()
    assert audit.purge(180).deleted == 2
    with pytest.raises(sa.exc.DBAPIError):
        db.session.execute(sa.delete(audit.AuditEntry))
        db.session.flush()
    db.session.rollback()
    assert audit.verify().ok


def test_a_purge_of_every_entry_restarts_the_chain_at_its_own_entry(app, db, world):
    _old_entries(world, 400, 3)
    db.session.commit()
    done = audit.purge(180)
    assert done.deleted == 3
    assert db.session.scalars(sa.select(audit.AuditEntry.action)).all() == ["audit.purge"]
    assert audit.verify().ok


@pytest.mark.parametrize("who,allowed", [("admin", True), ("finance", False), ("audit", False)])
def test_settings_buttons_are_shown_exactly_to_who_may_open_them(db, world, admins, login, client, who, allowed):
    """The letters' 发文机关代字 and 节假日表 buttons come from the same can() the pages ask."""
    login(getattr(world, who))
    page = client.get("/inquiries/").get_data(as_text=True)
    for url in ("/inquiries/admin/codes", "/inquiries/admin/holidays"):
        assert (url in page) is allowed, (who, url)
        assert client.get(url).status_code == (200 if allowed else 403), (who, url)
