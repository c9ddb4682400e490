"""The in-memory table of live snapshots (public_site/live.py) answers browse pages, facet counts,
the headline figures and the charts exactly as SQL over the snapshot table does."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from bench.generate import generate
from portal.publishing.models import PublicationKind, Snapshot
from public_site import live, queries

pytestmark = pytest.mark.commits  # the search index is written and rebuilt through connections of its own

ALL_KINDS = tuple(PublicationKind)


def sql_facet_counts(db, kinds, filters) -> dict:
    out = {}
    for name, column in queries.FACET_COLUMNS.items():
        stmt = queries.live(sa.select(column, sa.func.count()).where(Snapshot.kind.in_(kinds)))
        stmt = queries._apply(stmt, filters, skip=name).group_by(column)
        out[name] = dict(db.session.execute(stmt).all())
    return out


def test_browse_pages_and_facets_equal_what_sql_answers(db, app, public_app):
    generate(app.config["SQLALCHEMY_DATABASE_URI"], "tiny", seed=1, migrate=False, quiet=True)
    departments = sorted({d for (d,) in db.session.execute(sa.select(Snapshot.department_ref))})
    filter_sets = [{}, {"year": "2024"}, {"grade": "good"}, {"department": str(departments[0])},
                   {"year": "2025", "grade": "fair", "budget_type": "general"}, {"rectification": "in_progress"},
                   {"year": "two thousand"}, {"unit": "no such unit"}]
    with public_app.test_request_context("/"):
        for kinds in (queries.LISTINGS["goals"], queries.LISTINGS["results"], ALL_KINDS):
            for filters in filter_sets:
                for sort in ("newest", "amount", "score", "name"):
                    expected = [s.id for s in db.session.scalars(queries.listing(kinds, filters, sort))]
                    page = queries.browse_page(kinds, filters, sort, 1, 1000)
                    assert [s.id for s in page.items] == expected, (kinds, filters, sort)
                    assert page.total == len(expected)
                    second = queries.browse_page(kinds, filters, sort, 2, 7)
                    assert [s.id for s in second.items] == expected[7:14]
                counts = {name: dict(pairs) for name, pairs in queries.facet_counts(kinds, filters).items()}
                assert counts == sql_facet_counts(db, kinds, filters), (kinds, filters)


def test_headline_departments_and_charts_equal_what_sql_answers(db, app, public_app):
    generate(app.config["SQLALCHEMY_DATABASE_URI"], "tiny", seed=1, migrate=False, quiet=True)
    live_rows = queries.live(sa.select(Snapshot))
    rows = db.session.scalars(live_rows).all()
    results = [s for s in rows if s.kind in queries.RESULT_KINDS]
    with public_app.test_request_context("/"):
        figures = queries.headline()
        assert figures == {
            "projects": len({s.project_ref for s in rows}),
            "goals": sum(s.kind == PublicationKind.GOALS for s in rows), "results": len(results),
            "money": sum(s.amount for s in rows if s.kind == PublicationKind.FINANCE_EVALUATION),
            "departments": len({s.department_ref for s in rows})}
        assert queries.department_names() == {s.department_ref: s.department_name for s in rows}
        grades = dict(queries.chart_data("grades"))
        assert sum(grades.values()) == sum(1 for s in results if s.grade)
        assert grades["良"] == sum(1 for s in results if s.grade == "good")
        money = dict(queries.chart_data("money"))
        assert money["优"] == sum(s.amount for s in results if s.grade == "excellent")
        department = rows[0].department_ref
        assert dict(queries.chart_data("grades", department))["良"] == sum(
            1 for s in results if s.grade == "good" and s.department_ref == department)
        # 整改率 = closed ÷ all published problems, 到期整改率 = closed ÷ those due on the day of
        # publication (deadline passed, or closed), per department: counted here by hand
        rates = dict(queries.chart_data("rectification"))
        due_rates = dict(queries.chart_data("due_rectification"))
        counts: dict = {}
        for s in rows:
            if s.kind != PublicationKind.RECTIFICATION:
                continue
            for p in s.payload.get("sections", {}).get("problems", []):
                by = counts.setdefault(s.department_name, [0, 0, 0])
                closed = p["state"] == "已销号"
                by[0] += 1
                by[1] += closed
                by[2] += closed or (p.get("deadline") or "9999") < s.published_at.date().isoformat()
        assert rates and rates == {name: round(c / t, 4) for name, (t, c, _d) in counts.items() if t}
        assert due_rates == {name: round(c / d, 4) for name, (_t, c, d) in counts.items() if d}


def test_a_publication_refreshes_the_table(db, world, corpus, public_app):
    from portal.publishing import operations

    with public_app.test_request_context("/"):
        assert live.table().size == 0
    operations.publish(2026, None, ["goals"], actor=world.finance)
    db.session.commit()
    with public_app.test_request_context("/"):
        assert live.table().size == db.session.scalar(sa.select(sa.func.count()).select_from(Snapshot))
        assert queries.headline()["goals"] == live.table().size
