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


def _count(stmt) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(stmt.subquery())).scalar_one()


def dashboard_panel(user):
    if not can(user, "view", Problem):
        return None
    base = visible(user, Problem, sa.select(Problem.id))
    figures = {
        "overdue": _count(base.where(bucket_condition("overdue"))),
        "d10": _count(base.where(bucket_condition("d10"))),
        "open": _count(base.where(Problem.state.in_((ProblemState.LISTED, ProblemState.IN_PROGRESS,
                                                    ProblemState.LONG_TERM)))),
    }
    bureau = None
    if policies.is_finance_officer(user):
        bureau = "finance"
    elif policies.is_audit_liaison(user):
        bureau = "audit"
    if bureau:
        signed = Problem.finance_signed_at if bureau == "finance" else Problem.audit_signed_at
        figures["to_verify"] = _count(base.where(Problem.state == ProblemState.SUBMITTED, signed.is_(None)))
    if policies.is_finance_officer(user):
        figures["extensions"] = _count(sa.select(ExtensionRequest.id)
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
