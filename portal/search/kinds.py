"""What the portal's search covers: one `Kind` per record type, with its search document and the
question of who may see it — always put to the permission point (`visible` / `can`), never
answered here.

A kind's document is rebuilt from the database whenever the record, or one of the child rows
that feed its text (a letter's items, a goal's indicators, a library document's files), was
written (portal/search/tracking.py)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import url_for
from flask_babel import lazy_gettext as _l

from portal.core.markdown import plain_text
from portal.core.permissions import can, visible
from portal.extensions import db


@dataclass
class Kind:
    name: str
    label: object  # lazy Chinese label of the group
    model: Callable[[], type]  # imported late: modules import each other's models lazily
    document: Callable[[object], tuple[str, str]]  # record → (title, body)
    url: Callable[[object], str]
    # child model name → function(child row) → parent id (rows whose text is part of the document)
    children: dict[str, Callable] = field(default_factory=dict)
    # stmt of the visible ids among `ids`; default: the model's own scope (visible(user, Model))
    scope: Callable | None = None

    def visible_ids(self, user, ids: list[int]) -> set[int]:
        model = self.model()
        if not ids:
            return set()
        if self.scope is not None:
            stmt = self.scope(user, ids)
        else:
            stmt = visible(user, model, sa.select(model.id)).where(model.id.in_(ids))
        return set(db.session.scalars(stmt))

    def load(self, ids) -> dict[int, object]:
        model = self.model()
        return {r.id: r for r in db.session.scalars(sa.select(model).where(model.id.in_(list(ids))))}


def _join(*parts) -> str:
    return "\n".join(str(p) for p in parts if p)


# ---- documents -------------------------------------------------------------------------------

def _letter(letter):
    items = [i.description for i in getattr(letter, "items", [])]
    return _join(letter.doc_number, letter.title), _join(letter.body, *items, letter.sender_org.name,
                                                         letter.addressee_org.name)


def _problem(problem):
    return (_join(problem.number, problem.category),
            _join(problem.description, problem.requirement, problem.measures, problem.source_ref,
                  problem.unit.name if problem.unit else "", problem.person_responsible))


def _project(project):
    return _join(project.name, project.code), _join(project.description, project.unit.name, project.year)


def _goal(goal):
    names = [i.name for i in goal.indicators]
    return (_join(goal.project.name, _l("绩效目标")),
            _join(goal.overall_goal, *names, goal.project.code, goal.project.year))


def _meeting(meeting):
    return (_join(meeting.year, _l("第%(n)s次联席会议", n=meeting.number)),
            _join(plain_text(meeting.agenda), plain_text(meeting.minutes), meeting.place))


def _action(action):
    return action.text[:80], _join(action.text, action.owner_org.name if action.owner_org else "")


def _document(document):
    from portal.core.attachments import attachments_of

    texts = [(a.text or "")[:30_000] for a in attachments_of(document)]
    return document.title, _join(document.note, document.kind.label, *texts)


def _review(report):
    project = report.evaluation.project
    # no agency name: reviewers may read a report they cannot attribute to its agency
    return report.title, _join(project.name, project.code, report.evaluation.year)


def _assessment(assessment):
    """事前绩效评估: the unit's application (never the assessors or their score sheets)."""
    project = assessment.project
    return (_join(project.name, _l("事前绩效评估")),
            _join(assessment.basis, assessment.plan, assessment.costing, assessment.overall_goal,
                  *[i.name for i in assessment.indicators], project.code, assessment.unit.name, assessment.year))


def _team(team):
    project = team.evaluation.project
    return (_join(project.name, _l("联合评价组")),
            _join(team.conclusion, *[o.text for o in team.opinions],
                  *[f"{m.user.display_name} {m.organisation.name}" for m in team.members], project.code,
                  team.evaluation.year))


def _scorecard(card):
    return (_join(card.organisation.name, _l("%(year)s年度绩效管理工作考核", year=card.assessment.year)),
            _join(card.grade.label if card.grade else "", *[line.indicator.name for line in card.lines],
                  *[line.note for line in card.lines], card.assessment.circular_number))


def _package(package):
    return package.download_name, _join(package.kind.label, package.submission_note,
                                        *package.contents.get("files", []), package.year)


# ---- visibility the permission point gives ---------------------------------------------------

def _goal_scope(user, ids):
    from portal.performance.models import PerformanceGoal, Project

    projects = visible(user, Project, sa.select(Project.id))
    return sa.select(PerformanceGoal.id).where(PerformanceGoal.id.in_(ids), PerformanceGoal.project_id.in_(projects))


def _models(module: str, name: str):
    def load():
        import importlib

        return getattr(importlib.import_module(module), name)
    return load


def _attachment_parent(table: str):
    def parent(link):
        return link.record_id if link.record_type == table else None
    return parent


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("letter", _l("函询"), _models("portal.inquiries.models", "Letter"), _letter,
         lambda r: url_for("inquiries.detail", letter_id=r.id),
         children={"LetterItem": lambda item: item.letter_id}),
    Kind("problem", _l("问题台账"), _models("portal.ledger.models", "Problem"), _problem,
         lambda r: url_for("ledger.detail", problem_id=r.id)),
    Kind("project", _l("项目"), _models("portal.performance.models", "Project"), _project,
         lambda r: url_for("performance.project", project_id=r.id)),
    Kind("goal", _l("绩效目标"), _models("portal.performance.models", "PerformanceGoal"), _goal,
         lambda r: url_for("performance.goal", project_id=r.project_id),
         children={"Indicator": lambda row: row.goal_id}, scope=_goal_scope),
    Kind("meeting", _l("联席会议"), _models("portal.conference.models", "Meeting"), _meeting,
         lambda r: url_for("conference.meeting_detail", meeting_id=r.id)),
    Kind("action", _l("议定事项"), _models("portal.conference.models", "Action"), _action,
         lambda r: url_for("conference.action_detail", action_id=r.id)),
    Kind("document", _l("共享资料"), _models("portal.conference.models", "SharedDocument"), _document,
         lambda r: url_for("conference.document_detail", document_id=r.id),
         children={"AttachmentLink": _attachment_parent("library_documents")}),
    Kind("review", _l("报告同审"), _models("portal.reviews.models", "Report"), _review,
         lambda r: url_for("reviews.report", report_id=r.id)),
    Kind("assessment", _l("事前评估"), _models("portal.assessments.models", "Assessment"), _assessment,
         lambda r: url_for("assessments.detail", assessment_id=r.id),
         children={"DraftIndicator": lambda row: row.assessment_id}),
    Kind("team", _l("联合评价组"), _models("portal.oversight.models", "JointTeam"), _team,
         lambda r: url_for("oversight.team", evaluation_id=r.evaluation_id),
         children={"TeamOpinion": lambda row: row.team_id, "TeamMember": lambda row: row.team_id}),
    Kind("scorecard", _l("工作考核"), _models("portal.oversight.models", "Scorecard"), _scorecard,
         lambda r: url_for("oversight.scorecard", scorecard_id=r.id),
         children={"ScorecardLine": lambda row: row.scorecard_id}),
    Kind("package", _l("报送人大"), _models("portal.oversight.models", "CongressPackage"), _package,
         lambda r: url_for("oversight.package", package_id=r.id)),
)}


def kind_of_model(model_name: str) -> Kind | None:
    for kind in KINDS.values():
        if kind.model().__name__ == model_name:
            return kind
    return None


def readable(user, kind: Kind, record) -> bool:
    """The record-level check on top of the scope (e.g. a draft letter is its drafter's)."""
    if kind.name == "goal":
        return can(user, "view", record.project)
    return can(user, "view", record)
