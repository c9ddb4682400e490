"""Factories: small functions that build valid records with sensible defaults, in one place for
every module (the module conftests re-export theirs). Callers pass only what their test is about.
Workflow records (problems, meetings, letters, reports) are built through the operations, so
their history, numbers and audit entries are real; organisations, users, projects and goals are
built as stored (the rules about them are tested through their own operations)."""
from __future__ import annotations

import functools
import io
import itertools
from datetime import date, timedelta
from decimal import Decimal

from werkzeug.security import generate_password_hash

from portal.accounts.models import Organisation, OrgKind, Role, User
from portal.extensions import db

PASSWORD = "Passw0rd-test"
# The smallest file that passes as a PDF (the upload check sniffs its first bytes).
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
# One cheap hash shared by every test user (scrypt per user would slow the suite down).
_FAST_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1")
_seq = itertools.count(1)
# Users whose role requires two-factor sign-in (the three administrators, signer) are enrolled with this secret;
# `sign_in` completes the second step with it.
TOTP_SECRET = "TESTTOTPSECRETABCDEFGHIJ"


def make_org(kind: OrgKind = OrgKind.BUDGET_UNIT, name: str | None = None, parent=None, *, flush: bool = True,
             **fields) -> Organisation:
    """An organisation, flushed (it has its id) unless `flush` is off (the caller flushes many at once)."""
    n = next(_seq)
    org = Organisation(name=name or f"测试机构{n}", short_name=fields.pop("short_name", f"机构{n}"), kind=kind,
                       parent=parent, code=fields.pop("code", f"T{n:05d}"), **fields)
    db.session.add(org)
    if flush:
        db.session.flush()
    return org


def make_user(org: Organisation, *roles: Role, username: str | None = None, flush: bool = True, **fields) -> User:
    n = next(_seq)
    user = User(username=username or f"user{n}", display_name=fields.pop("display_name", f"用户{n}"),
                organisation=org, password_hash=_FAST_HASH, **fields)
    user.set_roles(roles or [Role.FINANCE_OFFICER])
    if "totp_secret" not in fields and user.has_role(Role.ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN, Role.SIGNER):
        from portal.core import clock

        user.totp_secret, user.totp_enabled_at = TOTP_SECRET, clock.now()
    db.session.add(user)
    if flush:
        db.session.flush()
    return user


def sign_in(client, username: str, password: str = PASSWORD, secret: str | None = None, **data):
    """Post the login form; when the account asks for its second factor, give the current TOTP
    code of `secret` (default TOTP_SECRET). Returns the last response (302 when signed in)."""
    response = client.post("/login", data={"username": username, "password": password, **data})
    location = response.headers.get("Location", "")
    if response.status_code != 302 or not location.split("?")[0].endswith("/login"):
        return response  # signed in (or refused): no second step
    return client.post(location, data={"code": second_factor_code(username, secret)})


def sign_in_directly(client, user: User) -> None:
    """Sign `user` in on a Flask test client as a completed sign-in leaves it: a session row
    (`sessions.start`, committed) whose token the cookie session carries, with Flask-Login's
    fields and the time of the last request, so every later request goes through the real
    session check (token, idle and lifetime limits, active user, session protection). The
    password and second-factor steps are skipped: the login form is walked by `sign_in`, in
    tests/accounts and in the browser tests; a test that is about signing in uses that."""
    from flask_login.utils import _create_identifier  # session protection's fingerprint of the client

    from portal.accounts import sessions
    from portal.core import clock

    started = sessions.start(user)
    db.session.commit()
    with client.session_transaction(environ_base=client.environ_base) as cookie_session:
        cookie_session.clear()
        with client.application.test_request_context(environ_base=client.environ_base):
            cookie_session["_id"] = _create_identifier()
        cookie_session.update({"_user_id": started.token, "_fresh": True,
                               sessions.SEEN_KEY: int(clock.now().timestamp())})


