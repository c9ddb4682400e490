"""The work assessment's pages (绩效管理工作考核): the years, a year's ranking, its indicator
system, a scorecard with its history, the circular (通报) as .docx."""
from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.core import parsing
from portal.core.excel import safe_filename
from portal.core.permissions import can, load_or_404, require
from portal.core.writes import status, submit
from portal.oversight import indicators, operations, queries
from portal.oversight.circular_docx import circular_document
from portal.oversight.forms import ComputeForm, PublishForm, ScoreForm, system_form, system_rows
from portal.oversight.models import Scorecard, SubjectKind, WorkAssessment
from portal.oversight.views import bp

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _load(year: int) -> WorkAssessment:
    assessment = queries.assessment_of(year)
    if assessment is None:
        abort(404)
    require(current_user, "view", assessment)
    return assessment


@bp.route("/assessments", methods=["GET", "POST"])
def assessments():
    require(current_user, "view", WorkAssessment)
    form = ComputeForm()
    if request.method == "POST":
        require(current_user, "compute", WorkAssessment)
        if form.validate_on_submit():
            done = submit(operations.compute, form.year.data, actor=current_user, form=form,
                          redirect_to=lambda a: url_for("oversight.assessment", year=a.year),
                          success=_("考核得分已按平台数据计算。"))
            if done:
                return done
    return render_template("portal/oversight/assessments.html", assessments=queries.visible_assessments(current_user),
                           form=form, can_compute=can(current_user, "compute", WorkAssessment)), status(form)


@bp.get("/assessments/<int:year>")
def assessment(year):
    assessment = _load(year)
    cards = queries.scorecards(current_user, assessment)
    return render_template("portal/oversight/assessment.html", assessment=assessment, kinds=SubjectKind,
                           cards=cards, can_compute=can(current_user, "compute", assessment),
                           can_publish=can(current_user, "publish", assessment),
                           can_circular=can(current_user, "circular", assessment), automatic=indicators.AUTOMATIC)


@bp.post("/assessments/<int:year>/recompute")
def recompute(year):
    assessment = _load(year)
    require(current_user, "compute", assessment)
    back = url_for("oversight.assessment", year=year)
    return submit(operations.compute, year, actor=current_user, redirect_to=back,
                  success=_("考核得分已按平台数据重新计算。")) or redirect(back)


@bp.post("/assessments/<int:year>/publish")
def publish(year):
    assessment = _load(year)
    require(current_user, "publish", assessment)
    back = url_for("oversight.assessment", year=year)
    form = PublishForm()
    return submit(operations.publish, assessment, actor=current_user, version=form.lock_version.data,
                  redirect_to=back, success=_("考核结果已通报。")) or redirect(back)


@bp.route("/assessments/<int:year>/system", methods=["GET", "POST"])
def system(year):
    assessment = _load(year)
    require(current_user, "configure", assessment)
    form = system_form(obj=assessment)
    rows = [{"name": i.name, "method": i.method, "weight": i.weight, "guidance": i.guidance}
            for i in assessment.indicators]
    if request.method == "POST":
        valid = parsing.accepted(form)  # a cell too long, an unknown method: 422, the rows kept
        rows = system_rows(form)
        if valid:
            dates = {k: getattr(form, k).data for k in ("budget_approved_on", "monitoring_due_on", "disclosure_due_on")}
            done = submit(operations.configure, assessment, actor=current_user, rows=rows, dates=dates,
                          version=form.lock_version.data, form=form,
                          redirect_to=url_for("oversight.assessment", year=year), success=_("指标体系已保存，得分已重新计算。"))
            if done:
                return done
    methods = [(indicators.MANUAL, _("财政评分"))] + [(a.key, str(a.label)) for a in indicators.AUTOMATIC.values()]
    return render_template("portal/oversight/system.html", assessment=assessment, form=form, rows=rows,
                           spare=3, methods=methods), status(form)


@bp.get("/assessments/<int:year>/circular.docx")
def circular(year):
    assessment = _load(year)
    require(current_user, "circular", assessment)
    cards = queries.scorecards(current_user, assessment)
    issuer = current_app.config.get("ASSESSMENT_ISSUER", "临州市财政局")
    buffer = circular_document(assessment, cards, issuer=issuer)
    name = f"{year}年度预算绩效管理工作考核结果通报{'' if assessment.circular_number else '（征求意见稿）'}.docx"
    response = send_file(buffer, mimetype=DOCX_MIME, as_attachment=True, download_name=safe_filename(name))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/scorecards/<int:scorecard_id>", methods=["GET", "POST"])
def scorecard(scorecard_id):
    card = load_or_404(Scorecard, scorecard_id)
    form = ScoreForm()
    if request.method == "POST":
        require(current_user, "score", card)
        if form.validate_on_submit():
            done = submit(operations.score_line, card, actor=current_user, indicator_id=form.indicator_id.data,
                          score=form.score.data, note=form.note.data or "", form=form,
                          redirect_to=url_for("oversight.scorecard", scorecard_id=card.id), success=_("评分已保存。"))
            if done:
                return done
    return render_template("portal/oversight/scorecard.html", card=card, assessment=card.assessment, form=form,
                           history=queries.history(current_user, card.organisation_id),
                           can_score=can(current_user, "score", card), automatic=indicators.AUTOMATIC,
                           typed=request.form if request.method == "POST" else None), status(form)
