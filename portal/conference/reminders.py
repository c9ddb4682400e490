"""The conference's reminder check: resolutions (议定事项) due soon and overdue."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.conference.models import OPEN_STATES, Action
from portal.conference.queries import DUE_SOON_DAYS, action_recipients
from portal.core.links import page_link
from portal.core.notifications import Reminder
from portal.extensions import db


def check(now):
    """Before the due date (within DUE_SOON_DAYS) and once overdue — each sent once per action."""
    today = now.date()
    stmt = sa.select(Action).where(Action.state.in_(OPEN_STATES), Action.due_date.is_not(None),
                                   Action.due_date <= today + timedelta(days=DUE_SOON_DAYS))
    for action in db.session.execute(stmt).scalars():
        if action.due_date < today:
            key, title = f"conference_action:{action.id}:overdue", _("议定事项已逾期：%(text)s", text=action.text[:60])
        else:
            key, title = f"conference_action:{action.id}:due", _("议定事项即将到期：%(text)s", text=action.text[:60])
        yield Reminder(key=key, users=action_recipients(action), title=title,
                       link=page_link("conference.action_detail", action_id=action.id), record=action,
                       body=f"{action.meeting.title} · {action.due_date.isoformat()}")