def second_factor_code(username: str, secret: str | None = None) -> str:
    """The current TOTP code of `secret` (default: the account's, else TOTP_SECRET). A code is
    accepted once per 30-second step: the account's last step is forgotten (and committed) so
    tests may sign in often."""
    import sqlalchemy as sa

    from portal.accounts import twofactor

    account = db.session.execute(sa.select(User).where(User.username == username)).scalar_one()
    secret = secret or account.totp_secret or TOTP_SECRET  # read before the commit: after it, a read would reopen
    db.session.execute(sa.update(User).where(User.id == account.id).values(totp_last_step=None))
    db.session.commit()
    return twofactor.current_code(secret)


def browser_sign_in(page, user, password: str = PASSWORD, then: str | None = None) -> None:
    """Sign `user` (a User or a username) in, in a Playwright page's browser: the login form
    posted from the page's own context (its cookie jar: the session cookie lands in the browser),
    with the second step for accounts enrolled in two-factor sign-in, then open `then` when given.
    The login page itself is walked in tests/browser/test_login_browser.py and the two-factor one
    in tests/accounts/test_two_factor.py; journeys switch users often, and a rendered login page
    each time cost half a second. Leaves about:blank first, so no answer of the last page (each
    renews the session cookie) signs the last user in again."""
    username = getattr(user, "username", user)
    page.goto("about:blank")
    page.context.clear_cookies()
    answer = page.request.post("/portal/login", form={"username": username, "password": password}, max_redirects=0)
    location = answer.headers.get("location", "")
    assert answer.status == 302, f"{username} was not signed in: {answer.status} {answer.text()[:300]}"
    if location.split("?")[0].endswith("/login"):  # the second step
        answer = page.request.post(location, form={"code": second_factor_code(username)}, max_redirects=0)
        assert answer.status == 302, f"{username}'s second step failed: {answer.status} {answer.text()[:300]}"
    else:
        db.session.commit()  # end the test's transaction: on SQLite it would hold the write lock the server needs
    if then is not None:
        page.goto(then)


class World:
    """Two bureaus, a department with a subordinate unit, another department, an agency, the
    congress, and one user per role. Attribute names say who is who."""

    def __init__(self):
        # built in one flush (the commit's): a few multi-row INSERTs instead of one round trip per record
        org, user = functools.partial(make_org, flush=False), functools.partial(make_user, flush=False)
        self.finance_bureau = org(OrgKind.FINANCE_BUREAU, "测试市财政局", code="CZ")
        self.audit_bureau = org(OrgKind.AUDIT_BUREAU, "测试市审计局", code="SJ")
        self.congress_org = org(OrgKind.CONGRESS, "测试市人大预工委", code="RD")
        self.department = org(OrgKind.BUDGET_UNIT, "测试市教育局", code="D1")
        self.subunit = org(OrgKind.BUDGET_UNIT, "测试市第一中学", parent=self.department, code="D101")
        self.other_department = org(OrgKind.BUDGET_UNIT, "测试市卫生健康委员会", code="D2")
        self.agency_org = org(OrgKind.AGENCY, "测试评估咨询公司", code="A1")
        self.other_agency_org = org(OrgKind.AGENCY, "另一评估咨询公司", code="A2")

        self.admin = user(self.finance_bureau, Role.ADMIN, username="t_admin")
        self.finance = user(self.finance_bureau, Role.FINANCE_OFFICER, username="t_finance")
        self.finance_signer = user(self.finance_bureau, Role.SIGNER, Role.FINANCE_OFFICER, username="t_fsigner")
        self.audit = user(self.audit_bureau, Role.AUDIT_LIAISON, username="t_audit")
        self.audit_signer = user(self.audit_bureau, Role.SIGNER, Role.AUDIT_LIAISON, username="t_asigner")
        self.conference = user(self.audit_bureau, Role.CONFERENCE_MEMBER, username="t_conf")
        self.unit = user(self.department, Role.UNIT_LIAISON, username="t_unit")
        self.subunit_user = user(self.subunit, Role.UNIT_LIAISON, username="t_subunit")
        self.other_unit = user(self.other_department, Role.UNIT_LIAISON, username="t_other_unit")
        self.agency = user(self.agency_org, Role.AGENCY_STAFF, username="t_agency")
        self.other_agency = user(self.other_agency_org, Role.AGENCY_STAFF, username="t_other_agency")
        self.expert = user(self.finance_bureau, Role.EXPERT, username="t_expert")
        self.observer = user(self.congress_org, Role.OBSERVER, username="t_observer")
        db.session.commit()

    def users(self) -> dict[str, User]:
        return {k: v for k, v in vars(self).items() if isinstance(v, User)}


