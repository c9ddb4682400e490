"""Demo (order 900): publish the demo city's goals and results, then build the search index,
so the public site is full on first start."""
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
    db.session.commit()  # the index writer reads committed snapshots
    from portal.publishing.search import apply_quietly

    apply_quietly()
