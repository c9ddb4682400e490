"""One gapless counter for every numbered record (letters per issuing code and year, ledger
problems per year, meetings per year, and whatever is numbered next).

`take(scope, period)` is a single `INSERT … ON CONFLICT DO UPDATE SET last = last + 1 RETURNING
last`: the row stays locked until the caller's transaction ends, so concurrent takers queue, and a
refused or rolled-back request gives its number back with everything else it wrote. Call it only
in the transition that keeps the number, after the record's own lock and state check.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db


class Counter(db.Model):
    __tablename__ = "counters"

    scope: Mapped[str] = mapped_column(sa.String(60), primary_key=True)  # "ledger", "inquiry:临财绩函"
    period: Mapped[int] = mapped_column(primary_key=True)  # the year
    last: Mapped[int] = mapped_column(default=0)

    __table_args__ = (sa.CheckConstraint("last >= 0", name="last_not_negative"),)


def _insert():
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(Counter)


def take(scope: str, period: int, count: int = 1) -> int:
    """The next number of `scope` in `period` (1, 2, 3 … without gaps). With `count`, that many
    numbers in one update (an import): the last one is returned, the others are the ones before it."""
    stmt = _insert().values(scope=scope, period=period, last=count)
    stmt = stmt.on_conflict_do_update(index_elements=["scope", "period"], set_={"last": Counter.last + count})
    return db.session.execute(stmt.returning(Counter.last)).scalar_one()


def last(scope: str, period: int) -> int:
    value = db.session.execute(sa.select(Counter.last).where(Counter.scope == scope, Counter.period == period))
    return value.scalar() or 0


def ensure_at_least(scope: str, period: int, value: int) -> None:
    """Move the counter up to `value` (imports and demo data that bring their own numbers)."""
    stmt = _insert().values(scope=scope, period=period, last=value)
    stmt = stmt.on_conflict_do_update(index_elements=["scope", "period"],
                                      set_={"last": sa.func.max(Counter.last, value)
                                            if db.session.get_bind().dialect.name == "sqlite"
                                            else sa.func.greatest(Counter.last, value)})
    db.session.execute(stmt)