def make_world() -> World:
    return World()


def make_project(unit: Organisation, *, year: int = 2026, name: str | None = None, budget="1000000.00", **fields):
    from portal.performance.models import BudgetType, Project, ProjectKind

    n = next(_seq)
    project = Project(code=fields.pop("code", f"P{year}{n:05d}"), name=name or f"测试项目{n}", year=year,
                      kind=fields.pop("kind", ProjectKind.PROJECT),
                      budget_type=fields.pop("budget_type", BudgetType.GENERAL), unit=unit,
                      department=unit.department, initial_budget=Decimal(budget), annual_budget=Decimal(budget),
                      executed=fields.pop("executed", Decimal(budget) * Decimal("0.8")), **fields)
    db.session.add(project)
    db.session.flush()
    return project


def make_evaluation(project, *, mode=None, agency=None, score=None, **fields):
    from portal.performance.models import Evaluation, EvaluationMode, EvaluationState, Grade

    evaluation = Evaluation(project=project, mode=mode or EvaluationMode.FINANCE, year=project.year,
                            agency=agency, **fields)
    if score is not None:
        evaluation.score = Decimal(str(score))
        evaluation.grade = Grade.for_score(score)
        evaluation.state = EvaluationState.COMPLETED
    db.session.add(evaluation)
    db.session.flush()
    return evaluation


# ---- performance goals -----------------------------------------------------------------------

# A valid indicator table: weights total 90 (产出 50, 效益 30, 满意度 10).
GOAL_ROWS = [
    dict(level1="output", level2="quantity", name="培训人次", operator="ge", target_value="1200", unit="人次", weight="30"),
    dict(level1="output", level2="quality", name="培训合格率", operator="ge", target_value="95", unit="%", weight="10"),
    dict(level1="output", level2="output_cost", name="人均培训成本", operator="le", target_value="500", unit="元",
         weight="10"),
    dict(level1="benefit", level2="social", name="培训后就业率", operator="ge", target_value="80", unit="%", weight="20"),
    dict(level1="benefit", level2="sustainable", name="长效机制", operator="qualitative", target_text="逐步健全",
         weight="10"),
    dict(level1="satisfaction", level2="service_satisfaction", name="学员满意度", operator="ge", target_value="90",
         unit="%", weight="10"),
]


def make_goal(project, *, state=None, rows=GOAL_ROWS, overall="完成培训任务，促进就业。", version=1):
    """A goal with its indicator table in `state` (default draft), built as stored."""
    from portal.performance.models import (
        GoalState,
        Grade,
        Indicator,
        Level1,
        Level2,
        Operator,
        PerformanceGoal,
    )

    state = state or GoalState.DRAFT
    goal = PerformanceGoal(project=project, version=version, state=state, overall_goal=overall)
    if state == GoalState.APPROVED:
        goal.review_grade = Grade.EXCELLENT
    for pos, row in enumerate(rows):
        goal.indicators.append(Indicator(
            position=pos, level1=Level1(row["level1"]), level2=Level2(row["level2"]), name=row["name"],
            operator=Operator(row["operator"]),
            target_value=Decimal(row["target_value"]) if row.get("target_value") else None,
            target_text=row.get("target_text", ""), unit=row.get("unit", ""), weight=Decimal(row["weight"])))
    db.session.add(goal)
    db.session.flush()
    return goal


# ---- ledger problems (through the operations, in any state) --------------------------------------

def pdf_file(name="整改佐证.pdf", data=PDF):
    from werkzeug.datastructures import FileStorage

    return FileStorage(stream=io.BytesIO(data), filename=name, content_type="application/pdf")


