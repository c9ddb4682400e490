"""The local rules of ex-ante assessment, stored as one setting (`performance_settings`, key
`assessment_rules`) and edited on the assessment settings page. Defaults and where they come
from: docs/assessments.md.

- which projects need an assessment: new (no project with the same budget-system code in an
  earlier year), of kind 项目支出 or 政策, applying for at least `threshold` yuan (default
  5,000,000 = 500 万元), in budget years from `from_year` on (None: every year);
- the weights of the five dimensions (total 100);
- the conclusion bands: 予以支持 from `support_from`, 调整后支持 from `adjust_from`, below that
  不予支持 (each lower bound included, as the grade bands are)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.core.errors import DomainError
from portal.extensions import db
from portal.performance import settings as performance_settings
from portal.performance.models import Project, ProjectKind

KEY = "assessment_rules"
DEFAULT_WEIGHTS = {"necessity": 25, "economy": 20, "goals": 20, "feasibility": 20, "funding": 15}
DEFAULTS = {"threshold": "5000000", "from_year": None, "weights": DEFAULT_WEIGHTS,
            "support_from": "80", "adjust_from": "60"}
ASSESSED_KINDS = (ProjectKind.PROJECT, ProjectKind.POLICY)


@dataclass(frozen=True)
class Rules:
    threshold: Decimal = Decimal(DEFAULTS["threshold"])
    from_year: int | None = None
    weights: dict = field(default_factory=lambda: {k: Decimal(v) for k, v in DEFAULT_WEIGHTS.items()})
    support_from: Decimal = Decimal("80")
    adjust_from: Decimal = Decimal("60")

    def conclusion_for(self, score) -> str:
        """The band a score falls in: 'support' [support_from, 100], 'adjust' [adjust_from,
        support_from), 'reject' [0, adjust_from)."""
        from portal.assessments.models import Conclusion

        score = Decimal(str(score))
        if score >= self.support_from:
            return Conclusion.SUPPORT
        if score >= self.adjust_from:
            return Conclusion.ADJUST
        return Conclusion.REJECT

    def as_dict(self) -> dict:
        return {"threshold": str(self.threshold), "from_year": self.from_year,
                "weights": {k: str(v) for k, v in self.weights.items()},
                "support_from": str(self.support_from), "adjust_from": str(self.adjust_from)}

    def validate(self) -> None:
        from portal.assessments.models import DIMENSIONS

        if set(self.weights) != set(DIMENSIONS) or any(w <= 0 for w in self.weights.values()):
            raise DomainError(_("五个评估维度都须有大于 0 的分值。"), field="weights")
        if sum(self.weights.values()) != 100:
            raise DomainError(_("五个评估维度的分值合计须为 100（现为 %(n)s）。",
                                n=format(sum(self.weights.values()).normalize(), "f")), field="weights")
        if not Decimal(0) < self.adjust_from < self.support_from <= Decimal(100):
            raise DomainError(_("结论分档须满足 0 < 调整后支持起点 < 予以支持起点 ≤ 100。"), field="support_from")
        if self.threshold < 0:
            raise DomainError(_("评估金额起点不能为负数。"), field="threshold")


def from_dict(data: dict) -> Rules:
    merged = {**DEFAULTS, **(data or {})}
    weights = {**DEFAULT_WEIGHTS, **(merged.get("weights") or {})}
    year = merged.get("from_year")
    return Rules(threshold=Decimal(str(merged["threshold"])), from_year=int(year) if year else None,
                 weights={k: Decimal(str(v)) for k, v in weights.items()},
                 support_from=Decimal(str(merged["support_from"])), adjust_from=Decimal(str(merged["adjust_from"])))


def current() -> Rules:
    row = performance_settings.setting_row(KEY)
    if row is None:
        return Rules()
    try:
        return from_dict(json.loads(row.value))
    except (ValueError, TypeError, ArithmeticError):
        return Rules()


def store(rules: Rules):
    """Called by operations.update_rules (which checks the version and audits)."""
    rules.validate()
    return performance_settings.store(KEY, rules.as_dict())


def is_new(project: Project) -> bool:
    """新增: the budget system's code has not been used in an earlier year (a continuing project
    keeps its code)."""
    earlier = db.session.scalar(sa.select(sa.func.count()).select_from(Project).where(
        Project.code == project.code, Project.year < project.year))
    return not earlier


def needs_assessment(project: Project, rules: Rules | None = None) -> bool:
    rules = rules or current()
    if project.kind not in ASSESSED_KINDS:
        return False
    if rules.from_year is not None and project.year < rules.from_year:
        return False
    if max(project.initial_budget or 0, project.annual_budget or 0) < rules.threshold:
        return False
    return is_new(project)
