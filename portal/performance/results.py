"""Result application (结果应用): next year's budget suggestions from completed evaluations.

The rule in the settings (seeds: 中 → −10 %, 差 → no budget, 优 → priority; the Shenzhen
practice) is written for the key evaluations (重点评价) that finance runs or commissions, so those
come first. A project that has only a department evaluation or only its own self-evaluation
(单位自评) still gets a row — the same rule applied to its grade — but labelled with its basis, so
nobody mistakes a unit's self-assessment for a finance finding. The portal only suggests; it
never changes a budget.

The year shown by default is the one the current year's evaluations look at: last year."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.core import clock
from portal.core.permissions import visible
from portal.extensions import db
from portal.performance import queries, settings
from portal.performance.models import Evaluation, EvaluationMode, EvaluationState, Grade, Project

# the order of precedence of an evaluation as a basis, and how a row names it
PRECEDENCE = (EvaluationMode.FINANCE, EvaluationMode.DEPARTMENT, EvaluationMode.SELF)
BASIS_LABELS = {
    EvaluationMode.FINANCE: _l("财政重点评价"),
    EvaluationMode.DEPARTMENT: _l("部门评价"),
    EvaluationMode.SELF: _l("单位自评（仅供参考）"),
}


@dataclass
class ResultRow:
    project: Project
    evaluation: Evaluation
    grade: Grade | None
    text: str
    amount: Decimal | None

    @property
    def basis(self) -> EvaluationMode:
        return self.evaluation.mode

    @property
    def basis_label(self) -> str:
        return str(BASIS_LABELS[self.basis])

    @property
    def is_key(self) -> bool:
        """From a key finance evaluation (重点评价), which the rule is written for."""
        return self.basis == EvaluationMode.FINANCE


def default_year(today=None) -> int:
    """The year the evaluations of the current year look at (项目年度 = last year)."""
    return (today or clock.today()).year - 1


def suggestion_for(grade: Grade | None, budget: Decimal, rules: dict | None = None) -> tuple[str, Decimal | None]:
    from portal.performance import operations

    return operations.suggestion_for(grade, budget, rules)


def result_rows(user, year: int, unit_id: int | None = None) -> list[ResultRow]:
    """Per project of `year` with a completed evaluation: the suggestion from its best basis
    (finance, else department, else self; the latest of a mode), key evaluations first."""
    stmt = visible(user, Project).where(Project.year == year).where(sa.exists().where(
        Evaluation.project_id == Project.id, Evaluation.state == EvaluationState.COMPLETED))
    if unit_id:
        stmt = stmt.where(Project.unit_id == unit_id)
    projects = {p.id: p for p in db.session.scalars(queries.with_orgs(stmt))}
    best: dict[int, Evaluation] = {}
    rank = {mode: len(PRECEDENCE) - i for i, mode in enumerate(PRECEDENCE)}
    if projects:
        for e in db.session.scalars(sa.select(Evaluation).where(Evaluation.project_id.in_(list(projects)),
                                                                Evaluation.state == EvaluationState.COMPLETED)):
            have = best.get(e.project_id)
            if have is None or (rank[e.mode], e.id) > (rank[have.mode], have.id):
                best[e.project_id] = e
    rules = settings.result_rules()
    rows = []
    for pid, evaluation in best.items():
        project = projects[pid]
        text, amount = suggestion_for(evaluation.grade, project.annual_budget, rules)
        rows.append(ResultRow(project, evaluation, evaluation.grade, text, amount))
    rows.sort(key=lambda r: (PRECEDENCE.index(r.basis), r.project.department_id or 0, r.project.unit_id or 0,
                             r.project.code))
    return rows