def make_problem(world, *, unit=None, state=None, amount="100000", deadline=None, year=None,
                 category="资金管理", description="专项资金未按规定用途使用", source=None,
                 rectified=None, listed_on=None, project=None, rect_type=None):
    """A problem moved to `state` (default listed) through the operations, as the people
    involved would."""
    from portal.core import clock
    from portal.ledger import operations
    from portal.ledger.models import ProblemSource, ProblemState, RectificationType

    state, source = state or ProblemState.LISTED, source or ProblemSource.AUDIT
    unit = unit or world.department
    listed_on = listed_on or clock.today()
    deadline = deadline or listed_on + timedelta(days=60)
    with clock.frozen(listed_on):
        problem = operations.list_problem(
            actor=world.audit, source=source, unit=unit, category=category, description=description, amount=amount,
            rect_type=rect_type or RectificationType.DEADLINE, deadline=deadline, year=year, project=project)
        liaison = world.unit if unit in (world.department, world.subunit) else world.other_unit
        money = {"rect_recovered": rectified} if rectified is not None else None
        if state in (ProblemState.IN_PROGRESS, ProblemState.LONG_TERM):
            operations.record_progress(problem, actor=liaison, text="已制定整改方案", money=money)
        if state == ProblemState.LONG_TERM:
            operations.mark_long_term(problem, actor=world.finance, reason="涉及体制机制，需长期整改",
                                      milestones=[("制定方案", listed_on + timedelta(days=30))])
        if state in (ProblemState.SUBMITTED, ProblemState.CLOSED):
            operations.submit(problem, actor=liaison, text="已完成整改", money=money, files=[pdf_file()],
                              evidence_date=listed_on)
        if state == ProblemState.CLOSED:
            operations.sign_off(problem, actor=world.audit)
            operations.sign_off(problem, actor=world.finance)
    db.session.commit()
    return problem


# ---- joint conference ------------------------------------------------------------------------------

def make_meeting(world, held_on: date = date(2026, 3, 10), actor=None, **fields):
    from portal.conference import operations

    meeting = operations.create_meeting(
        actor=actor or world.conference, held_on=held_on, place=fields.pop("place", "财政局三楼会议室"),
        convening_org=fields.pop("convening_org", world.finance_bureau),
        attendees=fields.pop("attendees", [world.finance, world.audit, world.conference]), **fields)
    db.session.flush()
    return meeting


def make_action(world, meeting=None, *, due_date=None, owner_org=None, owner_user=None, text="落实议定事项"):
    """An action; one due before today is agreed on its due date (a due date in the past is refused)."""
    import contextlib

    from portal.conference import operations
    from portal.core import clock

    meeting = meeting or make_meeting(world)
    when = clock.frozen(due_date) if due_date is not None and due_date < clock.today() else contextlib.nullcontext()
    with when:
        return operations.add_action(meeting, actor=world.conference, text=text,
                                     owner_org=owner_org or world.finance_bureau, owner_user=owner_user,
                                     due_date=due_date)


def text_file(name: str, text: str):
    from werkzeug.datastructures import FileStorage

    return FileStorage(io.BytesIO(text.encode()), filename=name)


def make_document(world, *, actor=None, title="审计报告", text="正文", kind=None, year=2026):
    from portal.conference import operations
    from portal.conference.models import DocumentKind

    return operations.share_document(actor=actor or world.audit, title=title, kind=kind or DocumentKind.AUDIT_REPORT,
                                     year=year, files=[text_file("报告.txt", text)])


# ---- letter inquiries (through the operations, in any state) --------------------------------------

LETTER_SENT_ON = date(2026, 9, 28)  # a Monday before the National Day break
LETTER_STATES = ("draft", "pending_signoff", "sent", "acknowledged", "answered", "closed", "withdrawn")


def setup_letter_codes(world) -> None:
    from portal.inquiries import operations

    operations.set_issuing_code(world.finance_bureau, "临财绩函", "测试市财政局", actor=world.admin)
    operations.set_issuing_code(world.audit_bureau, "临审函", "测试市审计局", actor=world.admin)


