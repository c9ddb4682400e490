"""Reads of the ledger: deadline buckets, the filtered ledger statement, statistics, recurrence.

Buckets are always derived from the deadline, the state and `clock.today()`; nothing stale is
stored. Only open problems (已挂账, 整改中, 长期整改) fall in a bucket: a problem submitted for
closing waits on the bureaus, not on the unit."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from portal.accounts.models import Organisation
from portal.core import clock
from portal.core.permissions import visible
from portal.extensions import db
from portal.ledger.models import MONEY_FIELDS, OPEN_STATES, Problem, ProblemSource, ProblemState

BUCKETS = {
    "overdue": _l("已超时限"),
    "d10": _l("10天内到期"),
    "d20": _l("20天内到期"),
    "later": _l("20天以上"),
}


def bucket_of(problem, today=None) -> str | None:
    if problem.state not in OPEN_STATES:
        return None
    days = (problem.deadline - (today or clock.today())).days
    if days < 0:
        return "overdue"
    if days <= 10:
        return "d10"
    if days <= 20:
        return "d20"
    return "later"


def bucket_condition(bucket: str, today=None):
    today = today or clock.today()
    is_open = Problem.state.in_(OPEN_STATES)
    if bucket == "overdue":
        return sa.and_(is_open, Problem.deadline < today)
    if bucket == "d10":
        return sa.and_(is_open, Problem.deadline >= today, Problem.deadline <= today + timedelta(days=10))
    if bucket == "d20":
        return sa.and_(is_open, Problem.deadline > today + timedelta(days=10),
                       Problem.deadline <= today + timedelta(days=20))
    if bucket == "later":
        return sa.and_(is_open, Problem.deadline > today + timedelta(days=20))
    return sa.true()


def rectified_expr():
    """Σ of the six 整改金额 columns, in SQL."""
    total = getattr(Problem, MONEY_FIELDS[0])
    for name in MONEY_FIELDS[1:]:
        total = total + getattr(Problem, name)
    return total


def capped_rectified_expr():
    """Money rectified, counted at most up to the problem's amount (see docs/ledger.md)."""
    rectified = rectified_expr()
    return sa.case((rectified > Problem.amount, Problem.amount), else_=rectified)


SORTS = {
    "number": (Problem.year, Problem.seq),
    "deadline": (Problem.deadline, Problem.id),
    "amount": (Problem.amount, Problem.id),
    "state": (Problem.state, Problem.id),
    "category": (Problem.category, Problem.id),
    "source": (Problem.source, Problem.id),
    "listed_on": (Problem.listed_on, Problem.id),
    "unit": (Problem.unit_id, Problem.id),
}


