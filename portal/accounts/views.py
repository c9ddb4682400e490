"""Login, logout, own password; the administrator's organisations and users."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from portal.accounts import operations as ops
from portal.accounts.forms import ChangePasswordForm, LoginForm, OrganisationForm, ResetPasswordForm, UserForm
from portal.accounts.models import Organisation, OrgKind, User
from portal.core.errors import DomainError
from portal.core.pagination import paginate
from portal.core.permissions import load_or_404, require, visible
from portal.extensions import db, login_manager

auth_bp = Blueprint("auth", __name__)
admin_bp = Blueprint("admin", __name__, url_prefix="/admin")


@login_manager.user_loader
def load_user(user_id):
    try:
        return db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("core.dashboard")


@auth_bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = ops.authenticate(form.username.data, form.password.data)
        except DomainError as error:
            db.session.commit()
            form.password.errors.append(error.message)
        else:
            db.session.commit()
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("portal/accounts/login.html", form=form)


@auth_bp.post("/logout")
def logout():
    logout_user()
    flash(_("您已安全退出。"), "success")
    return redirect(url_for("auth.login"))


@auth_bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            ops.change_own_password(current_user, form.current_password.data, form.new_password.data)
        except DomainError as error:
            getattr(form, error.field or "new_password").errors.append(error.message)
        else:
            db.session.commit()
            flash(_("密码已修改。"), "success")
            return redirect(url_for("core.dashboard"))
    return render_template("portal/accounts/password.html", form=form)


# ---- administration -------------------------------------------------------------------

def _org_choices(blank: str | None = None):
    orgs = db.session.execute(sa.select(Organisation).order_by(Organisation.kind, Organisation.id)).scalars()
    choices = [(o.id, o.name) for o in orgs]
    return ([(0, blank)] + choices) if blank is not None else choices


@admin_bp.get("/users")
def users():
    require(current_user, "edit", User)
    stmt = visible(current_user, User).order_by(User.organisation_id, User.id)
    q = request.args.get("q", "").strip()[:60]
    if q:
        stmt = stmt.where(sa.or_(User.username.contains(q), User.display_name.contains(q)))
    return render_template("portal/accounts/users.html", page=paginate(stmt), q=q)


@admin_bp.route("/users/new", methods=["GET", "POST"])
@admin_bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id=None):
    user = load_or_404(User, user_id, "edit") if user_id is not None else None
    if user is None:
        require(current_user, "edit", User)
    form = UserForm(obj=user)
    form.organisation_id.choices = _org_choices()
    if request.method == "GET" and user:
        form.roles.data = [str(r) for r in user.roles]
    if form.validate_on_submit():
        org = db.session.get(Organisation, form.organisation_id.data)
        try:
            if org is None:
                raise DomainError(_("请选择机构。"), field="organisation_id")
            if user is None:
                user = ops.create_user(actor=current_user, username=form.username.data,
                                       display_name=form.display_name.data, organisation=org,
                                       roles=form.roles.data, password=form.password.data or "",
                                       email=form.email.data or "", phone=form.phone.data or "",
                                       title=form.title.data or "")
            else:
                ops.update_user(user, actor=current_user, roles=form.roles.data, username=form.username.data,
                                display_name=form.display_name.data, organisation_id=org.id,
                                email=form.email.data or "", phone=form.phone.data or "",
                                title=form.title.data or "")
        except DomainError as error:
            db.session.rollback()
            getattr(form, error.field or "username").errors.append(error.message)
        else:
            db.session.commit()
            flash(_("已保存用户“%(name)s”。", name=user.display_name), "success")
            return redirect(url_for("admin.users"))
    return render_template("portal/accounts/user_form.html", form=form, user=user,
                           reset_form=ResetPasswordForm())


@admin_bp.post("/users/<int:user_id>/active")
def toggle_user(user_id):
    user = load_or_404(User, user_id, "edit")
    try:
        ops.set_active(user, request.form.get("active") == "1", actor=current_user)
    except DomainError as error:
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("已更新账户状态。"), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@admin_bp.post("/users/<int:user_id>/password")
def reset_password(user_id):
    user = load_or_404(User, user_id, "edit")
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            ops.reset_password(user, form.password.data, actor=current_user)
        except DomainError as error:
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(_("已重置“%(name)s”的密码。", name=user.display_name), "success")
    else:
        flash(_("请输入新密码。"), "error")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@admin_bp.get("/organisations")
def organisations():
    require(current_user, "edit", Organisation)
    stmt = sa.select(Organisation).order_by(Organisation.kind, Organisation.parent_id.nulls_first(), Organisation.id)
    kind = request.args.get("kind", "")
    if kind in {k.value for k in OrgKind}:
        stmt = stmt.where(Organisation.kind == OrgKind(kind))
    return render_template("portal/accounts/organisations.html", page=paginate(stmt, per_page=50), kind=kind)


@admin_bp.route("/organisations/new", methods=["GET", "POST"])
@admin_bp.route("/organisations/<int:org_id>", methods=["GET", "POST"])
def edit_organisation(org_id=None):
    org = load_or_404(Organisation, org_id, "edit") if org_id is not None else None
    if org is None:
        require(current_user, "edit", Organisation)
    form = OrganisationForm(obj=org)
    form.parent_id.choices = _org_choices(blank=_("（无）"))
    if request.method == "GET" and org:
        form.kind.data = str(org.kind)
        form.parent_id.data = org.parent_id or 0
    if form.validate_on_submit():
        try:
            org = ops.save_organisation(
                org, actor=current_user, name=form.name.data.strip(), short_name=(form.short_name.data or "").strip(),
                kind=OrgKind(form.kind.data), code=(form.code.data or "").strip() or None,
                parent_id=form.parent_id.data or None, contact_person=form.contact_person.data or "",
                contact_phone=form.contact_phone.data or "", is_active=form.is_active.data)
        except DomainError as error:
            db.session.rollback()
            getattr(form, error.field or "name").errors.append(error.message)
        else:
            db.session.commit()
            flash(_("已保存机构“%(name)s”。", name=org.name), "success")
            return redirect(url_for("admin.organisations"))
    return render_template("portal/accounts/organisation_form.html", form=form, org=org)


@admin_bp.errorhandler(ValueError)
def _bad_value(_error):
    abort(400)
