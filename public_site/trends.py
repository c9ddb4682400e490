"""Trends over the published years (历年趋势), for the whole city or one department: projects
disclosed, grades, mean scores, budgets and 整改率, from the current published snapshots only
(a withdrawn or superseded snapshot never counts). Cached until the next publication."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from portal.extensions import db
from portal.performance.models import Grade
from portal.publishing.models import PublicationKind, Snapshot
from portal.publishing.tables import problem_rates
from public_site.queries import live

SELF, FINANCE = PublicationKind.SELF_EVALUATION, PublicationKind.FINANCE_EVALUATION


@dataclass
class YearTrend:
    year: int
    projects: int = 0  # distinct projects with anything published for that year
    goals: int = 0
    results: int = 0  # published evaluation results (self and finance)
    grades: dict = field(default_factory=lambda: {g.value: 0 for g in Grade})
    score_sums: dict = field(default_factory=dict)  # kind → (sum, count)
    budget: Decimal = Decimal(0)  # 全年预算 of the projects whose goals are published
    evaluated: Decimal = Decimal(0)  # 财政评价覆盖资金
    rates: object = None  # portal.ledger.queries.RateRow of the published problem lists

    def mean_score(self, kind: PublicationKind) -> Decimal | None:
        total, n = self.score_sums.get(kind, (Decimal(0), 0))
        return (Decimal(total) / n).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if n else None

    @property
    def self_score(self):
        return self.mean_score(SELF)

    @property
    def finance_score(self):
        return self.mean_score(FINANCE)


_cache: dict = {}


def year_trends(department: int | None = None) -> list[YearTrend]:
    from portal.ledger.queries import RateRow
    from public_site.data import publication_state

    key = (*publication_state(), department, str(db.engine.url))
    if key in _cache:
        return _cache[key]

    def scoped(stmt):
        stmt = live(stmt)
        return stmt.where(Snapshot.department_ref == department) if department else stmt

    years: dict[int, YearTrend] = {}

    def of(year) -> YearTrend:
        return years.setdefault(int(year), YearTrend(int(year)))

    for year, n in db.session.execute(scoped(sa.select(Snapshot.year, sa.func.count(sa.distinct(Snapshot.project_ref))))
                                      .group_by(Snapshot.year)):
        of(year).projects = n
    grouped = scoped(sa.select(Snapshot.year, Snapshot.kind, Snapshot.grade, sa.func.count(), sa.func.sum(Snapshot.amount),
                               sa.func.sum(Snapshot.score), sa.func.count(Snapshot.score))
                     ).group_by(Snapshot.year, Snapshot.kind, Snapshot.grade)
    for year, kind, grade, n, amount, score_sum, scored in db.session.execute(grouped):
        row = of(year)
        if kind == PublicationKind.GOALS:
            row.goals += n
            row.budget += Decimal(amount or 0)
        if kind in (SELF, FINANCE):
            row.results += n
            if grade in row.grades:
                row.grades[grade] += n
            total, count = row.score_sums.get(kind, (Decimal(0), 0))
            row.score_sums[kind] = (total + Decimal(score_sum or 0), count + scored)
        if kind == FINANCE:
            row.evaluated += Decimal(amount or 0)
    problems = scoped(sa.select(Snapshot.year, Snapshot.data, Snapshot.published_at)).where(
        Snapshot.kind == PublicationKind.RECTIFICATION)
    for year, data, published_at in db.session.execute(problems):
        row = of(year)
        row.rates = row.rates or RateRow(year, str(year))
        problem_rates(json.loads(data), row.rates, published_at.date())
    out = [years[y] for y in sorted(years)]
    _cache.clear()  # one publication state at a time
    _cache[key] = out
    return out


def table_headers(download: bool = True) -> list:
    """The trend table's headers; a download's amounts are in 元, the page shows 万元."""
    from flask_babel import gettext as _

    money = (_("公开目标的项目预算（元）"), _("财政评价覆盖资金（元）")) if download else (
        _("公开目标的项目预算"), _("财政评价覆盖资金"))
    return [_("年度"), _("公开项目数"), _("绩效目标"), _("评价结果"), *(g.label for g in Grade),
            _("单位自评平均分"), _("财政评价平均分"), *money,
            _("问题数"), _("已销号"), _("整改率（按数量）"), _("整改率（按金额）")]


def table_row(t: YearTrend) -> list:
    r = t.rates
    return [t.year, t.projects, t.goals, t.results, *(t.grades[g.value] for g in Grade), t.self_score,
            t.finance_score, t.budget.quantize(Decimal("0.01")), t.evaluated.quantize(Decimal("0.01")),
            r.total if r else 0, r.closed if r else 0,
            None if r is None or r.count_rate is None else round(r.count_rate, 4),
            None if r is None or r.amount_rate is None else round(r.amount_rate, 4)]


def table_formats() -> list:
    from public_site.downloads import MONEY, RATE, SCORE

    return [None] * (4 + len(Grade)) + [SCORE, SCORE, MONEY, MONEY, None, None, RATE, RATE]
