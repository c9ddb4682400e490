"""Dashboard panel (what needs this user's attention) and the joint overview section."""
from __future__ import annotations

import sqlalchemy as sa
from flask import render_template

from portal.core.permissions import visible
from portal.extensions import db
from portal.performance import queries
from portal.performance.models import EvaluationMode, GoalState, PerformanceGoal, Project
from portal.performance.operations import is_finance_officer


def attention_panel(user):
    if user.org_kind.value not in ("finance_bureau", "budget_unit", "audit_bureau"):
        return None
    finance = is_finance_officer(user)
    to_review = queries.goals_to_review(user, limit=8) if finance else []
    returned = []
    if user.org_kind.value == "budget_unit":
        returned = db.session.scalars(
            visible(user, Project, sa.select(PerformanceGoal).join(Project))
            .where(PerformanceGoal.state.in_([GoalState.RETURNED, GoalState.DRAFT]))
            .order_by(PerformanceGoal.id.desc()).limit(8)).all()
    warnings = db.session.scalars(queries.warned_reports_stmt(user).limit(8)).all()
    n_review = queries.count_goals(user, GoalState.SUBMITTED) if finance else 0
    if not (to_review or returned or warnings):
        return None
    return render_template("portal/performance/_panel.html", to_review=to_review, n_review=n_review,
                           returned=returned, warnings=warnings)


def grade_mix_section(user, year):
    mix = queries.grade_mix(user, year)
    finance_mix = queries.grade_mix(user, year, EvaluationMode.FINANCE)
    if not sum(mix.values()):
        return None
    return render_template("portal/performance/_overview.html", year=year, mix=mix, finance_mix=finance_mix)
