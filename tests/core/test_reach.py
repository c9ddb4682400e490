"""Role × route × record, read from the reach table (portal/core/reach.py).

One record of each kind, built through the operations; every user of the test world (one per
role, plus an inactive user, a user with several roles and a role held outside its kind of
organisation); every GET route of the portal that takes an id (taken from app.url_map — a new
route without an entry below fails the test), every list, export and API endpoint. Where the
table gives the user's roles a scope that covers the record: 200; where it does not: 403/404.
Write pages (edit forms) are checked in the refusing direction only (who may edit also depends
on the record's state). The expert test proves the review expert reads only assigned reviews."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from portal.accounts.models import OrgKind, Role
from portal.core import clock, reach
from portal.core.permissions import can, org_subtree_ids
from portal.core.reach import READ, WRITE
from portal.core.registry import NAV
from portal.core.tokens import create_token
from tests.factories import make_evaluation, make_project, make_user

pytestmark = pytest.mark.commits  # pages that publish or search start the index's rebuild thread (its own connection)

# ---- the oracle: does a scope in words cover a record? ----------------------------------------


def covers(user, scope: str, facts: dict) -> bool:
    """`facts` describe the record: unit, agency, letter parties, reviewers, owner, account."""
    org = user.organisation_id
    if scope in (reach.ALL, reach.OWN_BUREAU):
        return True
    if scope == reach.SUBTREE:
        return facts.get("unit") in org_subtree_ids(org) if "unit" in facts else False
    if scope == reach.EVALUATED:
        return org in facts.get("evaluated_by", ())
    if scope == reach.OWN_ORG:
        return facts.get("agency") == org
    if scope == reach.ASSIGNED:
        return user.id in facts.get("reviewers", ())
    if scope == reach.SUBMITTED:
        return facts.get("submitted", False)
    if scope == reach.BUREAU_LETTERS:
        return org == facts.get("sender") or (facts.get("issued") and org == facts.get("addressee"))
    if scope in (reach.ISSUED, reach.ISSUED_AND_BUREAU):
        return bool(facts.get("issued")) or (scope == reach.ISSUED_AND_BUREAU and org == facts.get("sender"))
    if scope == reach.OWNED:
        return facts.get("owner") in org_subtree_ids(org)
    if scope == reach.SELF:
        return facts.get("account") == user.id
    if scope == reach.TEAM_MEMBER:
        return user.id in facts.get("team_members", ())
    if scope == reach.CIRCULATED:
        return bool(facts.get("circulated"))
    if scope == reach.OWN_CIRCULATED:  # a year's page: any unit; a scorecard: its organisation's
        return bool(facts.get("circulated")) and ("org" not in facts or facts["org"] in org_subtree_ids(org))
    if scope == reach.SUBMITTED_PACKAGES:
        return bool(facts.get("package_submitted"))
    raise AssertionError(f"no oracle for scope {scope!r}")


def expected_read(user, kind: str, facts: dict, only: set | None = None) -> bool:
    if user.id in facts.get("blind", ()):
        return False  # a reviewer who has not submitted yet sees no one else's work (盲评)
    found = reach.scopes(user, kind, READ)
    if only is not None:
        found &= only
    return any(covers(user, s, facts) for s in found)


# ---- the world: one record of each kind --------------------------------------------------------


class Records:
    def __init__(self, world):
        from portal.conference import operations as conf_ops
        from portal.conference.models import DocumentKind
        from portal.inquiries import operations as inq_ops
        from portal.inquiries.workdays import load_holidays
        from portal.ledger import operations as ledger_ops
        from portal.ledger.models import ProblemSource, RectificationType
        from portal.performance import operations as perf_ops
        from portal.performance.models import EvaluationMode
        from portal.reviews import operations as rev_ops
        from tests.performance.factories import make_goal

        w = self.world = world
        self.inactive = make_user(w.department, Role.UNIT_LIAISON, username="t_inactive", is_active_account=False)
        self.multi = make_user(w.audit_bureau, Role.AUDIT_LIAISON, Role.CONFERENCE_MEMBER, Role.EXPERT,
                               username="t_multi")
        self.misplaced = make_user(w.department, Role.FINANCE_OFFICER, username="t_misplaced")  # role outside home

        # performance: a project of the subunit, evaluated by the agency; a self-evaluation
        self.project = make_project(w.subunit, name="可达性测试项目")
        self.goal = make_goal(self.project)
        self.evaluation = make_evaluation(self.project, agency=w.agency_org, score="88")
        self.self_evaluation = make_evaluation(self.project, mode=EvaluationMode.SELF)
        self.attachment = perf_ops.attach_file(
            self.project, FileStorage(io.BytesIO(b"%PDF-1.4 evidence"), filename="evidence.pdf"),
            actor=w.finance, purpose="document", allowed={"pdf"})
        from portal.performance.models import Level1, Level2, LibraryIndicator, Operator
        self.library_item = LibraryIndicator(sector="教育", direction="产出", level1=list(Level1)[0],
                                             level2=list(Level2)[0], operator=list(Operator)[0], name="培训人数")
        from portal.extensions import db
        db.session.add(self.library_item)

        # a letter finance → audit, issued
        load_holidays([2025, 2026])
        inq_ops.set_issuing_code(w.finance_bureau, "临财绩函", "测试市财政局", actor=w.admin)
        self.letter = inq_ops.create_letter(inq_ops.LetterData(
            addressee_org_id=w.audit_bureau.id, title="关于提供审计报告的函", body="现商请贵局提供以下资料。",
            deadline_workdays=5, contact_person="王建华", contact_phone="0571-87000000", copies="",
            items=["审计报告"]), actor=w.finance)
        inq_ops.submit(self.letter, actor=w.finance)
        inq_ops.approve(self.letter, actor=w.finance_signer)

        # ledger: a problem of the subunit
        self.problem = ledger_ops.list_problem(
            actor=w.audit, source=ProblemSource.AUDIT, unit=w.subunit, category="资金管理",
            description="专项资金未按规定用途使用", amount="100000", rect_type=RectificationType.DEADLINE,
            deadline=clock.today() + timedelta(days=60), year=None, project=self.project)

        # co-review: the agency's report under review by finance, audit and the expert (drafts); another
        # report the expert is not assigned to
        self.report = rev_ops.commission_report(self.evaluation, actor=w.finance)
        from tests.reviews.conftest import docx_bytes
        rev_ops.store_version_bytes(self.report, "评价报告.docx", docx_bytes(), actor=w.agency)
        self.round = rev_ops.open_round(self.report, actor=w.finance, reviewer_ids=[w.finance.id, w.audit.id, w.expert.id],
                                        lead_id=w.finance.id, deadline=clock.today() + timedelta(days=7))
        self.expert_review = next(a for a in self.round.assignments if a.reviewer_id == w.expert.id)
        other_project = make_project(w.other_department, name="未分配项目")
        other_eval = make_evaluation(other_project, agency=w.other_agency_org)
        self.other_report = rev_ops.commission_report(other_eval, actor=w.finance)
        self.rubric = rev_ops.default_rubric(actor=w.finance)

        # conference: a meeting, an action owned by the subunit, a shared document, a plan item
        self.meeting = conf_ops.create_meeting(actor=w.conference, held_on=clock.today(), place="会议室",
                                               convening_org=w.finance_bureau,
                                               attendees=[w.finance, w.audit, w.conference])
        self.action = conf_ops.add_action(self.meeting, actor=w.conference, text="落实议定事项", owner_org=w.subunit,
                                          owner_user=None, due_date=None)
        self.document = conf_ops.share_document(actor=w.audit, title="审计报告", kind=DocumentKind.AUDIT_REPORT,
                                                year=2026, files=[FileStorage(io.BytesIO("正文".encode()),
                                                                              filename="报告.txt")])
        self.plan_item = conf_ops.add_plan_item(actor=w.finance, year=2026, title="重点项目评价", project=self.project)
        db.session.commit()

        # ex-ante assessment: the subunit's application, being scored by the expert
        from portal.assessments import operations as assess_ops
        from tests.assessments.conftest import application
        big = make_project(w.subunit, year=2027, budget="8000000", name="事前评估测试项目")
        self.assessment = assess_ops.apply_for(big, application(), actor=w.subunit_user)
        assess_ops.submit(self.assessment, actor=w.subunit_user)
        rnd = assess_ops.arrange(self.assessment, actor=w.finance, method="experts", assessor_ids=[w.expert.id])
        self.sheet = rnd.sheets[0]
        # joint oversight: a team on the key evaluation, the circulated 2026 assessment, a submitted package
        from portal.oversight import operations as oversight_ops
        from portal.oversight import packages as oversight_packages
        from portal.oversight.models import CongressPackage, PackageKind
        perf_ops.attach_file(self.evaluation, FileStorage(io.BytesIO(b"%PDF-1.4 paper"), filename="paper.pdf"),
                             actor=w.finance, purpose="report", allowed={"pdf"})
        self.team_members = set()
        for user, role in ((w.finance, "lead"), (w.observer, "member"), (w.audit, "member"), (w.unit, "member"),
                           (w.agency, "observer")):
            oversight_ops.add_member(self.evaluation, actor=w.finance, user_id=user.id, role=role)
            self.team_members.add(user.id)
        self.team = oversight_ops.team_of(self.evaluation)
        self.paper = self.attachment_of_evaluation = __import__(
            "portal.core.attachments", fromlist=["attachments_of"]).attachments_of(self.evaluation)[0]
        self.work_assessment = oversight_ops.compute(2026, actor=w.finance)
        for card in self.work_assessment.scorecards:
            manual = next(line for line in card.lines if not line.automatic)
            oversight_ops.score_line(card, actor=w.finance, indicator_id=manual.indicator_id,
                                     score=manual.indicator.weight)
        oversight_ops.publish(self.work_assessment, actor=w.finance)
        self.scorecard = next(c for c in self.work_assessment.scorecards if c.organisation_id == w.department.id)
        self.package = CongressPackage(year=2026, kind=PackageKind.FINAL_ACCOUNTS, version=1, built_by_id=w.finance.id)
        db.session.add(self.package)
        db.session.flush()
        oversight_packages.build(self.package, w.finance)
        oversight_packages.submit(self.package, actor=w.finance)
        db.session.commit()

        # publishing: one current snapshot of the project
        from portal.publishing import operations as pub_ops
        from portal.publishing.models import PublicationKind
        self.project.goals[0]  # noqa: B018  (loaded)
        written = pub_ops.publish(self.project.year, None, [PublicationKind.FINANCE_EVALUATION.value], actor=w.finance)
        self.snapshot = written[0]
        from portal.publishing.models import PublishedFigures
        self.figures = PublishedFigures(kind="ex_ante", year=2027, version=1, data='{"kind":"ex_ante","year":2027}')
        db.session.add(self.figures)
        db.session.commit()

    def users(self) -> dict:
        users = dict(self.world.users())
        users.update(inactive=self.inactive, multi=self.multi, misplaced=self.misplaced)
        return users


# ---- what each route reads: (kind, mode, record → facts, only-these-scopes) ---------------------

def facts_of(r: Records) -> dict:
    w = r.world
    unit = {"unit": w.subunit.id, "evaluated_by": {w.agency_org.id}}
    return {
        "project": unit,
        "evaluation": {**unit, "agency": w.agency_org.id},
        "self_evaluation": {**unit, "agency": None},
        "letter": {"sender": w.finance_bureau.id, "addressee": w.audit_bureau.id, "issued": True},
        "problem": {"unit": w.subunit.id},
        "report": {"agency": w.agency_org.id, "reviewers": {w.finance.id, w.audit.id, w.expert.id}},
        "report_internal": {},  # pages of the bureaus' side only (draws, rubrics)
        # the round's consolidation and summaries: internal readers, but not its reviewers while
        # they are still drafting
        "round_blind": {"blind": {w.finance.id, w.audit.id, w.expert.id}},
        "agency": {"agency": w.agency_org.id},
        "review": {"reviewers": {w.expert.id}, "submitted": False},  # a draft: its author's alone
        "all": {},
        "action": {"owner": w.subunit.id},
        "organisation": {"unit": w.subunit.id},
        "user": {"account": w.unit.id},
        "assessment": {"unit": w.subunit.id, "reviewers": {w.expert.id}},
        "sheet": {"reviewers": {w.expert.id}},  # a score sheet: its assessor, and who reads every assessment
        "team": {"team_members": r.team_members},
        "work_assessment": {"circulated": True},
        "scorecard": {"circulated": True, "org": w.department.id},
        "package": {"package_submitted": True},
    }


# endpoint → (kind in the reach table, read|write, facts key, only these scopes or None, url args)
def id_routes(r: Records) -> dict:
    w = r.world
    internal = {reach.ALL}
    return {
        "admin.edit_organisation": ("organisation", WRITE, "organisation", None, {"org_id": w.subunit.id}),
        "admin.edit_user": ("user", WRITE, "user", None, {"user_id": w.unit.id}),
        "security.user": ("security", READ, "all", None, {"user_id": w.unit.id}),
        "api.inquiry_detail": ("letter", READ, "letter", None, {"letter_id": r.letter.id}),
        "api.get_problem": ("problem", READ, "problem", None, {"problem_id": r.problem.id}),
        "api.get_project": ("project", READ, "project", None, {"project_id": r.project.id}),
        "api.get_goals": ("project", READ, "project", None, {"project_id": r.project.id}),
        "api.get_monitoring": ("project", READ, "project", None, {"project_id": r.project.id}),
        "api.get_review": ("report", READ, "report", None, {"report_id": r.report.id}),
        "conference.action_detail": ("action", READ, "action", None, {"action_id": r.action.id}),
        "conference.edit_action": ("action", WRITE, "action", None, {"action_id": r.action.id}),
        "conference.document_detail": ("conference", READ, "all", None, {"document_id": r.document.id}),
        "conference.edit_document": ("conference", WRITE, "all", None, {"document_id": r.document.id}),
        "conference.meeting_detail": ("conference", READ, "all", None, {"meeting_id": r.meeting.id}),
        "conference.minutes_docx": ("conference", READ, "all", None, {"meeting_id": r.meeting.id}),
        "conference.edit_meeting": ("conference", WRITE, "all", None, {"meeting_id": r.meeting.id}),
        "conference.edit_plan_item": ("conference", WRITE, "all", None, {"item_id": r.plan_item.id}),
        "core.download": ("project", READ, "project", None, {"attachment_id": r.attachment.id}),
        "performance.evaluation": ("evaluation", READ, "evaluation", None, {"evaluation_id": r.evaluation.id}),
        "performance.export_self_evaluation": ("evaluation", READ, "self_evaluation", None,
                                               {"evaluation_id": r.self_evaluation.id}),
        "performance.export_goal": ("project", READ, "project", None, {"goal_id": r.goal.id}),
        "performance.library_search": ("project", WRITE, "project", None, {"goal_id": r.goal.id}),
        "performance.edit_row": ("project", WRITE, "project", None, {"indicator_id": r.goal.indicators[0].id}),
        "performance.project": ("project", READ, "project", None, {"project_id": r.project.id}),
        "performance.goal": ("project", READ, "project", None, {"project_id": r.project.id}),
        "performance.monitoring": ("project", READ, "project", None, {"project_id": r.project.id}),
        "performance.edit_project": ("project", WRITE, "project", None, {"project_id": r.project.id}),
        "performance.edit_library_item": ("library", WRITE, "all", None, {"item_id": r.library_item.id}),
        "inquiries.detail": ("letter", READ, "letter", None, {"letter_id": r.letter.id}),
        "inquiries.docx": ("letter", READ, "letter", None, {"letter_id": r.letter.id}),
        "inquiries.print_view": ("letter", READ, "letter", None, {"letter_id": r.letter.id}),
        "inquiries.edit": ("letter", WRITE, "letter", None, {"letter_id": r.letter.id}),
        "ledger.detail": ("problem", READ, "problem", None, {"problem_id": r.problem.id}),
        "ledger.edit": ("problem", WRITE, "problem", None, {"problem_id": r.problem.id}),
        "ledger.from_evaluation": ("problem", WRITE, "all", None, {"evaluation_id": r.evaluation.id}),
        "publishing.withdraw": ("snapshot", WRITE, "all", None, {"snapshot_id": r.snapshot.id}),
        "publishing.figures_withdraw": ("snapshot", WRITE, "all", None, {"figures_id": r.figures.id}),
        "reviews.agency_profile": ("report", WRITE, "all", internal, {"org_id": w.agency_org.id}),
        "reviews.quality": ("report", READ, "agency", None, {"org_id": w.agency_org.id}),
        "reviews.review": ("review", READ, "review", None, {"assignment_id": r.expert_review.id}),
        "reviews.draw": ("report", READ, "report_internal", internal, {"evaluation_id": r.evaluation.id}),
        "reviews.report": ("report", READ, "report", None, {"report_id": r.report.id}),
        "reviews.edit_report": ("report", WRITE, "report", None, {"report_id": r.report.id}),
        "reviews.round_view": ("report", READ, "report", {reach.ALL, reach.ASSIGNED}, {"round_id": r.round.id}),
        "reviews.consolidate": ("report", READ, "round_blind", internal, {"round_id": r.round.id}),
        "reviews.summary_docx": ("report", READ, "round_blind", internal, {"round_id": r.round.id}),
        "reviews.summary_xlsx": ("report", READ, "round_blind", internal, {"round_id": r.round.id}),
        "reviews.edit_rubric": ("report", WRITE, "report_internal", internal, {"rubric_id": r.rubric.id}),
        "assessments.detail": ("assessment", READ, "assessment", None, {"assessment_id": r.assessment.id}),
        "assessments.edit": ("assessment", WRITE, "assessment", {reach.ALL, reach.SUBTREE},
                             {"assessment_id": r.assessment.id}),
        "assessments.sheet": ("assessment", READ, "sheet", {reach.ALL, reach.ASSIGNED}, {"sheet_id": r.sheet.id}),
        "api.get_assessment": ("assessment", READ, "assessment", None, {"assessment_id": r.assessment.id}),
        "api.api_team": ("team", READ, "team", None, {"team_id": r.team.id}),
        "api.api_package": ("package", READ, "package", None, {"package_id": r.package.id}),
        "oversight.team": ("team", READ, "team", None, {"evaluation_id": r.evaluation.id}),
        "oversight.working_paper": ("team", READ, "team", None, {"evaluation_id": r.evaluation.id,
                                                                 "attachment_id": r.paper.id}),
        "oversight.assessment": ("scorecard", READ, "work_assessment", None, {"year": 2026}),
        "oversight.circular": ("scorecard", READ, "work_assessment", {reach.ALL, reach.CIRCULATED}, {"year": 2026}),
        "oversight.system": ("scorecard", WRITE, "work_assessment", None, {"year": 2026}),
        "oversight.scorecard": ("scorecard", READ, "scorecard", None, {"scorecard_id": r.scorecard.id}),
        "oversight.package": ("package", READ, "package", None, {"package_id": r.package.id}),
        "oversight.package_summary": ("package", READ, "package", None, {"package_id": r.package.id}),
        "oversight.package_download": ("package", READ, "package", None, {"package_id": r.package.id}),
    }


# Routes with an id that are not a record of the reach table, and why.
NOT_RECORDS = {
    "core.set_language": "a language code, no record",
    "static": "static files",
    "jobs.show": "a background job is its starter's alone (tests/core/test_background.py)",
    "jobs.progress": "a background job is its starter's alone",
    "jobs.download": "a background job is its starter's alone",
    "reviews.draw_record": "an agency draw: the same policy as reviews.draw (internal readers)",
}

# Lists and whole-table exports: (kind, read|write, only these scopes, query string)
LIST_ROUTES = {
    "/projects": ("project", READ, None), "/projects/export": ("project", READ, None),
    "/monitoring/warnings": ("project", READ, None), "/results": ("evaluation", READ, None),
    "/results?format=xlsx": ("evaluation", READ, None),
    "/library": ("library", READ, None), "/library?format=xlsx": ("library", READ, None),
    "/ledger/": ("problem", READ, None), "/ledger/export.xlsx": ("problem", READ, None),
    "/ledger/stats": ("problem", READ, None), "/ledger/stats.xlsx": ("problem", READ, None),
    "/ledger/stats/chart.svg": ("problem", READ, None),
    "/inquiries/": ("letter", READ, None),
    "/reviews/": ("report", READ, None), "/reviews/agencies": ("report", READ, {reach.ALL}),
    "/reviews/evaluations": ("report", READ, {reach.ALL}), "/reviews/rubrics": ("report", READ, {reach.ALL}),
    "/conference/": ("conference", READ, None), "/conference/library": ("conference", READ, None),
    "/conference/plans": ("conference", READ, None), "/conference/overview": ("conference", READ, None),
    "/conference/actions": ("action", READ, None),
    "/publishing/": ("snapshot", READ, None), "/publishing/published": ("snapshot", READ, None),
    "/publishing/log": ("snapshot", READ, None),
    "/admin/users": ("user", WRITE, {reach.ALL}), "/admin/organisations": ("organisation", WRITE, {reach.ALL}),
    "/audit": ("audit_log", READ, None), "/performance/settings": ("settings", WRITE, None),
    "/security/": ("security", READ, None), "/security/login-limits": ("security", READ, None),
    "/ledger/new": ("problem", WRITE, {reach.ALL}), "/ledger/import": ("problem", WRITE, {reach.ALL}),
    "/projects/import": ("project", WRITE, None),
    "/assessments/": ("assessment", READ, None), "/assessments/figures?year=2027": ("assessment", READ, {reach.ALL}),
    "/assessments/settings": ("settings", WRITE, None),
    "/monitoring/execution-import": ("project", WRITE, {reach.ALL}),
    "/oversight/teams": ("team", READ, None), "/oversight/assessments": ("scorecard", READ, None),
    "/oversight/packages": ("package", READ, None),
    # the lists' exports of what they show (portal/core/listing.py): the list's own reach
    "/projects?export=xlsx": ("project", READ, None), "/ledger/?export=csv": ("problem", READ, None),
    "/inquiries/?export=xlsx": ("letter", READ, None), "/reviews/?export=csv": ("report", READ, None),
    "/reviews/evaluations?export=xlsx": ("report", READ, {reach.ALL}),
    "/conference/library?export=xlsx": ("conference", READ, None),
    "/conference/actions?export=csv": ("action", READ, None), "/publishing/log?export=xlsx": ("snapshot", READ, None),
}

# API lists: the record must be listed exactly when the user reads it. (path, kind, facts key, record)
def api_lists(r: Records) -> list:
    return [("/api/v1/projects", "project", "project", r.project.id),
            ("/api/v1/evaluations", "evaluation", "evaluation", r.evaluation.id),
            ("/api/v1/problems", "problem", "problem", r.problem.id),
            ("/api/v1/inquiries", "letter", "letter", r.letter.id),
            ("/api/v1/reviews", "report", "report", r.report.id),
            ("/api/v1/assessments", "assessment", "assessment", r.assessment.id),
            ("/api/v1/teams", "team", "team", r.team.id),
            ("/api/v1/packages", "package", "package", r.package.id)]


def _url(app, endpoint, args):
    with app.test_request_context():
        from flask import url_for
        return url_for(endpoint, **args)


def test_every_route_with_an_id_is_in_the_table(app, db, world):
    r = Records(world)
    routes = id_routes(r)
    with_ids = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods and rule.arguments}
    missing = with_ids - set(routes) - set(NOT_RECORDS)
    assert not missing, f"GET routes with an id missing from tests/core/test_reach.py: {sorted(missing)}"
    assert set(reach.REACH) == set(Role), "every role has a row in the reach table"
    assert set(reach.HOME) == set(Role)


def test_docs_show_the_reach_table():
    from pathlib import Path

    docs = (Path(__file__).parents[2] / "docs" / "security.md").read_text(encoding="utf-8")
    assert reach.markdown_table() in docs, "docs/security.md: paste portal.core.reach.markdown_table()"


def test_role_route_record(app, db, world, client, login):
    r = Records(world)
    facts = facts_of(r)
    routes = id_routes(r)
    wrong = []
    for name, user in r.users().items():
        if not user.is_active:
            continue  # see test_inactive_user_reaches_nothing
        db.session.commit()
        login(user)
        for endpoint, (kind, mode, key, only, args) in routes.items():
            url = _url(app, endpoint, args)
            if endpoint.startswith("api."):
                continue  # through a token below
            status = client.get(url).status_code
            reads = expected_read(user, kind, facts[key], only)
            if mode == READ:
                ok = status == 200 if reads else status in (403, 404)
            else:  # a write page: refused wherever the table gives no write reach at all
                ok = status in (403, 404) if not reach.reaches(user, kind, WRITE) else status in (200, 403, 404)
            if not ok:
                wrong.append((name, url, status, "read" if reads else "-"))
        for url, (kind, mode, only) in LIST_ROUTES.items():
            status = client.get(url).status_code
            scopes = reach.scopes(user, kind, mode) & (only or reach.scopes(user, kind, mode))
            if mode == READ:
                ok = status == 200 if scopes else status in (403, 404)
            else:
                ok = status in (403, 404) if not scopes else status in (200, 403)
            if not ok:
                wrong.append((name, url, status, sorted(scopes)))
        client.post("/logout")
    # the API, through a bearer token per user (after the pages: a token's use is noted on a
    # connection of its own)
    for name, user in r.users().items():
        if not user.is_active:
            continue
        db.session.commit()
        _token, raw = create_token(user, "reach")
        db.session.commit()
        headers = {"Authorization": f"Bearer {raw}"}
        for endpoint, (kind, _mode, key, only, args) in routes.items():
            if endpoint.startswith("api."):
                status = client.get(_url(app, endpoint, args), headers=headers).status_code
                reads = expected_read(user, kind, facts[key], only)
                if status != 200 if reads else status not in (403, 404):
                    wrong.append((name, endpoint, status, "read" if reads else "-"))
        for path, kind, key, record_id in api_lists(r):
            response = client.get(path, headers=headers)
            listed = response.status_code == 200 and any(
                item.get("id") == record_id for item in response.get_json()["items"])
            if listed is not expected_read(user, kind, facts[key]):
                wrong.append((name, path, response.status_code, "listed" if listed else "not listed"))
    assert not wrong, "\n".join(map(str, wrong))


def test_navigation_follows_the_policies(app, db, world):
    r = Records(world)
    for user in r.users().values():
        for item in NAV:
            if item.needs is None:
                continue
            model, action = item.needs
            assert item.visible_to(user) is can(user, action, model), (user.username, item.endpoint)


def test_expert_reads_only_assigned_reviews(app, db, world, client, login):
    from portal.performance.models import Evaluation, Project
    from portal.reviews.models import Report, ReviewAssignment

    r = Records(world)
    expert = world.expert
    assert reach.effective_roles(expert) == {Role.EXPERT} and expert.org_kind == OrgKind.FINANCE_BUREAU
    # the permission point
    assert can(expert, "view", r.report) and can(expert, "view", r.expert_review)
    assert can(expert, "edit", r.expert_review)
    assert not can(expert, "view", r.other_report)
    finance_review = next(a for a in r.round.assignments if a.reviewer_id == world.finance.id)
    assert not can(expert, "view", finance_review)
    for record in (r.project, r.goal, r.evaluation, r.self_evaluation, r.problem, r.letter, r.meeting, r.action,
                   r.document, r.plan_item, r.snapshot, r.library_item, r.rubric):
        assert not can(expert, "view", record), record
    for model in (Project, Evaluation):
        assert db.session.scalars(sa.select(sa.func.count()).select_from(
            __import__("portal.core.permissions", fromlist=["visible"]).visible(expert, model).subquery())).one() == 0
    from portal.core.permissions import visible
    assert set(db.session.scalars(visible(expert, Report))) == {r.report}
    assert set(db.session.scalars(visible(expert, ReviewAssignment))) == {r.expert_review}
    # through HTTP: the review and its report open, nothing else does
    login(expert)
    assert client.get(f"/reviews/assignments/{r.expert_review.id}").status_code == 200
    assert client.get(f"/reviews/reports/{r.report.id}").status_code == 200
    assert client.get(f"/reviews/reports/{r.other_report.id}").status_code in (403, 404)
    assert client.get(f"/reviews/assignments/{finance_review.id}").status_code in (403, 404)
    for url in ("/projects", "/projects/export", "/ledger/", "/ledger/export.xlsx", "/results", "/library",
                f"/files/{r.attachment.id}", "/publishing/", "/inquiries/", "/conference/"):
        assert client.get(url).status_code in (403, 404), url
    menu = client.get("/").get_data(as_text=True)
    assert "报告同审" in menu and "项目与绩效" not in menu and "信息公开" not in menu and "问题台账" not in menu


def test_inactive_user_reaches_nothing(app, db, world, client):
    r = Records(world)
    user = r.inactive
    assert reach.effective_roles(user) == set()
    for record in (r.project, r.problem, r.evaluation, r.action, r.report):
        assert not can(user, "view", record)
    response = client.post("/login", data={"username": user.username, "password": "Passw0rd-test"})
    assert response.status_code != 302 or "/login" in response.headers.get("Location", "")
    _token, raw = create_token(user, "t")
    db.session.commit()
    assert client.get("/api/v1/projects", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_publishing_operations_authorise_themselves(app, db, world):
    from portal.core.errors import NotPermitted
    from portal.publishing import operations as pub_ops
    from portal.publishing.models import PublicationKind

    r = Records(world)
    for user in (world.expert, world.audit, world.unit, world.admin):
        with pytest.raises(NotPermitted):
            pub_ops.publish(2026, None, [PublicationKind.FINANCE_EVALUATION.value], actor=user)
        with pytest.raises(NotPermitted):
            pub_ops.withdraw(r.snapshot, actor=user, note="撤回")