def letter_data(world, *, addressee=None, items=("审计报告", "审计决定书"), **fields):
    from portal.inquiries import operations

    values = dict(addressee_org_id=(addressee or world.audit_bureau).id,
                  title="关于提供2025年度20个重点评价项目审计报告及审计决定书的函",
                  body="为做好预算项目财政评价工作，现商请贵局提供以下资料。", deadline_workdays=5,
                  contact_person="王建华", contact_phone="0571-87000000", copies="市人大常委会预算工作委员会",
                  items=list(items))
    values.update(fields)
    return operations.LetterData(**values)


def make_letter(world, state: str = "draft", *, reverse: bool = False, on: date = LETTER_SENT_ON, **fields):
    """A letter from finance to audit (or audit to finance with reverse=True) in `state`."""
    from portal.core import clock
    from portal.inquiries import operations

    drafter, signer, liaison, reply_signer = (
        (world.audit, world.audit_signer, world.finance, world.finance_signer) if reverse
        else (world.finance, world.finance_signer, world.audit, world.audit_signer))
    addressee = world.finance_bureau if reverse else world.audit_bureau
    with clock.frozen(on):
        letter = operations.create_letter(letter_data(world, addressee=addressee, **fields), actor=drafter)
        if state != "draft":
            operations.submit(letter, actor=drafter)
        if state not in ("draft", "pending_signoff"):
            operations.approve(letter, actor=signer)
        if state == "withdrawn":
            operations.withdraw(letter, "内容调整", actor=signer)
        if state in ("acknowledged", "answered", "closed"):
            operations.acknowledge(letter, actor=liaison)
        if state in ("answered", "closed"):
            part = operations.reply(letter, {i.id: ("provided", "") for i in letter.items}, actor=liaison, and_submit=True)
            operations.approve_reply(part, actor=reply_signer)
        if state == "closed":
            operations.close(letter, actor=drafter)
    db.session.commit()
    return letter


# ---- co-review of evaluation reports --------------------------------------------------------------

def docx_bytes(text: str = "评价报告正文。本报告依据绩效评价管理办法编制。") -> bytes:
    import docx

    document = docx.Document()
    for para in text.split("\n"):
        document.add_paragraph(para)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def full_scores(review_round, fraction=0.8, justification="理由充分"):
    return {c.id: (str(round(c.weight * fraction, 2)), justification) for c in review_round.rubric.criteria}


class ReviewSetup:
    """A finance evaluation of the world's department, its report by world.agency_org; each step
    through the review operations."""

    def __init__(self, world, *, agency=None):
        from portal.reviews import operations

        self.world = world
        self.project = make_project(world.department, year=2026, name="校园安全设施提升改造项目")
        self.evaluation = make_evaluation(self.project, agency=agency or world.agency_org)
        self.report = operations.commission_report(self.evaluation, actor=world.finance)
        db.session.flush()

    def upload(self, user=None, data=None, name="评价报告.docx"):
        from portal.reviews import operations

        return operations.store_version_bytes(self.report, name, data or docx_bytes(),
                                              actor=user or self.world.agency)

    def open_round(self, reviewers=None, lead=None, deadline=None):
        from portal.core import clock
        from portal.reviews import operations

        w = self.world
        return operations.open_round(self.report, actor=w.finance,
                                     reviewer_ids=[u.id for u in (reviewers or [w.finance, w.audit])],
                                     lead_id=(lead or w.finance).id,
                                     deadline=deadline or clock.today() + timedelta(days=7))

    def review_all(self, review_round, fraction=0.8):
        from portal.reviews import operations

        for a in review_round.assignments:
            if a.state.value == "conflicted":
                continue
            operations.declare(a, actor=a.reviewer, conflict=None)
            operations.save_review(a, version=a.lock_version, actor=a.reviewer,
                                   scores=full_scores(review_round, fraction), submit=True)

    def decide(self, review_round, decision, opinion="## 存在问题\n\n1. 抽样方法未说明。\n2. 数据不一致。"):
        from portal.reviews import operations

        operations.propose(review_round, actor=review_round.lead, opinion=opinion, decision=decision)
        operations.endorse(review_round, actor=self.world.finance_signer)
        operations.endorse(review_round, actor=self.world.audit)
