"""Ex-ante assessment pages: load (404) → authorise (403) → one operation through
`submit`/`perform` (one commit; 422 with the user's input on a refusal) → redirect."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.models import Role, User
from portal.assessments import forms, operations, queries, rules
from portal.assessments.models import DIMENSIONS, Assessment, AssessmentState, Method, ScoreSheet
from portal.assessments.policies import is_finance_officer, own_sheet
from portal.core import clock, parsing
from portal.core.attachments import attachments_of
from portal.core.audit import history
from portal.core.pagination import paginate
from portal.core.permissions import can, load_or_404, require, visible
from portal.core.writes import status, submit, submitted
from portal.extensions import db
from portal.performance.models import Level1, PerformanceSetting, Project
from portal.reviews.operations import pool_for

bp = Blueprint("assessments", __name__, url_prefix="/assessments")


def _detail(assessment_id):
    return lambda _result: url_for("assessments.detail", assessment_id=assessment_id)


def _application(form) -> operations.Application:
    return operations.Application(basis=form.basis.data, plan=form.plan.data, costing=form.costing.data,
                                  overall_goal=form.overall_goal.data, requested_amount=form.requested_amount.data,
                                  indicators=form.indicator_rows())


@bp.get("/")
def index():
    require(current_user, "view", Assessment)
    year, state = parsing.arg_year(), request.args.get("state", "")
    page = paginate(queries.list_stmt(current_user, year=year, state=state))
    return render_template("portal/assessments/index.html", page=page, year=year, state=state,
                           states=AssessmentState, may_apply=can(current_user, "create", Assessment),
                           may_overview=can(current_user, "overview", Assessment))


def _applicable_projects():
    """Projects the user may apply for: in reach for editing, this year or later, none yet."""
    taken = sa.select(Assessment.project_id)
    stmt = (visible(current_user, Project).where(Project.year >= clock.today().year, Project.id.not_in(taken))
            .order_by(Project.year.desc(), Project.code).limit(500))
    return [p for p in db.session.scalars(stmt) if can(current_user, "edit", p)]


@bp.route("/new", methods=["GET", "POST"])
def new():
    require(current_user, "create", Assessment)
    form = forms.ApplicationForm()
    projects = _applicable_projects()
    form.project_id.choices = [(p.id, f"{p.year} · {p.code} · {p.name}") for p in projects]
    if request.method == "GET" and parsing.arg_id("project_id"):
        form.project_id.data = parsing.arg_id("project_id")
    valid = form.validate_on_submit()
    if valid and not form.project_id.data:
        form.project_id.errors = [_("请选择项目。")]
    elif valid:
        project = load_or_404(Project, form.project_id.data, "edit")
        done = submit(operations.apply_for, project, _application(form), actor=current_user, form=form,
                      redirect_to=lambda a: url_for("assessments.detail", assessment_id=a.id),
                      success=_("已保存申请草稿。"))
        if done:
            return done
    needing = {p.id for p in projects if rules.needs_assessment(p)}
    return render_template("portal/assessments/edit.html", form=form, assessment=None, needing=needing,
                           level1s=Level1.choices(),
                           rows=form.indicator_rows() if request.method == "POST" else []), status(form)


@bp.route("/<int:assessment_id>/edit", methods=["GET", "POST"])
def edit(assessment_id):
    assessment = load_or_404(Assessment, assessment_id, "edit")
    form = forms.ApplicationForm(obj=assessment)
    if form.validate_on_submit():
        done = submit(operations.update_application, assessment, _application(form), actor=current_user,
                      version=form.lock_version.data, form=form, redirect_to=_detail(assessment.id),
                      success=_("已保存申请。"))
        if done:
            return done
    rows = form.indicator_rows() if request.method == "POST" else [
        {"level1": i.level1.value, "name": i.name, "target": i.target, "weight": i.weight}
        for i in assessment.indicators]
    return render_template("portal/assessments/edit.html", form=form, assessment=assessment, rows=rows,
                           needing=set(), level1s=Level1.choices()), status(form)


def _arrange_form(assessment) -> forms.ArrangeForm:
    """The arrangement form with who may be chosen: active experts, the year's pool of agencies
    (a submitted id that is neither is refused by the form)."""
    form = forms.ArrangeForm()
    experts = db.session.scalars(sa.select(User).where(User.is_active_account).order_by(User.id)).all()
    form.assessor_ids.choices = [(u.id, u.display_name) for u in experts if u.has_role(Role.EXPERT)]
    form.pool_ids.choices = [(e.agency_id, e.agency.name) for e in pool_for(assessment.year)]
    return form


def _detail_page(assessment, **forms_given):
    finance = is_finance_officer(current_user)
    arrange_form = forms_given.get("arrange_form") or _arrange_form(assessment)
    page = dict(
        assessment=assessment, finance=finance, may_edit=can(current_user, "edit", assessment),
        attachments=attachments_of(assessment), attach_form=forms.AttachForm(),
        step_form=forms_given.get("step_form") or forms.StepForm(), arrange_form=arrange_form,
        conclude_form=forms_given.get("conclude_form") or forms.ConcludeForm(),
        my_sheets=[s for r in assessment.rounds for s in r.sheets if own_sheet(current_user, s)],
        sees_sheets=can(current_user, "overview", Assessment), missing=operations.missing_parts(assessment),
        needs=rules.needs_assessment(assessment.project), history=history(assessment),
        round_score=operations.round_score(assessment.current_round) if assessment.current_round else None,
        verify_draw=operations.verify_draw, dimensions=DIMENSIONS, methods=Method)
    return render_template("portal/assessments/detail.html", **page)


@bp.get("/<int:assessment_id>")
def detail(assessment_id):
    assessment = load_or_404(Assessment, assessment_id, "view")
    return _detail_page(assessment)


@bp.post("/<int:assessment_id>/submit")
def submit_application(assessment_id):
    return _application_step(assessment_id, operations.submit, _("已提交评估申请。"))


@bp.post("/<int:assessment_id>/withdraw")
def withdraw(assessment_id):
    return _application_step(assessment_id, operations.withdraw, _("已撤回申请。"), with_comment=True)


def _application_step(assessment_id: int, operation, success: str, *, with_comment: bool = False):
    """The applicant's 提交 or 撤回 (with its comment) from the application's page."""
    assessment = load_or_404(Assessment, assessment_id, "edit")
    form = forms.StepForm()
    comment = {"comment": form.comment.data or ""} if with_comment else {}
    done = form.validate_on_submit() and submit(
        operation, assessment, actor=current_user, expected_state=form.expected_state.data or None, form=form,
        redirect_to=_detail(assessment.id), success=success, **comment)
    return done or (_detail_page(assessment, step_form=form), status(form))


@bp.post("/<int:assessment_id>/attach")
def attach(assessment_id):
    assessment = load_or_404(Assessment, assessment_id, "edit")
    form = forms.AttachForm()
    done = submitted(form, operations.attach, assessment, request.files.get("file"), actor=current_user,
                     redirect_to=_detail(assessment.id), success=_("已上传附件。"))
    return done or (_detail_page(assessment), status(form))


@bp.post("/<int:assessment_id>/arrange")
def arrange(assessment_id):
    assessment = load_or_404(Assessment, assessment_id, "manage")
    form = _arrange_form(assessment)
    done = submitted(form, operations.arrange, assessment, actor=current_user, method=form.method.data,
                     assessor_ids=form.assessor_ids.data or [], pool_ids=form.pool_ids.data or [],
                     witnesses=form.witnesses.data or "", expected_state=form.expected_state.data or None,
                     redirect_to=_detail(assessment.id), success=_("已组织评估。"))
    return done or (_detail_page(assessment, arrange_form=form), status(form))


@bp.post("/<int:assessment_id>/conclude")
def conclude(assessment_id):
    assessment = load_or_404(Assessment, assessment_id, "manage")
    form = forms.ConcludeForm()
    done = submitted(form, operations.conclude, assessment, actor=current_user, opinion=form.opinion.data,
                     recommended_amount=form.recommended_amount.data,
                     expected_state=form.expected_state.data or None, redirect_to=_detail(assessment.id),
                     success=lambda r: _("评估结论：%(c)s（%(s)s分）。", c=r.conclusion.label, s=r.score))
    return done or (_detail_page(assessment, conclude_form=form), status(form))


@bp.route("/sheets/<int:sheet_id>", methods=["GET", "POST"])
def sheet(sheet_id):
    sheet_record = load_or_404(ScoreSheet, sheet_id, "view")
    record = sheet_record
    form = forms.SheetForm(obj=record, data={f"score_{d}": "" if getattr(record, d) is None else str(getattr(record, d))
                                             for d in DIMENSIONS})
    if request.method == "POST":
        require(current_user, "edit", record)
        if form.validate_on_submit():
            done = submit(operations.save_sheet, record, actor=current_user, version=form.lock_version.data,
                          scores={d: getattr(form, f"score_{d}").data for d in DIMENSIONS},
                          comment=form.comment.data or "", submit=form.submit.data, form=form,
                          redirect_to=_detail(record.round.assessment_id),
                          success=_("已提交评分。") if form.submit.data else _("已保存评分草稿。"))
            if done:
                return done
    return render_template("portal/assessments/sheet.html", sheet=record, form=form,
                           dims=operations.dimensions(record.round.rule_set),
                           editable=can(current_user, "edit", record)), status(form)


@bp.get("/figures")
def figures():
    require(current_user, "overview", Assessment)
    year = parsing.arg_year(default=clock.today().year + 1)
    rows, total = queries.figures(current_user, year)
    return render_template("portal/assessments/figures.html", year=year, rows=rows, total=total,
                           paragraph=queries.paragraph(year, total), years=queries.years())


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    require(current_user, "edit", PerformanceSetting)
    current = rules.current()
    row = db.session.get(PerformanceSetting, rules.KEY)
    form = forms.RulesForm(data={
        "lock_version": row.lock_version if row else 0, "threshold": str(current.threshold),
        "from_year": str(current.from_year or ""), "support_from": str(current.support_from),
        "adjust_from": str(current.adjust_from), **{f"w_{d}": str(current.weights[d]) for d in DIMENSIONS}})
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in
                  ("threshold", "from_year", "support_from", "adjust_from", *(f"w_{d}" for d in DIMENSIONS))}
        done = submit(operations.update_rules, values, actor=current_user, version=form.lock_version.data, form=form,
                      redirect_to=url_for("assessments.settings"), success=_("已保存事前评估规则。"))
        if done:
            return done
    return render_template("portal/assessments/settings.html", form=form, dims=DIMENSIONS), status(form)
