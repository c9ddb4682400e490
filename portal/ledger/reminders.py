"""Deadline reminders (催办): the unit a week before the deadline; the unit and both bureaus once
overdue. Keys carry the deadline, so an approved extension starts a new stage."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.core.notifications import Reminder, ReminderSent
from portal.extensions import db
from portal.ledger.models import OPEN_STATES, Problem
from portal.ledger.operations import bureau_users, link_to, unit_users

DAYS_BEFORE = 7


def check(now):
    today = now.date()
    stmt = (sa.select(Problem).where(Problem.state.in_(OPEN_STATES), Problem.deadline <= today + timedelta(days=DAYS_BEFORE))
            .order_by(Problem.id))
    bureaus = None
    # Keys already sent are skipped here, so a run costs one query however many problems are overdue.
    sent = set(db.session.execute(sa.select(ReminderSent.key).where(ReminderSent.key.like("problem:%"))).scalars())
    for problem in db.session.execute(stmt).scalars().all():
        stage = "overdue" if problem.deadline < today else "due"
        if f"problem:{problem.id}:{stage}:{problem.deadline.isoformat()}" in sent:
            continue
        if problem.deadline < today:
            if bureaus is None:
                bureaus = bureau_users()
            yield Reminder(key=f"problem:{problem.id}:overdue:{problem.deadline.isoformat()}",
                           users=unit_users(problem) + bureaus, record=problem, link=link_to(problem),
                           title=_("逾期：%(n)s 已超过整改时限（%(d)s）", n=problem.number, d=problem.deadline.isoformat()))
        else:
            yield Reminder(key=f"problem:{problem.id}:due:{problem.deadline.isoformat()}",
                           users=unit_users(problem), record=problem, link=link_to(problem),
                           title=_("提醒：%(n)s 将于 %(d)s 到期", n=problem.number, d=problem.deadline.isoformat()))
