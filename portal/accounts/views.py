"""Login, logout, own password; the system administrator's organisations and users (the security
administrator's pages: portal/accounts/security_views.py)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from portal.accounts import operations, passwords, queries, sessions, twofactor
from portal.accounts.forms import (
    ActiveForm,
    ChangePasswordForm,
    ConfirmPasswordForm,
    LoginForm,
    OrganisationForm,
    ResetPasswordForm,
    SecondFactorForm,
    UserForm,
)
from portal.accounts.models import Organisation, OrgKind, User
from portal.core import clock, parsing
from portal.core.errors import DomainError
from portal.core.pagination import paginate
from portal.core.permissions import can, load_or_404, require
from portal.core.writes import perform, show_error, status, submit
from portal.extensions import login_manager

auth_bp = Blueprint("auth", __name__)
admin_bp = Blueprint("admin", __name__, url_prefix="/admin")


@login_manager.user_loader
def load_user(token):
    """The session cookie holds a session token, never a user id (portal/accounts/sessions.py)."""
    return sessions.load_from_session(token)


login_manager.request_loader(sessions.load_from_remember_cookie)

PENDING_KEY = "_2fa"  # a sign-in whose password was right and whose second factor is awaited
PENDING_SECONDS = 300


def _client() -> dict:
    return {"address": request.remote_addr or "", "user_agent": request.user_agent.string or ""}


def _pending() -> dict | None:
    data = session.get(PENDING_KEY)
    if not isinstance(data, dict) or int(clock.now().timestamp()) - data.get("at", 0) > PENDING_SECONDS:
        session.pop(PENDING_KEY, None)
        return None
    return data


def _safe_next(target: str | None) -> str:
    from portal.core.redirects import safe_next

    return safe_next(target, url_for("core.dashboard"))


@auth_bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.dashboard"))
    if request.args.get("restart"):
        session.pop(PENDING_KEY, None)
    pending = _pending()
    if pending is not None:
        return _second_factor(pending)
    form = LoginForm()
    if form.validate_on_submit():
        # A refused login writes too (the failure counts): the operation returns the refusal and
        # perform() commits it.
        try:
            attempt = perform(operations.log_in, form.username.data, form.password.data,
                              remember=bool(form.remember.data), **_client())
        except DomainError as error:  # e.g. a replayed one-time form key
            show_error(error, form)
        else:
            if attempt.second_factor:
                session[PENDING_KEY] = {"uid": attempt.user.id, "remember": bool(form.remember.data),
                                        "at": int(clock.now().timestamp())}
                return redirect(url_for("auth.login", next=request.args.get("next")))
            if attempt.started is not None:
                sessions.begin(attempt.started, attempt.user)
                return redirect(_safe_next(request.args.get("next")))
            form.password.errors.append(attempt.refusal)
    return render_template("portal/accounts/login.html", form=form), status(form)


def _second_factor(pending: dict):
    """The second step of a sign-in: a code from the authenticator, or a recovery code."""
    form = SecondFactorForm()
    if form.validate_on_submit():
        try:
            attempt = perform(operations.complete_second_factor, pending["uid"], form.code.data,
                              remember=bool(pending.get("remember")), **_client())
        except DomainError as error:
            show_error(error, form)
        else:
            if attempt.started is not None:
                sessions.begin(attempt.started, attempt.user)
                return redirect(_safe_next(request.args.get("next")))
            form.code.errors.append(attempt.refusal)
    return render_template("portal/accounts/login_2fa.html", form=form), status(form)


@auth_bp.post("/logout")
def logout():
    """Ends this session's row: a copy of the session cookie or of the remember cookie taken
    before is refused from now on."""
    if current_user.is_authenticated:
        perform(operations.log_out, session.get("_user_id"), current_user._get_current_object())
    logout_user()
    session.clear()
    g.clear_remember = True
    flash(_("您已安全退出。"), "success")
    return redirect(url_for("auth.login"))


@auth_bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        done = submit(operations.change_own_password, current_user, form.current_password.data, form.new_password.data,
                      form=form, redirect_to=url_for("auth.login"),
                      success=_("密码已修改，所有会话均已退出，请用新密码重新登录。"))
        if done:
            if done.status_code == 302 and not form.errors:
                logout_user()  # every session of the user ended with the change, this one too
                g.clear_remember = True
            return done
    return render_template("portal/accounts/password.html", form=form, expired=passwords.expired(current_user),
                           forced=current_user.must_change_password), status(form)


# ---- two-factor sign-in ----------------------------------------------------------------

CANDIDATE_KEY = "_totp_candidate"


@auth_bp.get("/account/2fa")
def two_factor():
    """Enrol (a QR code of a new secret, kept in the signed session until confirmed) or manage."""
    qr = secret = None
    if not current_user.has_totp:
        secret = session.get(CANDIDATE_KEY) or twofactor.new_secret()
        session[CANDIDATE_KEY] = secret
        qr = twofactor.qr_data_uri(twofactor.provisioning_uri(secret, current_user))
    return render_template("portal/accounts/two_factor.html", form=SecondFactorForm(),
                           password_form=ConfirmPasswordForm(), disable_form=ConfirmPasswordForm(prefix="disable"),
                           qr=qr, secret=secret,
                           required=twofactor.required(current_user),
                           codes_left=twofactor.recovery_codes_left(current_user) if current_user.has_totp else 0)


@auth_bp.post("/account/2fa/enable")
def enable_two_factor():
    form = SecondFactorForm()
    if not form.validate_on_submit():
        flash(_("请输入验证码。"), "error")
        return redirect(url_for("auth.two_factor"))
    try:
        codes = perform(operations.enable_totp, current_user._get_current_object(), session.get(CANDIDATE_KEY, ""),
                        form.code.data)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("auth.two_factor"))
    session.pop(CANDIDATE_KEY, None)
    flash(_("双因素认证已开启。"), "success")
    return render_template("portal/accounts/recovery_codes.html", codes=codes)


@auth_bp.post("/account/2fa/recovery-codes")
def renew_recovery_codes():
    form = ConfirmPasswordForm()
    try:
        codes = perform(operations.new_recovery_codes, current_user._get_current_object(), form.password.data or "")
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("auth.two_factor"))
    return render_template("portal/accounts/recovery_codes.html", codes=codes)


@auth_bp.post("/account/2fa/disable")
def disable_two_factor():
    form = ConfirmPasswordForm(prefix="disable")
    return submit(operations.disable_totp, current_user._get_current_object(), form.password.data or "",
                  redirect_to=url_for("auth.two_factor"), success=_("双因素认证已关闭。")) \
        or redirect(url_for("auth.two_factor"))


ACCOUNT_ENDPOINTS = {"auth.login", "auth.logout", "auth.two_factor", "auth.enable_two_factor",
                     "auth.change_password", "core.set_language", "static"}


def enforce_account_rules():
    """Before anything else: enrol in 2FA when the role requires it; change a password an
    administrator set (reset or new account) or one that has expired."""
    endpoint = request.endpoint or ""
    if endpoint in ACCOUNT_ENDPOINTS or endpoint.startswith(("api.", "health.")):
        return None
    if not current_user.is_authenticated:
        return None
    if not current_user.has_totp and twofactor.required(current_user):
        flash(_("您的角色须使用双因素认证：请先用验证器应用扫描二维码完成绑定。"), "warning")
        return redirect(url_for("auth.two_factor"))
    if current_user.must_change_password:
        flash(_("管理员已为您重置密码，请先设置只有您知道的新密码。"), "warning")
        return redirect(url_for("auth.change_password"))
    if passwords.expired(current_user):
        flash(_("密码已超过有效期，请先修改密码。"), "warning")
        return redirect(url_for("auth.change_password"))
    return None


# ---- administration -------------------------------------------------------------------

@admin_bp.get("/users")
def users():
    require(current_user, "edit", User)
    q = request.args.get("q", "").strip()[:60]
    return render_template("portal/accounts/users.html", page=paginate(queries.users_for(current_user, q)), q=q,
                           can_organisations=can(current_user, "edit", Organisation))


def _to_edit(model: type, record_id: int | None):
    """The record an edit page shows (404 when missing, 403 when not the user's to edit), or None
    on the page that creates one, once the user may create it."""
    if record_id is not None:
        return load_or_404(model, record_id, "edit")
    require(current_user, "edit", model)
    return None


@admin_bp.route("/users/new", methods=["GET", "POST"])
@admin_bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id=None):
    user = _to_edit(User, user_id)
    form = UserForm(obj=user)
    form.organisation_id.choices = queries.organisation_choices()
    if form.validate_on_submit():
        # The version the page was built on: EditForm keeps it None when a post lacks it (it
        # would otherwise borrow the record's current one from `obj=`).
        fields = dict(username=form.username.data, display_name=form.display_name.data,
                      organisation=form.organisation_id.data,
                      email=form.email.data or "", phone=form.phone.data or "", title=form.title.data or "")
        if user is None:
            done = submit(operations.create_user, actor=current_user, password=form.password.data or "", **fields,
                          form=form, redirect_to=url_for("admin.users"),
                          success=lambda u: _("已创建用户“%(name)s”：角色由安全管理员分配，首次登录须修改密码。",
                                              name=u.display_name))
        else:
            done = submit(operations.update_user, user, actor=current_user, version=form.lock_version.data, **fields,
                          form=form, redirect_to=url_for("admin.users"),
                          success=lambda u: _("已保存用户“%(name)s”。", name=u.display_name))
        if done:
            return done
    return render_template("portal/accounts/user_form.html", form=form, user=user,
                           reset_form=ResetPasswordForm()), status(form)


@admin_bp.post("/users/<int:user_id>/active")
def toggle_user(user_id):
    user = load_or_404(User, user_id, "edit")
    target = url_for("admin.edit_user", user_id=user.id)
    form = ActiveForm()
    parsing.require_valid(form)  # neither "1" nor "0": 400, the account unchanged
    return submit(operations.set_active, user, form.active.data == "1", actor=current_user,
                  redirect_to=target, success=_("已更新账户状态。")) or redirect(target)


@admin_bp.post("/users/<int:user_id>/password")
def reset_password(user_id):
    user = load_or_404(User, user_id, "edit")
    target = url_for("admin.edit_user", user_id=user.id)
    form = ResetPasswordForm()
    if not form.validate_on_submit():
        flash(_("请输入新密码。"), "error")
        return redirect(target)
    name = user.display_name
    return submit(operations.reset_password, user, form.password.data, actor=current_user, redirect_to=target,
                  success=_("已重置“%(name)s”的密码。", name=name)) or redirect(target)


@admin_bp.get("/organisations")
def organisations():
    require(current_user, "edit", Organisation)
    kind = request.args.get("kind", "")
    return render_template("portal/accounts/organisations.html", page=paginate(queries.organisations_of_kind(kind),
                                                                               per_page=50), kind=kind)


@admin_bp.route("/organisations/new", methods=["GET", "POST"])
@admin_bp.route("/organisations/<int:org_id>", methods=["GET", "POST"])
def edit_organisation(org_id=None):
    org = _to_edit(Organisation, org_id)
    form = OrganisationForm(obj=org)
    form.parent_id.choices = queries.organisation_choices(blank=_("（无）"))
    if request.method == "GET" and org:
        form.kind.data = str(org.kind)
        form.parent_id.data = org.parent_id or 0
    if form.validate_on_submit():
        done = submit(
            operations.save_organisation, org, actor=current_user, version=form.lock_version.data,
            name=form.name.data.strip(), short_name=(form.short_name.data or "").strip(),
            kind=OrgKind(form.kind.data), code=(form.code.data or "").strip() or None,
            parent_id=form.parent_id.data or None, contact_person=form.contact_person.data or "",
            contact_phone=form.contact_phone.data or "", is_active=form.is_active.data,
            form=form, redirect_to=url_for("admin.organisations"),
            success=lambda o: _("已保存机构“%(name)s”。", name=o.name))
        if done:
            return done
    return render_template("portal/accounts/organisation_form.html", form=form, org=org), status(form)


@admin_bp.errorhandler(ValueError)
def _bad_value(_error):
    abort(400)
