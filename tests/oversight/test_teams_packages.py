"""Joint evaluation teams (roles, opinions, finalisation, who reads the working papers) and the
packages for the People's Congress (exactly the year's documents, submission, who downloads)."""
from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import load_workbook

from portal.core.errors import DomainError, NotPermitted
from portal.core.writes import commit
from portal.extensions import db
from portal.oversight import operations, packages
from portal.oversight.models import CongressPackage, PackageKind, PackageState, TeamState
from portal.performance import operations as perf_ops
from portal.performance.models import EvaluationMode
from tests.factories import make_evaluation, make_project
from tests.reviews.conftest import docx_bytes


def _team(world):
    project = make_project(world.subunit, year=2025, name="校舍维修改造项目")
    evaluation = make_evaluation(project, agency=world.agency_org, score="82")
    perf_ops.attach_file(evaluation, io_file("评价底稿.docx"), actor=world.finance, purpose="report",
                         allowed={"docx"})
    operations.add_member(evaluation, actor=world.finance, user_id=world.finance.id, role="lead")
    operations.add_member(evaluation, actor=world.finance, user_id=world.observer.id, role="member")
    operations.add_member(evaluation, actor=world.finance, user_id=world.audit.id, role="member")
    operations.add_member(evaluation, actor=world.finance, user_id=world.unit.id, role="member")
    operations.add_member(evaluation, actor=world.finance, user_id=world.agency.id, role="observer")
    db.session.commit()
    return evaluation, operations.team_of(evaluation)


def io_file(name):
    from werkzeug.datastructures import FileStorage
    return FileStorage(io.BytesIO(docx_bytes()), filename=name)


def test_four_organisations_opinions_and_the_lead_finalises(app, db, world):
    evaluation, team = _team(world)
    assert {m.side.value for m in team.members} == {"finance", "congress", "audit", "department", "agency"}
    operations.add_opinion(team, actor=world.observer, text="建议补充资金使用效益的量化分析。")
    operations.add_opinion(team, actor=world.unit, text="项目延期原因已说明。")
    with pytest.raises(NotPermitted):  # an observer reads only
        operations.add_opinion(team, actor=world.agency, text="意见")
    with pytest.raises(NotPermitted):  # not on the team
        operations.add_opinion(team, actor=world.other_unit, text="意见")
    with pytest.raises(DomainError):
        operations.add_opinion(team, actor=world.audit, text="   ")
    with pytest.raises(NotPermitted):  # only the lead finalises
        operations.finalise(team, actor=world.audit, conclusion="同意")
    operations.finalise(team, actor=world.finance, conclusion="评价结论客观，同意报告的问题和建议。")
    db.session.commit()
    assert team.state == TeamState.FINALISED and len(team.opinions) == 2
    with pytest.raises(NotPermitted):  # nothing after finalisation
        operations.add_opinion(team, actor=world.observer, text="补充意见")
    with pytest.raises(DomainError):
        operations.add_member(evaluation, actor=world.finance, user_id=world.audit_signer.id, role="member")
    from portal.core.audit import history
    actions = [e.action for e in history(team)]
    assert actions.count("team.opinion") == 2 and "team.finalise" in actions


def test_team_rules_refuse_bad_members(app, db, world):
    evaluation, team = _team(world)
    with pytest.raises(DomainError):  # one lead
        operations.add_member(evaluation, actor=world.finance, user_id=world.audit_signer.id, role="lead")
    with pytest.raises(DomainError):  # the department member comes from the project's department
        operations.add_member(evaluation, actor=world.finance, user_id=world.other_unit.id, role="member")
    with pytest.raises(DomainError):  # the agency member from the evaluation's agency
        operations.add_member(evaluation, actor=world.finance, user_id=world.other_agency.id, role="member")
    with pytest.raises(DomainError):
        operations.add_member(evaluation, actor=world.finance, user_id=world.observer.id, role="member")
    with pytest.raises(DomainError):
        operations.add_member(evaluation, actor=world.finance, user_id=world.audit_signer.id, role="chief")
    for user in (world.audit, world.observer, world.unit, world.conference):
        with pytest.raises(NotPermitted):
            operations.add_member(evaluation, actor=user, user_id=world.audit_signer.id, role="member")
    self_eval = make_evaluation(evaluation.project, mode=EvaluationMode.SELF)
    with pytest.raises(NotPermitted):  # only key evaluations get a team
        operations.add_member(self_eval, actor=world.finance, user_id=world.audit.id, role="member")
    operations.add_opinion(team, actor=world.audit, text="意见")
    audit_member = team.member_of(world.audit)
    with pytest.raises(DomainError):  # the opinion stays with its author
        operations.remove_member(team, audit_member.id, actor=world.finance)


