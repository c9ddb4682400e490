"""The dashboard panel (我参加的联合评价组) and the joint overview's section (联合监督总览): the year's teams, the circulated assessment, the
submitted packages — each figure links to the list behind it."""
from __future__ import annotations

from flask import render_template

from portal.core.permissions import can
from portal.oversight import queries
from portal.oversight.models import CongressPackage, JointTeam, PackageState, TeamState, WorkAssessment


def overview_section(user, year: int) -> str | None:
    if not (can(user, "view", JointTeam) or can(user, "view", WorkAssessment) or can(user, "view", CongressPackage)):
        return None
    teams = queries.teams(user, year) if can(user, "view", JointTeam) else []
    assessment = queries.assessment_of(year - 1) or queries.assessment_of(year)
    if assessment is not None and not can(user, "view", assessment):
        assessment = None
    submitted = [p for p in queries.packages(user, year - 1) + queries.packages(user, year)
                 if p.state == PackageState.SUBMITTED]
    return render_template("portal/oversight/_overview_section.html", year=year, teams=teams,
                           finalised=sum(t.state == TeamState.FINALISED for t in teams), assessment=assessment,
                           submitted=submitted)


def dashboard_panel(user) -> str | None:
    """我参加的联合评价组: teams still working that the user sits on."""
    mine = [t for t in queries.teams_of_user(user) if t.state == TeamState.WORKING]
    if not mine:
        return None
    return render_template("portal/oversight/_dashboard_panel.html", teams=mine)
