"""Dashboard panel and joint-overview section."""
from __future__ import annotations

from flask import render_template

from portal.core.permissions import can
from portal.inquiries import queries
from portal.inquiries.models import Letter


def dashboard_panel(user):
    from portal.inquiries.policies import is_bureau_reader

    if not is_bureau_reader(user):
        return None
    return render_template("portal/inquiries/_dashboard.html", c=queries.counts(user))


def overview_section(user, year):
    """Open and overdue letters by direction (finance → audit, audit → finance), with links."""
    import sqlalchemy as sa

    from portal.accounts.models import Organisation, OrgKind
    from portal.core.locale import N_
    from portal.core.permissions import visible
    from portal.extensions import db
    from portal.inquiries.models import AWAITING_ANSWER, overdue_clause

    if not can(user, "view", Letter):
        return None
    finance = db.session.scalars(sa.select(Organisation.id).where(Organisation.kind == OrgKind.FINANCE_BUREAU)).all()
    audit = db.session.scalars(sa.select(Organisation.id).where(Organisation.kind == OrgKind.AUDIT_BUREAU)).all()
    base = visible(user, Letter).with_only_columns(sa.func.count()).select_from(Letter)
    if year:
        base = base.where(Letter.number_year == year)
    rows = []
    for label, senders in ((N_("财政局 → 审计局"), finance), (N_("审计局 → 财政局"), audit)):
        where = Letter.sender_org_id.in_(senders)
        rows.append({"label": label,
                     "total": db.session.execute(base.where(where, Letter.number_seq.is_not(None))).scalar_one(),
                     "open": db.session.execute(base.where(where, Letter.state.in_(AWAITING_ANSWER))).scalar_one(),
                     "overdue": db.session.execute(base.where(where, overdue_clause())).scalar_one()})
    return render_template("portal/inquiries/_overview.html", rows=rows, year=year)
