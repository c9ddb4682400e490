"""Dashboard panel and joint-overview section of the co-review."""
from __future__ import annotations

from flask import render_template

from portal.reviews import queries


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
