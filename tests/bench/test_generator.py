"""The scale generator at the tiny scale: deterministic, and its data valid and consistent."""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest
import sqlalchemy as sa

from bench.generate import generate
from portal.performance.models import LEVEL2_OF, Evaluation, Grade, Indicator, Level1, Level2, Project

pytestmark = pytest.mark.commits  # the bulk loader commits and vacuums through connections of its own

TABLES = ["organisations", "users", "user_roles", "projects", "performance_goals", "indicators", "evaluations",
          "evaluation_findings", "attachments", "attachment_links",
          # workflow plug-ins (ledger, inquiries, reviews); letter follow-ups and extensions are empty at tiny
          "problems", "counters", "problem_updates", "problem_extensions", "problem_signoffs",
          "problem_milestones", "inquiry_issuing_codes", "inquiry_holidays", "inquiry_letters",
          "inquiry_letter_projects", "inquiry_replies", "inquiry_items", "review_rubrics",
          "review_rubric_criteria", "agency_profiles", "agency_pool_entries", "review_reports", "agency_draws",
          "review_report_versions", "review_rounds", "review_assignments", "review_scores", "review_comments",
          "review_revisions"]


def _dump(url: str) -> dict:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        dump = {t: conn.exec_driver_sql(f'SELECT * FROM "{t}" ORDER BY 1, 2').fetchall() for t in TABLES}
    engine.dispose()
    return dump


def test_same_seed_gives_the_same_rows_and_another_seed_does_not(tmp_path):
    urls = [f"sqlite:///{tmp_path / name}.db" for name in ("a", "b", "c")]
    generate(urls[0], "tiny", seed=7, quiet=True)
    generate(urls[1], "tiny", seed=7, quiet=True)
    generate(urls[2], "tiny", seed=8, quiet=True)
    first, second, other = (_dump(u) for u in urls)
    assert all(first[t] for t in TABLES)
    assert first == second
    assert first["projects"] != other["projects"]


def test_generated_data_is_consistent(db, app):
    result = generate(app.config["SQLALCHEMY_DATABASE_URI"], "tiny", seed=1, migrate=False, quiet=True)
    counts = result["counts"]
    # 60 projects with goals and evaluations, plus the next year's new projects under ex-ante assessment
    assert counts["projects"] == 60 + counts["assessments"] and counts["assessments"] > 0
    assert counts["performance_goals"] == 60 and counts["evaluations"] == 60
    assert counts["indicators"] >= 60 * 6 and counts["attachments"] >= 4  # 4 reports, then evidence and drafts
    session = db.session

    # the ORM reads every generated row back with its declared types
    projects = session.scalars(sa.select(Project)).all()
    assessed = set(session.scalars(sa.text("SELECT project_id FROM assessments")))
    for p in projects:
        assert p.unit is not None and p.department is not None
        # a department is at the top of its chain: under nothing (city) or its county's finance bureau
        assert p.department.parent is None or (p.department.parent.kind.value == "finance_bureau"
                                               and p.department.parent.parent_id is not None)
        assert p.unit.department.id == p.department_id
        assert min(p.initial_budget, p.annual_budget, p.executed) >= 0
        assert isinstance(p.annual_budget, Decimal)
        assert len(p.goals) == (0 if p.id in assessed else 1)  # an assessed new project has no goal yet
    assert len({(p.code, p.year) for p in projects}) == len(projects)

    # grades follow the half-open score bands
    for e in session.scalars(sa.select(Evaluation)).all():
        if e.state.value == "completed":
            assert e.grade == Grade.for_score(e.score) and 0 <= e.score <= 100
        for f in e.findings:
            assert f.amount is None or f.amount >= 0

    # indicator tables: valid level pairs, weights 50/30/10, positions in order
    weights = defaultdict(lambda: defaultdict(Decimal))
    for i in session.scalars(sa.select(Indicator)).all():
        assert Level2(i.level2) in LEVEL2_OF[Level1(i.level1)]
        assert (i.target_value is None) == i.is_qualitative
        assert i.weight >= 0
        weights[i.goal_id][i.level1.value] += i.weight
    for by_level in weights.values():
        assert by_level["output"] + by_level["cost"] == 50
        assert by_level["benefit"] == 30 and by_level["satisfaction"] == 10

    # reports are linked to evaluations that exist and carry several paragraphs of text
    rows = session.execute(sa.text(
        "SELECT a.text, l.record_id FROM attachments a JOIN attachment_links l ON l.attachment_id = a.id "
        "WHERE l.record_type = 'evaluations'")).all()
    assert len(rows) == 4
    for text, evaluation_id in rows:
        assert session.get(Evaluation, evaluation_id) is not None
        assert "综合评价情况及结论" in text and len(text) > 800
