"""Reads of joint oversight: the assessment's subjects, teams and packages the user may see,
the year's figures for the package and the overview."""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import url_for

from portal.accounts.models import Organisation, OrgKind
from portal.core.permissions import visible
from portal.core.roles import is_county_bureau
from portal.extensions import db
from portal.oversight.models import (
    CongressPackage,
    JointTeam,
    PackageKind,
    Scorecard,
    SubjectKind,
    TeamMember,
    WorkAssessment,
)
from portal.performance.models import Evaluation, EvaluationMode, Project


def link(endpoint: str, **values) -> str:
    """A link for a notification, inside a request or not (seeding, the worker)."""
    from portal.core.links import link_context

    with link_context():
        return url_for(endpoint, **values)


def team_link(evaluation) -> str:
    return link("oversight.team", evaluation_id=evaluation.id)


def assessment_link(assessment) -> str:
    return link("oversight.assessment", year=assessment.year)


@dataclass
class Subject:
    org: Organisation
    kind: SubjectKind
    department_ids: list[int] = field(default_factory=list)


def departments() -> list[Organisation]:
    """主管部门: budget units at the top of their chain (no parent, or a parent that is not a unit)."""
    parent = sa.orm.aliased(Organisation)
    stmt = (sa.select(Organisation).outerjoin(parent, Organisation.parent_id == parent.id)
            .where(Organisation.kind == OrgKind.BUDGET_UNIT, Organisation.is_active.is_(True),
                   sa.or_(Organisation.parent_id.is_(None), parent.kind != OrgKind.BUDGET_UNIT))
            .order_by(Organisation.code, Organisation.id))
    return list(db.session.scalars(stmt))


def subjects(year: int) -> list[Subject]:
    """Who is assessed in `year`: every department (of the bureau's own level) with a project or a
    problem in the year and, at province scale, every county finance bureau over the active
    departments under it — a county's departments are scored in the county's card, not beside the
    province's own departments (the county assesses them itself)."""
    from portal.ledger.models import Problem

    active = set(db.session.scalars(sa.select(Project.department_id).where(Project.year == year).distinct()))
    active |= set(db.session.scalars(sa.select(Problem.department_id).where(Problem.year == year).distinct()))
    found: list[Subject] = []
    counties: dict[int, Subject] = {}
    for department in departments():
        if department.id not in active:
            continue
        if is_county_bureau(department.parent):
            county = counties.setdefault(department.parent_id, Subject(department.parent, SubjectKind.COUNTY))
            county.department_ids.append(department.id)
        else:
            found.append(Subject(department, SubjectKind.DEPARTMENT, [department.id]))
    return found + sorted(counties.values(), key=lambda s: (s.org.code or "", s.org.id))


def assessment_of(year: int) -> WorkAssessment | None:
    return db.session.scalars(sa.select(WorkAssessment).where(WorkAssessment.year == year)).first()


def visible_assessments(user) -> list[WorkAssessment]:
    return list(db.session.scalars(visible(user, WorkAssessment).order_by(WorkAssessment.year.desc())))


def scorecards(user, assessment: WorkAssessment, kind: SubjectKind | None = None) -> list[Scorecard]:
    stmt = visible(user, Scorecard).where(Scorecard.assessment_id == assessment.id) \
        .order_by(Scorecard.subject_kind, Scorecard.rank.is_(None), Scorecard.rank, Scorecard.id)
    if kind is not None:
        stmt = stmt.where(Scorecard.subject_kind == kind)
    return list(db.session.scalars(stmt))


def history(user, organisation_id: int) -> list[Scorecard]:
    """One organisation's scorecards across the years the user may see."""
    stmt = visible(user, Scorecard).join(WorkAssessment).where(Scorecard.organisation_id == organisation_id) \
        .order_by(WorkAssessment.year.desc())
    return list(db.session.scalars(stmt))


def teams(user, year: int | None = None) -> list[JointTeam]:
    stmt = visible(user, JointTeam).join(Evaluation, JointTeam.evaluation_id == Evaluation.id) \
        .order_by(Evaluation.year.desc(), JointTeam.id.desc())
    if year:
        stmt = stmt.where(Evaluation.year == year)
    return list(db.session.scalars(stmt.limit(500)))


def key_evaluations_without_team(year: int) -> list[Evaluation]:
    has_team = sa.select(JointTeam.evaluation_id)
    stmt = (sa.select(Evaluation).where(Evaluation.mode == EvaluationMode.FINANCE, Evaluation.year == year,
                                        Evaluation.id.not_in(has_team)).order_by(Evaluation.id).limit(200))
    return list(db.session.scalars(stmt))


def teams_of_user(user) -> list[JointTeam]:
    stmt = sa.select(JointTeam).join(TeamMember).where(TeamMember.user_id == user.id).order_by(JointTeam.id.desc())
    return list(db.session.scalars(stmt.limit(20)))


def packages(user, year: int | None = None) -> list[CongressPackage]:
    stmt = visible(user, CongressPackage).order_by(CongressPackage.year.desc(), CongressPackage.kind,
                                                   CongressPackage.version.desc())
    if year:
        stmt = stmt.where(CongressPackage.year == year)
    return list(db.session.scalars(stmt.limit(200)))


def next_version(year: int, kind: PackageKind) -> int:
    last = db.session.scalar(sa.select(sa.func.max(CongressPackage.version))
                             .where(CongressPackage.year == year, CongressPackage.kind == kind))
    return (last or 0) + 1
