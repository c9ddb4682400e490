"""The demo seeder: ~300 projects over two years, a grade mix like the sources, warnings, ctx keys."""
import sqlalchemy as sa

from portal.performance.models import (
    Evaluation,
    EvaluationMode,
    EvaluationState,
    Grade,
    MonitoringReport,
    Project,
)


def test_seeder_builds_the_city(demo_app, demo_db):
    db = demo_db
    projects = db.session.scalars(sa.select(Project).where(Project.id.in_(demo_app.demo["projects"]))).all()
    evaluations = db.session.scalars(sa.select(Evaluation).where(
        Evaluation.id.in_(demo_app.demo["evaluations"]))).all()
    assert len(projects) == 300 and {p.year for p in projects} == {2025, 2026}
    for key in ("棚户区改造", "专项债券", "农村饮水安全", "义务教育"):
        assert any(key in p.name for p in projects), key
    assert all(e.state == EvaluationState.COMPLETED for e in evaluations)
    self_grades = [e.grade for e in evaluations if e.mode == EvaluationMode.SELF]
    assert len(self_grades) == 150
    finance = [e for e in evaluations if e.mode == EvaluationMode.FINANCE]
    assert 18 <= len(finance) <= 22 and all(e.agency is not None and e.findings for e in finance)
    grades = self_grades + [e.grade for e in finance]
    good = sum(g in (Grade.EXCELLENT, Grade.GOOD) for g in grades)
    assert good / len(grades) > 0.85 and 1 <= grades.count(Grade.POOR) <= 2 and grades.count(Grade.FAIR) >= 3
    warned = db.session.query(MonitoringReport).filter_by(warning=True).count()
    assert 5 <= warned <= 60
