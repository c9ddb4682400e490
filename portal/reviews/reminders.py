"""The co-review's reminder check: reviewers past their round's deadline (催办)."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.core.links import page_link
from portal.core.notifications import Reminder
from portal.extensions import db
from portal.reviews.models import AssignmentState, ReviewAssignment, ReviewRound, RoundState


def check(now):
    """Reviewers whose round's deadline has passed and who have not submitted (催办)."""
    rows = db.session.scalars(
        sa.select(ReviewAssignment).join(ReviewRound)
        .where(ReviewRound.state == RoundState.OPEN, ReviewRound.deadline < now.date(),
               ReviewAssignment.state.in_([AssignmentState.PENDING, AssignmentState.ACTIVE])))
    for a in rows:
        yield Reminder(key=f"review:{a.id}:overdue", users=[a.reviewer],
                       title=_("评审已逾期，请尽快提交：%(title)s（第%(n)s轮）", title=a.round.report.title,
                               n=a.round.number),
                       link=page_link("reviews.review", assignment_id=a.id), record=a)