def test_who_reads_the_team_and_its_working_papers(app, db, world, client, login):
    evaluation, team = _team(world)
    paper = team.evaluation and __import__("portal.core.attachments", fromlist=["x"]).attachments_of(evaluation)[0]
    url = f"/oversight/evaluations/{evaluation.id}/team"
    expected = {world.finance: 200, world.observer: 200, world.audit: 200, world.conference: 200, world.admin: 200,
                world.unit: 200, world.agency: 200, world.subunit_user: 403, world.other_unit: 403,
                world.other_agency: 403, world.expert: 403}
    for user, status in expected.items():
        login(user)
        assert client.get(url).status_code == status, user.username
        assert client.get(f"{url}/files/{paper.id}").status_code == status, user.username
        listed = client.get("/oversight/teams").get_data(as_text=True)
        assert ("校舍维修改造项目" in listed) is (status == 200), user.username
        client.post("/logout")
    login(world.observer)  # the congress member adds an opinion through the page
    response = client.post(f"{url}/opinions", data={"text": "请补充满意度调查样本说明。", "form_key": "k1"})
    assert response.status_code == 302
    assert "请补充满意度调查样本说明。" in client.get(url).get_data(as_text=True)
    client.post("/logout")
    login(world.agency)  # an observer's post is refused
    assert client.post(f"{url}/opinions", data={"text": "意见"}).status_code == 403


def _reports(world, year):
    """A self-evaluation report and a key evaluation report of `year`."""
    project = make_project(world.subunit, year=year, name=f"{year}年项目")
    self_eval = make_evaluation(project, mode=EvaluationMode.SELF, score="88")
    key = make_evaluation(project, agency=world.agency_org, score="76")
    perf_ops.attach_file(self_eval, io_file(f"{year}自评报告.docx"), actor=world.finance, purpose="report",
                         allowed={"docx"})
    perf_ops.attach_file(key, io_file(f"{year}重点评价报告.docx"), actor=world.finance, purpose="report",
                         allowed={"docx"})
    perf_ops.attach_file(project, io_file(f"{year}项目资料.docx"), actor=world.finance, purpose="document",
                         allowed={"docx"})
    return project


def test_the_package_contains_exactly_the_years_documents(app, db, world, client, login):
    _reports(world, 2025)
    _reports(world, 2024)
    db.session.commit()
    login(world.finance)
    response = client.post("/oversight/packages", data={"year": "2025", "kind": "final_accounts", "form_key": "b1"})
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    package = db.session.query(CongressPackage).one()
    assert package.state == PackageState.READY and package.version == 1
    data = client.get(f"/oversight/packages/{package.id}/download").data
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    reports = sorted(n for n in names if n.startswith(("01_", "02_")))
    assert [n.rsplit("_", 1)[-1] for n in reports] == ["2025自评报告.docx", "2025重点评价报告.docx"]
    assert {"索引.xlsx", "汇总说明.html", "03_汇总表/项目评价与结果应用汇总表.xlsx", "03_汇总表/问题整改汇总表.xlsx"} <= set(names)
    assert len(names) == 6
    index = load_workbook(io.BytesIO(zipfile.ZipFile(io.BytesIO(data)).read("索引.xlsx"))).active
    paths = [row[6] for row in index.iter_rows(min_row=2, values_only=True)]
    assert sorted(paths) == sorted(n for n in names if n not in ("索引.xlsx", "汇总说明.html"))
    summary = load_workbook(io.BytesIO(zipfile.ZipFile(io.BytesIO(data)).read(
        "03_汇总表/项目评价与结果应用汇总表.xlsx"))).active
    assert [r[0] for r in summary.iter_rows(min_row=2, values_only=True)] == [r.code for r in db.session.query(
        __import__("portal.performance.models", fromlist=["Project"]).Project).filter_by(year=2025)]
    # the goals package for the budget draft
    client.post("/oversight/packages", data={"year": "2025", "kind": "budget_draft", "form_key": "b2"})
    goals = db.session.query(CongressPackage).filter_by(kind=PackageKind.BUDGET_DRAFT).one()
    assert goals.state == PackageState.READY


def test_submission_is_recorded_and_the_congress_reads_only_submitted(app, db, world, client, login):
    _reports(world, 2025)
    package = packages.start(2025, "final_accounts", actor=world.finance)
    commit()  # the one commit starts the job (run at once in tests)
    db.session.expire_all()
    package = db.session.get(CongressPackage, package.id)
    assert package.state == PackageState.READY
    for user in (world.observer, world.audit, world.unit):
        with pytest.raises(NotPermitted):
            packages.submit(package, actor=user)
        with pytest.raises(NotPermitted):
            packages.start(2025, "final_accounts", actor=user)
    login(world.observer)
    assert client.get(f"/oversight/packages/{package.id}").status_code == 403
    assert client.get(f"/oversight/packages/{package.id}/download").status_code == 403
    client.post("/logout")
    packages.submit(package, actor=world.finance, note="随决算报送")
    db.session.commit()
    assert package.submitted_by_id == world.finance.id and package.submitted_at is not None
    with pytest.raises(DomainError):  # submitted once
        packages.submit(package, actor=world.finance)
    expected = {world.observer: 200, world.conference: 200, world.audit: 200, world.finance: 200,
                world.unit: 403, world.agency: 403, world.expert: 403}
    for user, status in expected.items():
        login(user)
        assert client.get(f"/oversight/packages/{package.id}/download").status_code == status, user.username
        client.post("/logout")
    login(world.observer)
    page = client.get(f"/oversight/packages/{package.id}").get_data(as_text=True)
    assert world.finance.display_name in page and "第1版" in page
