"""先评估后入库: the one check the performance module asks before a goal is submitted (提交审核)
or approved into the budget (审核通过): a project that needs an ex-ante assessment
(rules.needs_assessment) goes on only with the conclusion 予以支持. The performance
operations stay the writers; they ask the gate through `portal.core.registry.require_gates`
(registered by this module's init_app), so performance never imports this module."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.assessments import rules
from portal.assessments.models import Assessment, AssessmentState
from portal.extensions import db


def assessment_of(project) -> Assessment | None:
    return db.session.scalar(sa.select(Assessment).where(Assessment.project_id == project.id))


def refusal(project) -> str | None:
    """Why the project may not go on yet (None: it may)."""
    if not rules.needs_assessment(project):
        return None
    assessment = assessment_of(project)
    if assessment is None:
        return _("该项目为新增项目且金额达到事前绩效评估标准，须先申报事前绩效评估（先评估后入库）。")
    if assessment.state == AssessmentState.SUPPORTED:
        return None
    if assessment.state == AssessmentState.REVISING:
        return _("事前绩效评估结论为“调整后支持”，请按意见修改申请并重新提交，予以支持后方可继续（先评估后入库）。")
    return _("事前绩效评估尚无“予以支持”的结论（当前：%(s)s），暂不能继续（先评估后入库）。",
             s=assessment.state.label)
