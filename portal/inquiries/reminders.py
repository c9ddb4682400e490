"""Automatic chasing (催办): before the deadline and when overdue, each once per letter, stage
and deadline (an extension starts a new round), through the foundation's reminder runner."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.core.notifications import Reminder
from portal.extensions import db
from portal.inquiries import workdays
from portal.inquiries.models import AWAITING_ANSWER, Letter

BEFORE_WORKDAYS = 2  # remind when the deadline is this many working days away or fewer


def check(now: datetime):
    from portal.inquiries.operations import _link, _staff_of

    today = now.date()
    letters = db.session.scalars(sa.select(Letter).where(Letter.state.in_(AWAITING_ANSWER),
                                                         Letter.deadline.is_not(None)).order_by(Letter.id)).all()
    for letter in letters:
        deadline = letter.deadline
        if deadline < today:
            users = _staff_of(letter.addressee_org_id) + _staff_of(letter.sender_org_id)
            yield Reminder(key=f"inquiry:{letter.id}:overdue:{deadline.isoformat()}", users=users,
                           title=_("已逾期：%(n)s %(t)s（期限 %(d)s）", n=letter.doc_number, t=letter.title,
                                   d=deadline.isoformat()),
                           link=_link(letter), record=letter)
        elif workdays.workdays_between(today, deadline) <= BEFORE_WORKDAYS:
            yield Reminder(key=f"inquiry:{letter.id}:before:{deadline.isoformat()}",
                           users=_staff_of(letter.addressee_org_id),
                           title=_("即将到期：%(n)s %(t)s（期限 %(d)s）", n=letter.doc_number, t=letter.title,
                                   d=deadline.isoformat()),
                           link=_link(letter), record=letter)


def holiday_schedule(now: datetime):
    """Each November (and again in December while still missing): remind the administrators to
    load the coming year's schedule, once per month."""
    from flask import url_for
    from flask_babel import gettext as _

    from portal.accounts.models import Role, User, UserRole
    from portal.core.notifications import Reminder

    if now.month not in workdays.REMIND_MONTHS:
        return
    year = now.year + 1
    if year not in workdays.Calendar(year, year).known_years:
        admins = db.session.scalars(sa.select(User).join(UserRole).where(UserRole.role == Role.ADMIN)
                                    .order_by(User.id)).all()
        yield Reminder(key=f"holidays:{year}:{now.month:02d}", users=admins,
                       title=_("请录入 %(y)s 年节假日安排", y=year),
                       body=_("%(y)s 年的节假日安排尚未录入：国务院办公厅发布通知后，请在节假日表中录入，或升级 "
                              "chinese-calendar 后运行 flask inquiries load-holidays。录入前，该年的期限只按周末和"
                              "元旦、劳动节、国庆节计算，并显示提醒。", y=year),
                       link=url_for("inquiries.holidays", year=year))
