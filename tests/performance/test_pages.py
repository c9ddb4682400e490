"""Project documents, department evaluations, the dashboard panel and the overview section."""
import io

from portal.core.registry import OVERVIEW_SECTIONS
from portal.performance.models import EvaluationMode, GoalState
from portal.performance.panels import grade_mix_section
from tests.factories import PDF, make_evaluation, make_project
from tests.performance.factories import make_goal


def test_documents_follow_project_visibility(client, db, world, login):
    project = make_project(world.subunit)
    db.session.commit()
    login(world.subunit_user)
    client.post(f"/projects/{project.id}/files", data={"file": (io.BytesIO(PDF), "实施方案.pdf")},
                content_type="multipart/form-data")
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "实施方案.pdf" in page
    link = page.split('href="/files/')[1].split('"')[0]
    assert client.get(f"/files/{link}").status_code == 200
    client.post("/logout")
    login(world.other_unit)
    assert client.get(f"/files/{link}").status_code == 403
    assert client.post(f"/projects/{project.id}/files", data={"file": (io.BytesIO(PDF), "x.pdf")},
                       content_type="multipart/form-data").status_code == 403


def test_department_evaluation_by_the_supervising_department_only(client, db, world, login):
    project = make_project(world.subunit)
    db.session.commit()
    login(world.subunit_user)
    client.post(f"/projects/{project.id}/evaluations", data={"mode": "department"})
    db.session.refresh(project)
    assert project.evaluations == []
    client.post("/logout")
    login(world.unit)
    response = client.post(f"/projects/{project.id}/evaluations", data={"mode": "department"})
    assert response.status_code == 302
    db.session.refresh(project)
    assert [e.mode for e in project.evaluations] == [EvaluationMode.DEPARTMENT]


def test_dashboard_panel_and_overview(client, db, world, login, app):
    returned = make_project(world.department, name="退回的项目")
    make_goal(returned, state=GoalState.RETURNED)
    submitted = make_project(world.other_department, name="待审的项目")
    make_goal(submitted, state=GoalState.SUBMITTED)
    make_evaluation(returned, mode=EvaluationMode.SELF, score="91")
    db.session.commit()
    login(world.unit)
    page = client.get("/").get_data(as_text=True)
    assert "退回的项目" in page and "待审的项目" not in page
    client.post("/logout")
    login(world.finance)
    page = client.get("/").get_data(as_text=True)
    assert "待审的项目" in page and "待审核的绩效目标（1）" in page
    assert grade_mix_section in [s.render for s in OVERVIEW_SECTIONS]
    with app.test_request_context():
        html = grade_mix_section(world.observer, 2026)
    assert "优" in html and "2026" in html


def test_goals_submitted_in_the_same_second_are_listed_in_the_order_they_came(db, world):
    """The dashboard lists the goals awaiting review oldest first, a few at a time: goals
    submitted in the same second come in the order of their ids, whatever order the database
    keeps their rows in (here the reverse: on PostgreSQL an updated row moves to the end of the
    table), so the list is the same on every reload and none drops out of it at random."""
    import sqlalchemy as sa

    from portal.core import clock
    from portal.performance.models import PerformanceGoal
    from portal.performance.queries import goals_to_review

    moment = clock.now().replace(microsecond=0)
    goals = [make_goal(make_project(world.department, name=f"同秒提交{n}"), state=GoalState.SUBMITTED, rows=[])
             for n in range(3)]
    for goal, new_id in zip(goals, (9003, 9002, 9001), strict=True):  # rows stored in descending id order
        db.session.execute(sa.update(PerformanceGoal).where(PerformanceGoal.id == goal.id)
                           .values(id=new_id, submitted_at=moment))
    for goal in goals:  # their old ids are gone
        db.session.expunge(goal)
    assert [g.id for g in goals_to_review(world.finance, limit=2)] == [9001, 9002]
