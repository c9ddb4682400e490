"""The conference's dashboard panel (我的议定事项) and its section of the joint overview."""
from __future__ import annotations

import sqlalchemy as sa
from flask import render_template
from flask_babel import gettext as _

from portal.conference import queries
from portal.conference.models import Action, ActionState
from portal.conference.policies import is_reader
from portal.core import clock
from portal.extensions import db


def overview_section(user, year: int) -> str | None:
    """The conference's own section of the joint overview."""
    if not is_reader(user):
        return None
    figures = queries.overview_figures(user, year)
    chart = queries.bar_chart([(s.label, figures["by_state"][s], s.value) for s in ActionState]
                              + [(_("已逾期"), figures["overdue"], "overdue")], title=_("议定事项按状态分布"))
    return render_template("portal/conference/_overview_section.html", f=figures, year=year, chart=chart,
                           states=ActionState)


def dashboard_panel(user) -> str | None:
    """我的议定事项: unfinished actions the user owns (or their organisation owns)."""
    stmt = queries.filter_actions(user, state="unfinished")
    if is_reader(user):  # bureau staff: the ones assigned to them or their organisation
        stmt = stmt.where(sa.or_(Action.owner_user_id == user.id, Action.owner_org_id == user.organisation_id))
    items = db.session.execute(stmt.limit(8)).scalars().all()
    if not items:
        return None
    return render_template("portal/conference/_dashboard_panel.html", items=items, today=clock.today())
