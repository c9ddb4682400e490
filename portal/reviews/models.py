"""Co-review of third-party evaluation reports (同审) and the agencies behind them.

An agency (第三方机构) has a profile (qualifications, contacts) and may be in the pool of
qualified agencies for a year; a draw (抽签) picks one for a finance evaluation. A report
(评价报告) belongs to that evaluation and agency and has versions (V1, V2…); each version is
reviewed in a round (评审轮次) by reviewers from finance and audit (experts optional), who
score a weighted rubric; the round's lead drafts the consolidated opinion (合议意见) and the
decision takes effect once both bureaus have endorsed it.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Organisation, User
from portal.core import clock
from portal.core.attachments import Attachment
from portal.core.db import TimestampMixin, enum_column
from portal.core.enums import LabelledEnum
from portal.core.registry import register_record_type
from portal.core.versions import Versioned
from portal.extensions import db
from portal.performance.models import Evaluation


class ReportState(LabelledEnum):
    AWAITING = "awaiting", "待提交", "Awaiting report", "tag-grey"
    SUBMITTED = "submitted", "已提交待评审", "Submitted", "tag-amber"
    IN_REVIEW = "in_review", "评审中", "In review", "tag-blue"
    REVISING = "revising", "修改中", "Being revised", "tag-amber"
    ACCEPTED = "accepted", "已通过", "Accepted", "tag-green"
    REJECTED = "rejected", "不予通过", "Rejected", "tag-red"


class RoundState(LabelledEnum):
    OPEN = "open", "评审中", "Reviewing", "tag-blue"
    ENDORSING = "endorsing", "待两局会签", "Awaiting endorsement", "tag-amber"
    RETURNED = "returned", "退回牵头人", "Returned to lead", "tag-red"
    DECIDED = "decided", "已决定", "Decided", "tag-green"


class Decision(LabelledEnum):
    ACCEPTED = "accepted", "通过", "Accepted", "tag-green"
    REVISE = "revise", "修改后重审", "Revise and resubmit", "tag-amber"
    REJECTED = "rejected", "不予通过", "Rejected", "tag-red"


class Side(LabelledEnum):
    FINANCE = "finance", "财政", "Finance", "tag-red"
    AUDIT = "audit", "审计", "Audit", "tag-blue"
    EXPERT = "expert", "专家", "Expert", "tag-grey"


class AssignmentState(LabelledEnum):
    PENDING = "pending", "待声明利益冲突", "Conflict declaration due", "tag-grey"
    ACTIVE = "active", "评审中", "Reviewing", "tag-blue"
    SUBMITTED = "submitted", "已提交", "Submitted", "tag-green"
    CONFLICTED = "conflicted", "因利益冲突回避", "Withdrawn (conflict)", "tag-red"


class CommentKind(LabelledEnum):
    """What a comment row of a review is (批注类型)."""
    PROBLEM = "problem", "问题", "Problem", "tag-red"
    OPINION = "opinion", "意见", "Comment", "tag-blue"


class ConflictKind(LabelledEnum):
    AGENCY = "agency", "与评价机构存在利益关系", "Tied to the agency"
    UNIT = "unit", "与被评价单位存在利益关系", "Tied to the evaluated unit"
    PROJECT = "project", "参与过该项目", "Involved in the project"


@register_record_type
class AgencyProfile(TimestampMixin, db.Model):
    """资质与联系人 of one agency organisation."""

    __tablename__ = "agency_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"), unique=True)
    qualifications: Mapped[str] = mapped_column(sa.Text, default="")  # 资质
    credit_code: Mapped[str] = mapped_column(sa.String(40), default="")  # 统一社会信用代码
    contact_person: Mapped[str] = mapped_column(sa.String(60), default="")
    contact_phone: Mapped[str] = mapped_column(sa.String(40), default="")
    contact_email: Mapped[str] = mapped_column(sa.String(200), default="")
    address: Mapped[str] = mapped_column(sa.String(200), default="")

    organisation: Mapped[Organisation] = relationship()


class PoolEntry(db.Model):
    """An agency qualified for draws in one year (入库机构)."""

    __tablename__ = "agency_pool_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(sa.SmallInteger, index=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    added_at: Mapped[datetime] = mapped_column(default=clock.now)

    agency: Mapped[Organisation] = relationship()

    __table_args__ = (sa.UniqueConstraint("year", "agency_id"),)


@register_record_type
class AgencyDraw(db.Model):
    """抽签: reproducible from (seed, pool) — see operations.draw_result."""

    __tablename__ = "agency_draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(sa.ForeignKey("evaluations.id", ondelete="CASCADE"), index=True)
    seed: Mapped[str] = mapped_column(sa.String(64))
    pool_json: Mapped[str] = mapped_column(sa.Text)  # agency ids, sorted
    witnesses: Mapped[str] = mapped_column(sa.Text)  # 监督人
    chosen_agency_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    reason: Mapped[str] = mapped_column(sa.Text, default="")  # required for a redraw
    drawn_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    drawn_at: Mapped[datetime] = mapped_column(default=clock.now)

    evaluation: Mapped[Evaluation] = relationship()
    chosen_agency: Mapped[Organisation] = relationship()
    drawn_by: Mapped[User | None] = relationship()

    @property
    def pool(self) -> list[int]:
        return json.loads(self.pool_json)


@register_record_type
class RubricTemplate(Versioned, db.Model):
    """评审评分表: weighted criteria totalling 100."""

    __tablename__ = "review_rubrics"
    field_labels = {"name": _l("评分表名称"), "criteria": _l("评分标准")}

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    criteria: Mapped[list[RubricCriterion]] = relationship(back_populates="rubric", order_by="RubricCriterion.position",
                                                           cascade="all, delete-orphan")

    @property
    def total_weight(self) -> int:
        return sum(c.weight for c in self.criteria)


class RubricCriterion(db.Model):
    __tablename__ = "review_rubric_criteria"

    id: Mapped[int] = mapped_column(primary_key=True)
    rubric_id: Mapped[int] = mapped_column(sa.ForeignKey("review_rubrics.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(sa.String(100))
    guidance: Mapped[str] = mapped_column(sa.Text, default="")
    weight: Mapped[int] = mapped_column(sa.SmallInteger)

    rubric: Mapped[RubricTemplate] = relationship(back_populates="criteria")

    __table_args__ = (sa.CheckConstraint("weight > 0 AND weight <= 100", name="weight_range"),)


@register_record_type
class Report(Versioned, TimestampMixin, db.Model):
    """评价报告 of one finance evaluation by one agency."""

    __tablename__ = "review_reports"
    field_labels = {"title": _l("报告标题"), "due_date": _l("提交期限"), "state": _l("状态"),
                    "agency_id": _l("评价机构"), "final_score": _l("最终得分"), "decided_at": _l("决定时间")}

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(sa.ForeignKey("evaluations.id", ondelete="CASCADE"), unique=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    state: Mapped[ReportState] = mapped_column(enum_column(ReportState), default=ReportState.AWAITING, index=True)
    due_date: Mapped[date | None]  # when the next version is due (首次提交 / 修改稿)
    final_score: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    decided_at: Mapped[datetime | None]

    evaluation: Mapped[Evaluation] = relationship()
    agency: Mapped[Organisation] = relationship()
    versions: Mapped[list[ReportVersion]] = relationship(back_populates="report", order_by="ReportVersion.number",
                                                         cascade="all, delete-orphan")
    rounds: Mapped[list[ReviewRound]] = relationship(back_populates="report", order_by="ReviewRound.number",
                                                     cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint("final_score IS NULL OR (final_score >= 0 AND final_score <= 100)", name="score_range"),
    )

    @property
    def latest_version(self) -> ReportVersion | None:
        return self.versions[-1] if self.versions else None

    @property
    def current_round(self) -> ReviewRound | None:
        return self.rounds[-1] if self.rounds else None

    @property
    def year(self) -> int:
        return self.evaluation.year

    def __str__(self) -> str:
        return self.title


@register_record_type
class ReportVersion(db.Model):
    __tablename__ = "review_report_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("review_reports.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(sa.SmallInteger)
    attachment_id: Mapped[int] = mapped_column(sa.ForeignKey("attachments.id"))
    note: Mapped[str] = mapped_column(sa.Text, default="")  # 修改说明
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(default=clock.now)
    due_date: Mapped[date | None]  # the due date in force when it was uploaded

    report: Mapped[Report] = relationship(back_populates="versions")
    attachment: Mapped[Attachment] = relationship()
    uploaded_by: Mapped[User | None] = relationship()

    __table_args__ = (sa.UniqueConstraint("report_id", "number"),)

    @property
    def label(self) -> str:
        return f"V{self.number}"

    @property
    def late(self) -> bool:
        return self.due_date is not None and self.uploaded_at.date() > self.due_date


@register_record_type
class ReviewRound(TimestampMixin, db.Model):
    __tablename__ = "review_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("review_reports.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("review_report_versions.id", ondelete="CASCADE"), unique=True)
    number: Mapped[int] = mapped_column(sa.SmallInteger)
    state: Mapped[RoundState] = mapped_column(enum_column(RoundState), default=RoundState.OPEN, index=True)
    deadline: Mapped[date]
    rubric_id: Mapped[int] = mapped_column(sa.ForeignKey("review_rubrics.id"))
    lead_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    opened_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    opinion: Mapped[str] = mapped_column(sa.Text, default="")  # 合议意见 (Markdown)
    proposed_decision: Mapped[Decision | None] = mapped_column(enum_column(Decision))
    finance_endorser_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    audit_endorser_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    decision: Mapped[Decision | None] = mapped_column(sa.Enum(
        Decision, name="final_decision", native_enum=False, create_constraint=True, length=32,
        values_callable=lambda e: [m.value for m in e], validate_strings=True))
    score: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))  # mean of the submitted totals
    decided_at: Mapped[datetime | None]

    report: Mapped[Report] = relationship(back_populates="rounds")
    version: Mapped[ReportVersion] = relationship()
    rubric: Mapped[RubricTemplate] = relationship()
    lead: Mapped[User] = relationship(foreign_keys=[lead_id])
    finance_endorser: Mapped[User | None] = relationship(foreign_keys=[finance_endorser_id])
    audit_endorser: Mapped[User | None] = relationship(foreign_keys=[audit_endorser_id])
    assignments: Mapped[list[ReviewAssignment]] = relationship(back_populates="round", order_by="ReviewAssignment.id",
                                                               cascade="all, delete-orphan")

    __table_args__ = (
        sa.UniqueConstraint("report_id", "number"),
        # 决定生效 ⇒ both bureaus endorsed
        sa.CheckConstraint("state <> 'decided' OR (decision IS NOT NULL AND finance_endorser_id IS NOT NULL "
                           "AND audit_endorser_id IS NOT NULL)", name="decided_is_endorsed"),
    )

    def overdue(self, today: date | None = None) -> bool:
        return self.state == RoundState.OPEN and (today or clock.today()) > self.deadline

    @property
    def active_assignments(self) -> list[ReviewAssignment]:
        return [a for a in self.assignments if a.state != AssignmentState.CONFLICTED]

    @property
    def submitted_assignments(self) -> list[ReviewAssignment]:
        return [a for a in self.assignments if a.state == AssignmentState.SUBMITTED]


@register_record_type
class ReviewAssignment(Versioned, TimestampMixin, db.Model):
    """One reviewer's review in one round (评审意见): scores, comments, history."""

    __tablename__ = "review_assignments"
    field_labels = {"scores": _l("评分"), "comments": _l("批注"), "summary": _l("总体意见"), "state": _l("状态"),
                    "revision": _l("修改次数"), "submitted_at": _l("提交时间"), "conflict_kind": _l("利益冲突"),
                    "conflict_note": _l("利益冲突说明"), "declared_at": _l("声明时间")}

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("review_rounds.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    side: Mapped[Side] = mapped_column(enum_column(Side))
    state: Mapped[AssignmentState] = mapped_column(enum_column(AssignmentState), default=AssignmentState.PENDING)
    conflict_kind: Mapped[ConflictKind | None] = mapped_column(enum_column(ConflictKind))
    conflict_note: Mapped[str] = mapped_column(sa.Text, default="")
    declared_at: Mapped[datetime | None]
    summary: Mapped[str] = mapped_column(sa.Text, default="")  # 总体意见
    submitted_at: Mapped[datetime | None]
    saved_at: Mapped[datetime | None]  # the last save of the score sheet (draft or submission)
    revision: Mapped[int] = mapped_column(default=0)  # number of saved edits

    round: Mapped[ReviewRound] = relationship(back_populates="assignments")
    reviewer: Mapped[User] = relationship()
    scores: Mapped[list[ReviewScore]] = relationship(back_populates="assignment", cascade="all, delete-orphan")
    comments: Mapped[list[ReviewComment]] = relationship(back_populates="assignment", order_by="ReviewComment.id",
                                                         cascade="all, delete-orphan")
    revisions: Mapped[list[ReviewRevision]] = relationship(back_populates="assignment",
                                                           order_by="ReviewRevision.number",
                                                           cascade="all, delete-orphan")

    __table_args__ = (
        sa.UniqueConstraint("round_id", "reviewer_id"),
        sa.CheckConstraint("state <> 'conflicted' OR conflict_kind IS NOT NULL", name="conflict_has_kind"),
    )

    def score_for(self, criterion_id: int) -> ReviewScore | None:
        return next((s for s in self.scores if s.criterion_id == criterion_id), None)

    @property
    def total(self) -> Decimal | None:
        if not self.scores:
            return None
        return sum((s.score for s in self.scores if s.score is not None), Decimal(0))


class ReviewScore(db.Model):
    __tablename__ = "review_scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(sa.ForeignKey("review_assignments.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int] = mapped_column(sa.ForeignKey("review_rubric_criteria.id"))
    score: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    justification: Mapped[str] = mapped_column(sa.Text, default="")

    assignment: Mapped[ReviewAssignment] = relationship(back_populates="scores")
    criterion: Mapped[RubricCriterion] = relationship()

    __table_args__ = (sa.UniqueConstraint("assignment_id", "criterion_id"),
                      sa.CheckConstraint("score IS NULL OR score >= 0", name="score_non_negative"))


