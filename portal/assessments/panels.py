"""The joint overview's section (联席会议 / 人大): the budget year's ex-ante figures."""
from flask import render_template

from portal.assessments import queries
from portal.assessments.models import Assessment
from portal.core.permissions import can


def overview_section(user, year):
    if not can(user, "overview", Assessment):
        return None
    budget_year = year + 1 if not queries.figures(user, year)[1].assessed else year
    rows, total = queries.figures(user, budget_year)
    if not total.assessed:
        return None
    return render_template("portal/assessments/_overview.html", year=budget_year, rows=rows, total=total,
                           paragraph=queries.paragraph(budget_year, total))
