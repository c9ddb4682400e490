"""Reading ex-ante assessments: the list, and the figures per year and department (assessed,
supported, adjusted, not supported, requested vs recommended) with the paragraph the reports
write from them (Linzi's "对…个项目开展事前评估，建议取消…个、调整…个，核减预算…亿元")."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.accounts.models import Organisation
from portal.assessments.models import Assessment, AssessmentState
from portal.core.permissions import visible
from portal.extensions import db

YI, WAN = Decimal(100_000_000), Decimal(10_000)


@dataclass
class Figures:
    department: str = ""
    department_id: int | None = None
    applied: int = 0  # submitted at least once
    assessed: int = 0  # concluded at least once
    supported: int = 0
    adjusted: int = 0  # a round concluded 调整后支持 (change requests sent)
    rejected: int = 0  # 不予支持: proposed for cancellation
    requested: Decimal = field(default_factory=Decimal)  # of the assessed, as first submitted
    recommended: Decimal = field(default_factory=Decimal)  # of the assessed, the latest conclusion

    @property
    def cut(self) -> Decimal:
        return self.requested - self.recommended

    @property
    def cut_rate(self) -> Decimal | None:
        return self.cut / self.requested if self.requested else None

    def add(self, other: Figures) -> None:
        for name in ("applied", "assessed", "supported", "adjusted", "rejected", "requested", "recommended"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def figures(user, year: int) -> tuple[list[Figures], Figures]:
    """Per department (in the user's reach) and the total, for one budget year. One grouped query."""
    return _figures(visible(user, Assessment, sa.select(Assessment.id)).where(Assessment.year == year))


def _figures(base) -> tuple[list[Figures], Figures]:
    concluded = Assessment.conclusion.is_not(None)
    count_if = lambda cond: sa.func.sum(sa.case((cond, 1), else_=0))  # noqa: E731
    stmt = (sa.select(Assessment.department_id, Organisation.name,
                      count_if(Assessment.first_requested.is_not(None)),
                      count_if(concluded),
                      count_if(Assessment.state == AssessmentState.SUPPORTED),
                      count_if(sa.and_(concluded, Assessment.was_adjusted.is_(True))),
                      count_if(Assessment.state == AssessmentState.REJECTED),
                      sa.func.sum(sa.case((concluded, Assessment.first_requested), else_=0)),
                      sa.func.sum(sa.case((concluded, Assessment.recommended_amount), else_=0)))
            .join(Organisation, Organisation.id == Assessment.department_id)
            .where(Assessment.id.in_(base))
            .group_by(Assessment.department_id, Organisation.name).order_by(Organisation.name))
    rows, total = [], Figures(department=_("合计"))
    for dept_id, name, applied, assessed, supported, adjusted, rejected, requested, recommended in db.session.execute(stmt):
        row = Figures(name, dept_id, int(applied or 0), int(assessed or 0), int(supported or 0), int(adjusted or 0),
                      int(rejected or 0), Decimal(requested or 0), Decimal(recommended or 0))
        rows.append(row)
        total.add(row)
    return rows, total


def money_words(amount: Decimal) -> str:
    """亿元 with two places as the reports write it; 万元 below 0.01 亿元."""
    if abs(amount) >= YI / 100:
        return _("%(n)s亿元", n=(amount / YI).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    return _("%(n)s万元", n=(amount / WAN).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def paragraph(year: int, total: Figures) -> str:
    """The sentence of the year's report, from the figures alone."""
    if not total.assessed:
        return _("%(year)s年预算尚无完成事前绩效评估的项目。", year=year)
    text = _("%(year)s年预算编制中，对%(n)s个新增项目开展事前绩效评估，建议取消%(r)s个、调整%(a)s个，"
             "核减预算%(cut)s", year=year, n=total.assessed, r=total.rejected, a=total.adjusted,
             cut=money_words(total.cut))
    if total.cut_rate is not None:
        text += _("，核减率%(p)s%%", p=(total.cut_rate * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
    return text + "。"


def _public_row(f: Figures) -> dict:
    return {"department": f.department, "assessed": f.assessed, "supported": f.supported, "adjusted": f.adjusted,
            "rejected": f.rejected, "requested": f.requested, "recommended": f.recommended, "cut": f.cut}


def publication(year: int) -> dict | None:
    """What finance publishes of a budget year (公开): every department's counts and amounts and the
    paragraph — never a project, a unit, a score or an assessor. None before any conclusion."""
    rows, total = _figures(sa.select(Assessment.id).where(Assessment.year == year))
    if not total.assessed:
        return None
    return {"paragraph": paragraph(year, total), "total": _public_row(total),
            "departments": [_public_row(r) for r in rows if r.assessed]}


def list_stmt(user, *, year=None, state=None, department_id=None):
    stmt = visible(user, Assessment)
    if year:
        stmt = stmt.where(Assessment.year == year)
    if state in {s.value for s in AssessmentState}:
        stmt = stmt.where(Assessment.state == AssessmentState(state))
    if department_id:
        stmt = stmt.where(Assessment.department_id == department_id)
    # one query per relation for the whole page (project, unit, rounds), not one per row
    stmt = stmt.options(sa.orm.joinedload(Assessment.project), sa.orm.joinedload(Assessment.unit),
                        sa.orm.selectinload(Assessment.rounds))
    return stmt.order_by(Assessment.year.desc(), Assessment.id.desc())


def years() -> list[int]:
    return list(db.session.scalars(sa.select(Assessment.year).distinct().order_by(Assessment.year.desc())))
