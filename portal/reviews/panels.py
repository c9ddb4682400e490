"""Dashboard panel, joint-overview section and reminder check of the co-review."""
from __future__ import annotations

import sqlalchemy as sa
from flask import render_template
from flask_babel import gettext as _

from portal.core.notifications import Reminder
from portal.extensions import db
from portal.reviews import queries
from portal.reviews.models import AssignmentState, ReviewAssignment, ReviewRound, RoundState
from portal.reviews.operations import url_for


def dashboard_panel(user):
    reviews = queries.my_open_reviews(user)
    endorse = queries.waiting_endorsement(user)
    lead = queries.lead_to_do(user)
    if not (reviews or endorse or lead):
        return None
    return render_template("portal/reviews/_panel.html", reviews=reviews, endorse=endorse, lead=lead)


def overview_section(user, year):
    from portal.reviews.policies import internal_reader

    if not internal_reader(user):
        return None
    counts = queries.state_counts(year)
    if not counts:
        return None
    return render_template("portal/reviews/_overview.html", counts=counts, year=year)


def late_reviewers(now):
    """Reviewers whose round's deadline has passed and who have not submitted (催办)."""
    rows = db.session.scalars(
        sa.select(ReviewAssignment).join(ReviewRound)
        .where(ReviewRound.state == RoundState.OPEN, ReviewRound.deadline < now.date(),
               ReviewAssignment.state.in_([AssignmentState.PENDING, AssignmentState.ACTIVE])))
    for a in rows:
        yield Reminder(key=f"review:{a.id}:overdue", users=[a.reviewer],
                       title=_("评审已逾期，请尽快提交：%(title)s（第%(n)s轮）", title=a.round.report.title,
                               n=a.round.number),
                       link=url_for("reviews.review", assignment_id=a.id), record=a)