class ReviewComment(db.Model):
    """A comment row of a review (批注): a problem or an opinion, pinned to a section or page of
    the report and/or to the rubric criterion it concerns."""

    __tablename__ = "review_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(sa.ForeignKey("review_assignments.id", ondelete="CASCADE"), index=True)
    location: Mapped[str] = mapped_column(sa.String(100))  # 章节或页码, e.g. "第三章" / "第12页"
    text: Mapped[str] = mapped_column(sa.Text)
    kind: Mapped[CommentKind] = mapped_column(enum_column(CommentKind), default=CommentKind.OPINION,
                                              server_default=CommentKind.OPINION.value)
    criterion_id: Mapped[int | None] = mapped_column(sa.ForeignKey("review_rubric_criteria.id",
                                                                   ondelete="SET NULL"))

    assignment: Mapped[ReviewAssignment] = relationship(back_populates="comments")
    criterion: Mapped[RubricCriterion | None] = relationship()


class ReviewRevision(db.Model):
    """The review as it was before an edit (JSON snapshot): every edit keeps its history."""

    __tablename__ = "review_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(sa.ForeignKey("review_assignments.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    content: Mapped[str] = mapped_column(sa.Text)
    saved_at: Mapped[datetime] = mapped_column(default=clock.now)

    assignment: Mapped[ReviewAssignment] = relationship(back_populates="revisions")

    __table_args__ = (sa.UniqueConstraint("assignment_id", "number"),)

    @property
    def data(self) -> dict:
        return json.loads(self.content)
