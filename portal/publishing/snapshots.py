"""What the public sees: whitelists of fields per kind. Nothing else ever reaches a snapshot
(no review comments, drafts, internal markings, contact persons, letters or user names)."""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

from portal.core.attachments import attachments_of
from portal.core.enums import LabelledEnum
from portal.core.registry import PUBLIC_PROVIDERS
from portal.performance.models import EvaluationMode, EvaluationState, GoalState, Operator, Project
from portal.publishing.models import PublicationKind, RectificationState


def _plain(value):
    """Providers may hand over Decimals, dates and labelled enums: store them exactly, as text."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, LabelledEnum):
        return value.label
    raise TypeError(f"not publishable: {type(value).__name__}")


def dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_plain)


def _money(value) -> str | None:
    return None if value is None else f"{Decimal(value):.2f}"


def _date(value) -> str | None:
    return value.date().isoformat() if value is not None else None


def project_header(project: Project) -> dict:
    rate = project.execution_rate
    return {
        "code": project.code,
        "name": project.name,
        "year": project.year,
        "kind": project.kind.value,
        "kind_label": project.kind.label,
        "budget_type": project.budget_type.value,
        "budget_type_label": project.budget_type.label,
        "department": project.department.name,
        "unit": project.unit.name,
        "initial_budget": _money(project.initial_budget),
        "annual_budget": _money(project.annual_budget),
        "executed": _money(project.executed),
        "execution_rate": None if rate is None else f"{rate:.4f}",
        "description": project.description or "",
    }


def goals_data(project: Project) -> dict | None:
    """The approved goal only (never drafts, submissions or review comments)."""
    approved = [g for g in project.goals if g.state == GoalState.APPROVED]
    if not approved:
        return None
    goal = approved[-1]
    return {
        "goal_version": goal.version,
        "overall_goal": goal.overall_goal,
        "approved_on": _date(goal.approved_at),
        "indicators": [{
            "level1": i.level1.label, "level2": i.level2.label, "name": i.name,
            "target": i.target_display, "unit": i.unit,
            "weight": None if i.weight is None else f"{Decimal(i.weight).normalize():f}",
        } for i in goal.indicators],
    }


def _completed(project: Project, modes) -> list:
    return [e for e in project.evaluations if e.state == EvaluationState.COMPLETED and e.mode in modes]


def evaluation_data(project: Project, kind: PublicationKind) -> dict | None:
    modes = ((EvaluationMode.SELF,) if kind == PublicationKind.SELF_EVALUATION
             else (EvaluationMode.FINANCE, EvaluationMode.DEPARTMENT))
    done = _completed(project, modes)
    if not done:
        return None
    e = done[-1]
    return {
        "mode": e.mode.value, "mode_label": e.mode.label, "year": e.year,
        "score": None if e.score is None else f"{Decimal(e.score):.2f}",
        "grade": e.grade.value if e.grade else None, "grade_label": e.grade.label if e.grade else "",
        "agency": e.agency.name if e.agency else "",
        "conclusion": e.conclusion or "", "suggestions": e.suggestions or "",
        "completed_on": _date(e.completed_at),
        "findings": [{"category": f.category, "description": f.description,
                      "amount": _money(f.amount), "suggestion": f.suggestion} for f in e.findings],
        **({"lines": [line_data(ln) for ln in e.lines if ln.applicable]} if e.mode == EvaluationMode.SELF else {}),
    }


def _number(value) -> str | None:
    return None if value is None else f"{Decimal(value).normalize():f}"


def line_data(line) -> dict:
    """One scored indicator of a self-evaluation (自评表): its target and what was achieved."""
    unit = line.indicator.unit if line.indicator is not None else ""
    qualitative = line.operator == Operator.QUALITATIVE or line.target is None
    target = line.target_text if qualitative else f"{line.operator.zh if line.operator else ''}{_number(line.target)}{unit}"
    return {"label": line.label, "target": target, "unit": unit,
            "target_value": None if qualitative else _number(line.target),
            "actual_value": _number(line.actual), "tier": line.tier.zh if line.tier else None,
            "weight": _number(line.weight), "score": None if line.score is None else f"{Decimal(line.score):.2f}"}


def report_data(project: Project) -> tuple[dict | None, list]:
    """Third-party reports: PDFs attached to completed evaluations. Returns (data, attachments)."""
    files = []
    for e in _completed(project, tuple(EvaluationMode)):
        for a in attachments_of(e):
            if a.kind == "pdf":
                files.append((e, a))
    if not files:
        return None, []
    return {"reports": [{
        "title": a.filename.rsplit(".", 1)[0], "filename": a.filename, "sha256": a.sha256, "size": a.size,
        "agency": e.agency.name if e.agency else "", "mode_label": e.mode.label,
        "excerpt": (a.text or "")[:400],
    } for e, a in files]}, [a for _e, a in files]


def rectification_state(problems: list[dict]) -> str:
    if not problems:
        return RectificationState.NONE.value
    done = [p for p in problems if p.get("rectified") is True
            or str(p.get("state", p.get("status", ""))) in ("rectified", "closed", "done", "已整改", "已销号", "已完成整改")]
    return RectificationState.DONE.value if len(done) == len(problems) else RectificationState.IN_PROGRESS.value


def rectification_data(project: Project) -> dict | None:
    """Every registered public provider (e.g. the problem ledger's "problems")."""
    sections = {}
    for name, provider in sorted(PUBLIC_PROVIDERS.items()):
        rows = provider(project) or []
        if rows:
            sections[name] = [dict(row) for row in rows]
    if not sections:  # nothing found, nothing rectified: no rectification disclosure
        return None
    problems = sections.get("problems", [])
    return {"sections": sections, "state": rectification_state(problems),
            "problem_count": len(problems)}


def build(project: Project, kind: PublicationKind) -> tuple[dict | None, list]:
    """(data, attachments to copy) for one project and kind; data None when nothing to publish."""
    if kind == PublicationKind.GOALS:
        body, files = goals_data(project), []
    elif kind in (PublicationKind.SELF_EVALUATION, PublicationKind.FINANCE_EVALUATION):
        body, files = evaluation_data(project, kind), []
    elif kind == PublicationKind.REPORT:
        body, files = report_data(project)
    else:
        body, files = rectification_data(project), []
    if body is None:
        return None, []
    return {"project": project_header(project), "kind": kind.value, **body}, files
