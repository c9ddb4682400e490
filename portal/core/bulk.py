"""Bulk actions on a list's ticked rows (issue 18: 催办 the ticked letters, move the ticked
conference actions along their state machine, …).

A module's bulk operation loads the ticked rows the actor may see and runs its own one-record
operation on each, every row in a savepoint of its own: a row the step refuses (not permitted, a
state that does not allow it, a missing reason) is rolled back alone and reported by name with
the reason; the other rows are done, all in the request's one transaction (`perform()` commits
once). Ticked ids the actor may not see are counted, never named.

    def bulk_remind(*, actor, ids) -> BulkOutcome:
        return run(actor, Letter, ids, lambda letter: remind(letter, actor), name=lambda l: l.doc_number)

The view authorises the bar, then hands its form and the operation to `carry_out()`, the one body
every bulk view shares: the ids and the note read through the form (`BulkForm` below; a
tampered one is a 400), the operation run by `submit()` (one commit), the outcome shown with
`report(outcome)` — the count done as the success message, each refused row as an error message
above the list — and the redirect back to the list the bar was on.

    @bp.post("/bulk")
    def bulk():
        require(current_user, "bulk", Letter)
        return carry_out(LetterBulkForm(), operations.bulk_letters, back=url_for("inquiries.index"))"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flask import flash, redirect
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, Optional

from portal.core import parsing
from portal.core.errors import DomainError
from portal.core.forms import IdListField
from portal.core.redirects import safe_next
from portal.core.writes import submit
from portal.extensions import db

SHOWN_REFUSALS = 20  # refused rows named one by one above the list; the rest are counted


@dataclass
class BulkOutcome:
    done: list[str] = field(default_factory=list)  # the names of the rows done
    refused: list[tuple[str, str]] = field(default_factory=list)  # (row's name, why not)
    missing: int = 0  # ticked ids that are gone or not the actor's to see


def run(actor, model, ids: Iterable[int], step: Callable, *, name: Callable[[object], str],
        first: Callable[[], None] | None = None, locks: Callable[[object], object | None] | None = None
        ) -> BulkOutcome:
    """`step(record)` on each ticked record `actor` may see, in id order, each in a savepoint; a
    `DomainError` refuses that row only.

    Every row's lock is taken before the first step (PostgreSQL; SQLite's write transactions
    are IMMEDIATE): a step's audit entry holds the audit chain's lock until the commit, so two
    requests locking row by row on overlapping ticks would deadlock (A: row 1, then the chain;
    B: row 3, then waits for the chain; A waits for row 3). `first` is the module's own
    serialising lock that its one-record operation takes before any row (publishing's), taken
    before the rows so the order stays the operation's; `locks(record)` is the row the step
    moves when it is not the ticked record itself (a project's goal), locked with it."""
    from portal.core.permissions import visible
    from portal.core.writes import lock

    wanted = sorted(set(ids or ()))
    if not wanted:
        raise DomainError(_("请先勾选记录。"), field="ids")
    if first is not None:
        first()
    stmt = visible(actor, model).where(model.id.in_(wanted)).order_by(model.id)
    if db.session.get_bind().dialect.name == "postgresql":
        # FOR NO KEY UPDATE: a step inserting a row that refers to another ticked record (its
        # foreign-key check takes KEY SHARE on it) is not blocked by this request's own locks
        stmt = stmt.with_for_update(of=model.__table__, key_share=True).execution_options(populate_existing=True)
    records = list(db.session.execute(stmt).unique().scalars())
    for row in filter(None, map(locks, records) if locks else ()):
        lock(row)
    outcome = BulkOutcome(missing=len(wanted) - len(records))
    for record in records:
        label = name(record)
        try:
            with db.session.begin_nested():
                step(record)
        except DomainError as error:
            outcome.refused.append((label, error.message))
        else:
            outcome.done.append(label)
    return outcome


def report(outcome: BulkOutcome, noun: str = "") -> str:
    """Flash each refused row (and the missing ones) as an error; return the success message."""
    for label, reason in outcome.refused[:SHOWN_REFUSALS]:
        flash(_("%(name)s 未办理：%(reason)s", name=label, reason=reason), "error")
    if len(outcome.refused) > SHOWN_REFUSALS:
        flash(_("另有 %(n)s 项未办理。", n=len(outcome.refused) - SHOWN_REFUSALS), "error")
    if outcome.missing:
        flash(_("%(n)s 项所选记录不存在或无权办理。", n=outcome.missing), "error")
    return _("已办理 %(n)s 项。", n=len(outcome.done)) if outcome.done else ""


def carry_out(form: BulkForm, operation: Callable, *, back: str, fields: tuple[str, ...] = ()):
    """The body of every bulk view, once the bar is authorised: `operation(actor=…, ids=…,
    comment=…)` — and `action=…` where the form offers a choice of steps, and each of `fields`
    (the bar's other inputs, e.g. a grade) by its name — then back to the list
    (`form.back`, if it is one of ours, else `back`). A tampered form: 400, nothing done; refused
    as a whole (nothing ticked): the message flashed, nothing done."""
    parsing.require_valid(form)
    back = safe_next(form.back.data, back)
    arguments = {name: form[name].data for name in ("action", *fields) if name in form}
    done = submit(operation, actor=current_user, ids=form.ids.data, comment=form.comment.data or "",
                  redirect_to=back, success=report, **arguments)
    return done or redirect(back)


class BulkForm(FlaskForm):
    """A list's bulk bar (macros/listing.html `table(bulk=…)`): the ticked ids, the list to go
    back to, and a note some steps take (a reason, a message). Modules add their `action` field
    with the choices they offer."""

    ids = IdListField(_l("所选记录"))
    back = StringField(validators=[Optional(), Length(max=2000)])
    comment = StringField(_l("说明"), validators=[Optional(), Length(max=1000)])
