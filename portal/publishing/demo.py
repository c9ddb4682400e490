"""Demo (order 900): publish the demo city's goals and results and the year figures the modules'
demos name (ctx["year_figures"]: kind → year), then build the search index, so the public site is
full on first start."""
from __future__ import annotations

import sqlalchemy as sa

from portal.core.errors import DomainError
from portal.extensions import db
from portal.performance.models import Project
from portal.publishing import operations
from portal.publishing.models import PublicationKind


def seed(ctx: dict) -> None:
    projects = ctx.get("projects") or db.session.scalars(sa.select(Project)).all()
    actor = (ctx.get("users") or {}).get("finance")
    if not projects or actor is None:
        return
    written = []
    for year in sorted({p.year for p in projects}):
        try:
            written += operations.publish(year, None, [k.value for k in PublicationKind], actor=actor)
        except DomainError:  # nothing publishable for that year
            continue
    ctx["snapshots"] = written
    # the year figures (公开的年度统计) the modules' demos name, e.g. the assessments' 事前绩效评估情况 of 2027,
    # so that /figures/<kind>/ has a published year
    ctx["figures"] = [operations.publish_figures(kind, year, actor=actor)
                      for kind, year in sorted((ctx.get("year_figures") or {}).items())]
    db.session.commit()  # the index writer reads committed snapshots
    from portal.publishing.search import apply_quietly

    apply_quietly()
