"""Factories: small functions that build valid records with sensible defaults.
Callers pass only what their test is about."""
from __future__ import annotations

import itertools
from decimal import Decimal

from werkzeug.security import generate_password_hash

from portal.accounts.models import Organisation, OrgKind, Role, User
from portal.extensions import db

PASSWORD = "Passw0rd-test"
# One cheap hash shared by every test user (scrypt per user would slow the suite down).
_FAST_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1")
_seq = itertools.count(1)


def make_org(kind: OrgKind = OrgKind.BUDGET_UNIT, name: str | None = None, parent=None, **fields) -> Organisation:
    n = next(_seq)
    org = Organisation(name=name or f"测试机构{n}", short_name=fields.pop("short_name", f"机构{n}"), kind=kind,
                       parent=parent, code=fields.pop("code", f"T{n:05d}"), **fields)
    db.session.add(org)
    db.session.flush()
    return org


def make_user(org: Organisation, *roles: Role, username: str | None = None, **fields) -> User:
    n = next(_seq)
    user = User(username=username or f"user{n}", display_name=fields.pop("display_name", f"用户{n}"),
                organisation=org, password_hash=_FAST_HASH, **fields)
    user.set_roles(roles or [Role.FINANCE_OFFICER])
    db.session.add(user)
    db.session.flush()
    return user


class World:
    """Two bureaus, a department with a subordinate unit, another department, an agency, the
    congress, and one user per role. Attribute names say who is who."""

    def __init__(self):
        self.finance_bureau = make_org(OrgKind.FINANCE_BUREAU, "测试市财政局", code="CZ")
        self.audit_bureau = make_org(OrgKind.AUDIT_BUREAU, "测试市审计局", code="SJ")
        self.congress_org = make_org(OrgKind.CONGRESS, "测试市人大预工委", code="RD")
        self.department = make_org(OrgKind.BUDGET_UNIT, "测试市教育局", code="D1")
        self.subunit = make_org(OrgKind.BUDGET_UNIT, "测试市第一中学", parent=self.department, code="D101")
        self.other_department = make_org(OrgKind.BUDGET_UNIT, "测试市卫生健康委员会", code="D2")
        self.agency_org = make_org(OrgKind.AGENCY, "测试评估咨询公司", code="A1")
        self.other_agency_org = make_org(OrgKind.AGENCY, "另一评估咨询公司", code="A2")

        self.admin = make_user(self.finance_bureau, Role.ADMIN, username="t_admin")
        self.finance = make_user(self.finance_bureau, Role.FINANCE_OFFICER, username="t_finance")
        self.finance_signer = make_user(self.finance_bureau, Role.SIGNER, Role.FINANCE_OFFICER, username="t_fsigner")
        self.audit = make_user(self.audit_bureau, Role.AUDIT_LIAISON, username="t_audit")
        self.audit_signer = make_user(self.audit_bureau, Role.SIGNER, Role.AUDIT_LIAISON, username="t_asigner")
        self.conference = make_user(self.audit_bureau, Role.CONFERENCE_MEMBER, username="t_conf")
        self.unit = make_user(self.department, Role.UNIT_LIAISON, username="t_unit")
        self.subunit_user = make_user(self.subunit, Role.UNIT_LIAISON, username="t_subunit")
        self.other_unit = make_user(self.other_department, Role.UNIT_LIAISON, username="t_other_unit")
        self.agency = make_user(self.agency_org, Role.AGENCY_STAFF, username="t_agency")
        self.other_agency = make_user(self.other_agency_org, Role.AGENCY_STAFF, username="t_other_agency")
        self.expert = make_user(self.finance_bureau, Role.EXPERT, username="t_expert")
        self.observer = make_user(self.congress_org, Role.OBSERVER, username="t_observer")
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
