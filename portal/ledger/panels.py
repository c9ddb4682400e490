"""What the ledger contributes elsewhere: a dashboard panel, a section of the joint overview,
and whitelisted public fields for the public site."""
from __future__ import annotations

import sqlalchemy as sa
from flask import render_template

from portal.core import clock
from portal.core.permissions import can, visible
from portal.extensions import db
from portal.ledger import policies
from portal.ledger.models import ExtensionRequest, ExtensionState, Problem, ProblemState
from portal.ledger.queries import bucket_condition, overall, rates


def dashboard_panel(user):
    if not can(user, "view", Problem):
        return None
    conditions = {
        "overdue": bucket_condition("overdue"),
        "d10": bucket_condition("d10"),
        "open": Problem.state.in_((ProblemState.LISTED, ProblemState.IN_PROGRESS, ProblemState.LONG_TERM)),
    }
    bureau = None
    if policies.is_finance_officer(user):
        bureau = "finance"
    elif policies.is_audit_liaison(user):
        bureau = "audit"
    if bureau:
        signed = Problem.finance_signed_at if bureau == "finance" else Problem.audit_signed_at
        conditions["to_verify"] = sa.and_(Problem.state == ProblemState.SUBMITTED, signed.is_(None))
    counted = sa.select(*(sa.func.count().filter(where).label(name) for name, where in conditions.items()))
    figures = dict(db.session.execute(visible(user, Problem, counted.select_from(Problem))).one()._mapping)
    if policies.is_finance_officer(user):
        figures["extensions"] = db.session.scalar(sa.select(sa.func.count()).select_from(ExtensionRequest)
                                                  .where(ExtensionRequest.state == ExtensionState.PENDING))
    if not any(figures.values()):
        return None
    return render_template("portal/ledger/_dashboard.html", figures=figures, bureau=bureau)


def overview_section(user, year):
    if not can(user, "stats", Problem):
        return None
    total = overall(user, year=year)
    if not total.total:
        return None
    departments = rates(user, "department", year=year)
    units = rates(user, "unit", year=year)
    return render_template("portal/ledger/_overview.html", total=total, departments=departments,
                           cleared=[r for r in units if r.cleared], year=year)


def public_problems(project) -> list[dict]:
    """Only public fields: no person, no internal notes, no policy basis, no evidence."""
    problems = db.session.execute(sa.select(Problem).where(Problem.project_id == project.id)
                                  .order_by(Problem.year, Problem.seq)).scalars()
    return [{
        "number": p.number,
        "category": p.category,
        "description": p.description,
        "amount": p.amount,
        "rect_type": p.rect_type.zh,
        "state": p.state.zh,
        "measures": p.measures,
        "amount_rectified": p.rectified_counted,  # at most the problem's amount
        "deadline": p.deadline,
        "closed_on": p.closed_on,
    } for p in problems]


__all__ = ["dashboard_panel", "overview_section", "public_problems", "clock"]
