"""Joint evaluation teams (联合评价组): the team of a key evaluation, its working papers, opinions
and finalisation. The work assessment and the packages are in assessment_views.py and
package_views.py, on the same blueprint."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.models import OrgKind, Role, User
from portal.core import parsing
from portal.core.attachments import Attachment, attachments_of
from portal.core.audit import history
from portal.core.excel import safe_filename
from portal.core.permissions import can, require
from portal.core.writes import status, submit, submitted
from portal.extensions import db
from portal.oversight import operations, queries
from portal.oversight.forms import FinaliseForm, MemberForm, OpinionForm
from portal.oversight.models import JointTeam
from portal.oversight.policies import may_form_team
from portal.performance.models import Evaluation, EvaluationMode

bp = Blueprint("oversight", __name__, url_prefix="/oversight")


@bp.get("/teams")
def teams():
    require(current_user, "view", JointTeam)
    year = parsing.arg_year()
    forming = queries.key_evaluations_without_team(year) if year and can(current_user, "create", JointTeam) else []
    return render_template("portal/oversight/teams.html", teams=queries.teams(current_user, year), year=year,
                           forming=forming, can_form=can(current_user, "create", JointTeam))


def _evaluation_and_team(evaluation_id: int) -> tuple[Evaluation, JointTeam | None]:
    """Load → 404 → 403: the team page opens to whoever may view the team (a finance officer
    also before the team exists, to form it)."""
    evaluation = db.session.get(Evaluation, evaluation_id)
    if evaluation is None or evaluation.mode != EvaluationMode.FINANCE:
        abort(404)
    team = operations.team_of(evaluation)
    if team is None:
        if not may_form_team(current_user, evaluation):
            abort(404 if not can(current_user, "view", JointTeam) else 403)
    else:
        require(current_user, "view", team)
    return evaluation, team


def _candidates(evaluation: Evaluation, team: JointTeam | None) -> list[User]:
    """People who may sit on the team: the congress, the audit bureau, the project's department
    (and its units), the evaluation's agency (any agency when none is set), finance."""
    department = evaluation.project.department_id
    from portal.accounts.models import Organisation
    from portal.core.permissions import org_subtree_ids

    kinds = [OrgKind.CONGRESS, OrgKind.AUDIT_BUREAU, OrgKind.FINANCE_BUREAU]
    stmt = (sa.select(User).join(Organisation, User.organisation_id == Organisation.id)
            .where(User.is_active_account.is_(True),
                   sa.or_(Organisation.kind.in_(kinds),
                          Organisation.id.in_(org_subtree_ids(department)),
                          Organisation.id == evaluation.agency_id if evaluation.agency_id
                          else Organisation.kind == OrgKind.AGENCY))
            .order_by(Organisation.kind, Organisation.id, User.id))
    taken = {m.user_id for m in team.members} if team else set()
    return [u for u in db.session.scalars(stmt) if u.id not in taken and Role.EXPERT not in u.roles]


def _page(evaluation, team, *, member_form=None, opinion_form=None, finalise_form=None):
    member_form = member_form or MemberForm()
    can_form = may_form_team(current_user, evaluation) and (team is None or can(current_user, "form", team))
    if can_form:
        member_form.user_id.choices = [("", _("请选择"))] + [
            (str(u.id), f"{u.organisation.name} · {u.display_name}") for u in _candidates(evaluation, team)]
    finalise_form = finalise_form or FinaliseForm(obj=team)
    return render_template(
        "portal/oversight/team.html", evaluation=evaluation, project=evaluation.project, team=team,
        files=attachments_of(evaluation), member_form=member_form, opinion_form=opinion_form or OpinionForm(),
        finalise_form=finalise_form, can_form=can_form,
        can_opine=team is not None and can(current_user, "opine", team),
        can_finalise=team is not None and can(current_user, "finalise", team),
        see_evaluation=can(current_user, "view", evaluation),
        history=history(team) if team is not None else []), status(member_form)


@bp.get("/evaluations/<int:evaluation_id>/team")
def team(evaluation_id):
    evaluation, team_ = _evaluation_and_team(evaluation_id)
    return _page(evaluation, team_)


def _existing_team(evaluation_id: int, action: str) -> tuple[Evaluation, JointTeam]:
    """The evaluation and its team for a step on the team: 404 before the team exists, 403 unless
    the user may take the step."""
    evaluation, team_ = _evaluation_and_team(evaluation_id)
    if team_ is None:
        abort(404)
    require(current_user, action, team_)
    return evaluation, team_


def _back(evaluation) -> str:
    return url_for("oversight.team", evaluation_id=evaluation.id)


@bp.post("/evaluations/<int:evaluation_id>/team/members")
def add_member(evaluation_id):
    evaluation, team_ = _evaluation_and_team(evaluation_id)
    if not may_form_team(current_user, evaluation) or (team_ is not None and not can(current_user, "form", team_)):
        abort(403)
    form = MemberForm()
    form.user_id.choices = [(str(u.id), u.display_name) for u in _candidates(evaluation, team_)]
    done = submitted(form, operations.add_member, evaluation, actor=current_user, user_id=form.user_id.data,
                     role=form.role.data, redirect_to=_back(evaluation), success=_("成员已加入评价组。"))
    return done or _page(evaluation, operations.team_of(evaluation), member_form=form)


@bp.post("/evaluations/<int:evaluation_id>/team/members/<int:member_id>/remove")
def remove_member(evaluation_id, member_id):
    evaluation, team_ = _existing_team(evaluation_id, "form")
    return submit(operations.remove_member, team_, member_id, actor=current_user, redirect_to=_back(evaluation),
                  success=_("成员已移出评价组。")) or redirect(_back(evaluation))


@bp.post("/evaluations/<int:evaluation_id>/team/opinions")
def add_opinion(evaluation_id):
    evaluation, team_ = _existing_team(evaluation_id, "opine")
    form = OpinionForm()
    done = submitted(form, operations.add_opinion, team_, actor=current_user, text=form.text.data,
                     redirect_to=_back(evaluation) + "#opinions", success=_("意见已提交。"))
    return done or _page(evaluation, team_, opinion_form=form)


@bp.post("/evaluations/<int:evaluation_id>/team/finalise")
def finalise(evaluation_id):
    evaluation, team_ = _existing_team(evaluation_id, "finalise")
    form = FinaliseForm()
    done = submitted(form, operations.finalise, team_, actor=current_user, conclusion=form.conclusion.data,
                     version=form.lock_version.data, redirect_to=_back(evaluation),
                     success=_("联合评价意见已定稿。"))
    return done or _page(evaluation, team_, finalise_form=form)


@bp.get("/evaluations/<int:evaluation_id>/team/files/<int:attachment_id>")
def working_paper(evaluation_id, attachment_id):
    """A file of the evaluation's working papers, for whoever may view the team."""
    evaluation, team_ = _evaluation_and_team(evaluation_id)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.id not in {a.id for a in attachments_of(evaluation)}:
        abort(404)
    if not attachment.path.exists():
        abort(404)
    response = send_file(attachment.path, mimetype=attachment.mimetype, as_attachment=True,
                         download_name=safe_filename(attachment.filename))
    response.headers["Cache-Control"] = "private, no-store"
    return response


from portal.oversight import assessment_views, package_views  # noqa: E402,F401  (routes on bp)