def _int(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None


@dataclass
class LedgerFilters:
    year: int | None = None
    unit: int | None = None
    department: int | None = None
    source: str = ""
    category: str = ""
    state: str = ""
    bucket: str = ""
    q: str = ""
    sort: str = "number"
    descending: bool = False
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_args(cls, args) -> LedgerFilters:
        sort = (args.get("sort") or "number").strip()
        descending = sort.startswith("-")
        sort = sort.lstrip("-")
        source = args.get("source", "")
        state = args.get("state", "")
        bucket = args.get("bucket", "")
        return cls(
            year=_int(args.get("year")),
            unit=_int(args.get("unit")),
            department=_int(args.get("department")),
            source=source if source in ProblemSource._value2member_map_ else "",
            category=(args.get("category") or "").strip()[:60],
            state=state if state in ProblemState._value2member_map_ else "",
            bucket=bucket if bucket in BUCKETS else "",
            q=(args.get("q") or "").strip()[:100],
            sort=sort if sort in SORTS else "number",
            descending=descending,
        )

    def args(self, **override) -> dict:
        """The query arguments (for links: paging, sorting, export, saved filters)."""
        values = {"year": self.year, "unit": self.unit, "department": self.department, "source": self.source,
                  "category": self.category, "state": self.state, "bucket": self.bucket, "q": self.q,
                  "sort": ("-" if self.descending else "") + self.sort if self.sort != "number" or self.descending
                  else ""}
        values.update(override)
        return {k: v for k, v in values.items() if v not in (None, "")}

    def sort_link_value(self, column: str) -> str:
        if self.sort == column and not self.descending:
            return "-" + column
        return column

    def apply(self, stmt, today=None):
        if self.year:
            stmt = stmt.where(Problem.year == self.year)
        if self.unit:
            stmt = stmt.where(Problem.unit_id == self.unit)
        if self.department:
            stmt = stmt.where(Problem.department_id == self.department)
        if self.source:
            stmt = stmt.where(Problem.source == ProblemSource(self.source))
        if self.category:
            stmt = stmt.where(Problem.category == self.category)
        if self.state:
            stmt = stmt.where(Problem.state == ProblemState(self.state))
        if self.bucket:
            stmt = stmt.where(bucket_condition(self.bucket, today))
        if self.q:
            like = f"%{self.q.replace('%', '').replace('_', '')}%"
            stmt = stmt.where(sa.or_(Problem.number.like(like), Problem.description.like(like)))
        return stmt

    def order(self, stmt):
        columns = SORTS[self.sort]
        return stmt.order_by(*[c.desc() if self.descending else c.asc() for c in columns])


def ledger_statement(user, filters: LedgerFilters):
    """The visible, filtered and sorted problems, with unit and department loaded in the same query."""
    stmt = visible(user, Problem).options(joinedload(Problem.unit), joinedload(Problem.department))
    return filters.order(filters.apply(stmt))


def _distinct(base, column, *, descending: bool = False, limit: int = 500) -> list:
    """Distinct values of `column` among `base`'s rows, one index probe per value (a loose index
    scan): the years and categories of 50,000 problems cost a few dozen probes, not a scan."""
    values: list = []
    step = sa.func.max(column) if descending else sa.func.min(column)
    while len(values) < limit:
        stmt = base.with_only_columns(step).where(column.is_not(None))
        if values:
            stmt = stmt.where(column < values[-1] if descending else column > values[-1])
        value = db.session.scalar(stmt)
        if value is None:
            break
        values.append(value)
    return values


def problem_years(user) -> list[int]:
    """The years of the problems the user sees, latest first."""
    return _distinct(visible(user, Problem, sa.select(Problem.id)), Problem.year, descending=True)


def filter_choices(user, filters: LedgerFilters | None = None) -> dict:
    """The filter form's options, from the problems the user sees. Units are listed for the chosen
    department (or when all visible problems belong to one department): a province has thousands
    of units, which would make the page half a megabyte of <option>s."""
    filters = filters or LedgerFilters()
    base = visible(user, Problem, sa.select(Problem.id))

    def orgs_with_problems(*conditions):
        return db.session.execute(sa.select(Organisation.id, Organisation.name)
                                  .where(base.where(*conditions).exists()).order_by(Organisation.id)).all()

    departments = orgs_with_problems(Problem.department_id == Organisation.id)
    department = filters.department or (departments[0].id if len(departments) == 1 else None)
    units = []
    if department:
        units = orgs_with_problems(Problem.unit_id == Organisation.id, Problem.department_id == department)
    elif filters.unit:  # a unit chosen from a link stays selectable without its department
        units = orgs_with_problems(Problem.unit_id == Organisation.id, Organisation.id == filters.unit)
    return {"years": problem_years(user), "categories": _distinct(base, Problem.category), "units": units,
            "departments": departments, "units_need_department": not department}


# ---- statistics --------------------------------------------------------------------------

# What each rate means, shown beside the figures on every page and in every export (整改率 over
# all problems and 到期整改率 over the problems already due: a department whose problems are all
# on schedule should not read 33 %).
RATE_DEFINITIONS = [
    (_l("整改率（按数量）"), _l("已销号问题数 ÷ 全部问题数。")),
    (_l("整改率（按金额）"), _l("整改金额 ÷ 问题金额；每个问题的整改金额最多计至该问题的金额。")),
    (_l("到期整改率（按数量）"), _l("已销号问题数 ÷ 到期问题数；到期问题指整改时限已过或已销号的问题。")),
    (_l("到期整改率（按金额）"), _l("到期问题的整改金额 ÷ 到期问题的问题金额；整改金额同样按问题封顶。")),
    (_l("说明"), _l("长期整改和申请销号的问题在两局确认销号前计入未整改；逾期指整改时限已过而未完成整改。")),
]


@dataclass
class RateRow:
    key: object
    label: str
    total: int = 0
    closed: int = 0
    open: int = 0
    overdue: int = 0
    amount: Decimal = Decimal(0)
    rectified: Decimal = Decimal(0)  # capped per problem at its amount
    due: int = 0  # deadline passed, or closed
    due_amount: Decimal = Decimal(0)
    due_rectified: Decimal = Decimal(0)  # capped per problem

    @property
    def count_rate(self) -> Decimal | None:
        """整改率（按数量）: closed ÷ all problems."""
        return Decimal(self.closed) / Decimal(self.total) if self.total else None

    @property
    def amount_rate(self) -> Decimal | None:
        """整改率（按金额）: capped money rectified ÷ money involved."""
        return self.rectified / self.amount if self.amount else None

    @property
    def due_count_rate(self) -> Decimal | None:
        """到期整改率（按数量）: closed ÷ problems already due (every closed problem is due)."""
        return Decimal(self.closed) / Decimal(self.due) if self.due else None

    @property
    def due_amount_rate(self) -> Decimal | None:
        """到期整改率（按金额）: capped money rectified ÷ money involved, over the due problems."""
        return self.due_rectified / self.due_amount if self.due_amount else None

    @property
    def cleared(self) -> bool:
        return self.total > 0 and self.closed == self.total

    def add(self, other: RateRow) -> None:
        for name in ("total", "closed", "open", "overdue", "amount", "rectified", "due", "due_amount",
                     "due_rectified"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def count(self, *, closed: bool, open_: bool, deadline, amount, rectified, today) -> None:
        """Add one problem (the same rule as the SQL in `rates`, for rows held in memory, e.g.
        the public site's published problem lists)."""
        amount = Decimal(amount or 0)
        capped = min(Decimal(rectified or 0), amount)
        due = closed or (deadline is not None and deadline < today)
        self.total += 1
        self.closed += int(closed)
        self.open += int(open_)
        self.overdue += int(open_ and deadline is not None and deadline < today)
        self.amount += amount
        self.rectified += capped
        if due:
            self.due += 1
            self.due_amount += amount
            self.due_rectified += capped


def due_condition(today=None):
    """到期: the deadline has passed, or the problem is closed."""
    today = today or clock.today()
    return sa.or_(Problem.state == ProblemState.CLOSED, Problem.deadline < today)


DIMENSIONS = {
    "unit": Problem.unit_id,
    "department": Problem.department_id,
    "source": Problem.source,
    "year": Problem.year,
}
DIMENSION_LABELS = {"unit": _l("责任单位"), "department": _l("主管部门"), "source": _l("问题来源"),
                    "year": _l("年度")}


def rates(user, dimension: str, *, year: int | None = None, today=None) -> list[RateRow]:
    """整改率 per `dimension` (unit, department, source, year) over the problems the user sees."""
    today = today or clock.today()
    key = DIMENSIONS[dimension]
    closed = sa.func.sum(sa.case((Problem.state == ProblemState.CLOSED, 1), else_=0))
    open_ = sa.func.sum(sa.case((Problem.state.in_(OPEN_STATES), 1), else_=0))
    overdue = sa.func.sum(sa.case((bucket_condition("overdue", today), 1), else_=0))
    is_due = due_condition(today)
    due = sa.func.sum(sa.case((is_due, 1), else_=0))
    due_amount = sa.func.sum(sa.case((is_due, Problem.amount), else_=0))
    due_rectified = sa.func.sum(sa.case((is_due, capped_rectified_expr()), else_=0))
    stmt = sa.select(key, sa.func.count(Problem.id), closed, open_, overdue, sa.func.sum(Problem.amount),
                     sa.func.sum(capped_rectified_expr()), due, due_amount, due_rectified).group_by(key)
    stmt = visible(user, Problem, stmt)
    if year:
        stmt = stmt.where(Problem.year == year)
    rows = db.session.execute(stmt).all()
    names = {}
    if dimension in ("unit", "department"):
        ids = [r[0] for r in rows]
        names = dict(db.session.execute(sa.select(Organisation.id, Organisation.name)
                                        .where(Organisation.id.in_(ids))).all())
    result = []
    for k, total, n_closed, n_open, n_overdue, amount, rectified, n_due, amount_due, rectified_due in rows:
        if dimension == "source":
            k = ProblemSource(k) if not isinstance(k, ProblemSource) else k
            label = k.label
        elif dimension == "year":
            label = str(k)
        else:
            label = names.get(k, str(k))
        result.append(RateRow(k, label, int(total or 0), int(n_closed or 0), int(n_open or 0), int(n_overdue or 0),
                              Decimal(amount or 0), Decimal(rectified or 0), int(n_due or 0),
                              Decimal(amount_due or 0), Decimal(rectified_due or 0)))
    if dimension == "year":
        result.sort(key=lambda r: r.key)
    else:
        result.sort(key=lambda r: (-(r.count_rate or 0), r.label))
    return result


def overall(user, *, year: int | None = None, today=None) -> RateRow:
    row = RateRow(None, "")
    for r in rates(user, "year", year=year, today=today):
        row.add(r)
    return row


# ---- recurrence (屡查屡犯) ----------------------------------------------------------------

def _normalise(text: str) -> str:
    return re.sub(r"[\s\d，。、；：,.;:（）()“”\"'%]+", "", text or "")


def similar(a: str, b: str, threshold: float = 0.6) -> bool:
    a, b = _normalise(a), _normalise(b)
    if not a or not b:
        return False
    return difflib.SequenceMatcher(None, a, b).ratio() >= threshold


def find_recurrence(unit_id: int, year: int, category: str, description: str) -> Problem | None:
    """The latest problem of the same unit in an earlier year, same category, similar description."""
    candidates = db.session.execute(
        sa.select(Problem).where(Problem.unit_id == unit_id, Problem.year < year, Problem.category == category)
        .order_by(Problem.year.desc(), Problem.id.desc()).limit(200)
    ).scalars()
    return next((p for p in candidates if similar(p.description, description)), None)


def problem_history(problem) -> list:
    """The problem's 处理记录: its own audit entries and those of its extension requests and
    milestones (each operation logs against the record it changed), oldest first."""
    from portal.core.audit import AuditEntry
    from portal.ledger.models import ExtensionRequest, Milestone

    owners = [(Problem.__tablename__, [problem.id]),
              (ExtensionRequest.__tablename__, [e.id for e in problem.extensions]),
              (Milestone.__tablename__, [m.id for m in problem.milestones])]
    condition = sa.or_(*[sa.and_(AuditEntry.record_type == kind, AuditEntry.record_id.in_([str(i) for i in ids]))
                         for kind, ids in owners if ids])
    return list(db.session.execute(sa.select(AuditEntry).where(condition).order_by(AuditEntry.id)).scalars())
