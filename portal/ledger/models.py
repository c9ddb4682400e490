"""Problem ledger (问题台账) and rectification (整改).

One row per problem with the officials' spreadsheet columns; progress updates (整改进展) with
evidence files and money rectified by category; extension requests (延期申请); one sign-off
per bureau (销号确认); milestones for long-term problems; a per-year counter for gapless
ledger numbers (ZG-2026-0001); saved ledger filters per user.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Organisation, User
from portal.core import clock
from portal.core.db import Money, TimestampMixin, enum_column
from portal.core.enums import LabelledEnum
from portal.core.registry import register_record_type
from portal.core.versions import Versioned
from portal.extensions import db


class ProblemSource(LabelledEnum):  # 问题来源
    EVALUATION = "evaluation", "绩效评价", "Performance evaluation", "tag-blue"
    CO_REVIEW = "co_review", "报告同审", "Report co-review", "tag-blue"
    AUDIT = "audit", "审计发现", "Audit finding", "tag-red"
    MONITORING = "monitoring", "运行监控", "Monitoring", "tag-amber"
    CONFERENCE = "conference", "联席会议", "Joint conference", "tag-grey"


class ProblemState(LabelledEnum):
    LISTED = "listed", "已挂账", "Listed", "tag-red"
    IN_PROGRESS = "in_progress", "整改中", "In progress", "tag-amber"
    LONG_TERM = "long_term", "长期整改", "Long-term", "tag-blue"
    SUBMITTED = "submitted", "申请销号", "Submitted for closing", "tag-blue"
    CLOSED = "closed", "已销号", "Closed", "tag-green"


OPEN_STATES = (ProblemState.LISTED, ProblemState.IN_PROGRESS, ProblemState.LONG_TERM)


class RectificationType(LabelledEnum):  # 整改类型
    IMMEDIATE = "immediate", "立行立改", "Immediate"
    DEADLINE = "deadline", "限期整改", "By a deadline"
    LONG_TERM = "long_term", "长期整改", "Long-term"


class Bureau(LabelledEnum):
    FINANCE = "finance", "财政局", "Finance bureau"
    AUDIT = "audit", "审计局", "Audit bureau"


class ExtensionState(LabelledEnum):
    PENDING = "pending", "待审批", "Pending", "tag-amber"
    APPROVED = "approved", "已同意", "Approved", "tag-green"
    REFUSED = "refused", "未同意", "Refused", "tag-red"


# 整改金额 by category: (attribute suffix, Chinese, English)
MONEY_CATEGORIES = (
    ("recovered", "追缴资金", "Recovered"),
    ("returned", "归还原渠道", "Returned to the original channel"),
    ("reallocated", "统筹盘活", "Reallocated"),
    ("disbursed", "加快拨付", "Disbursement accelerated"),
    ("adjusted", "调整账表", "Accounts adjusted"),
    ("other", "其他", "Other"),
)
MONEY_FIELDS = tuple(f"rect_{key}" for key, _zh, _en in MONEY_CATEGORIES)


class _RectifiedMoney:
    """Six money columns, one per 整改金额 category."""

    rect_recovered: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    rect_returned: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    rect_reallocated: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    rect_disbursed: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    rect_adjusted: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    rect_other: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))

    @property
    def rectified_total(self) -> Decimal:
        return sum((getattr(self, f) or Decimal(0) for f in MONEY_FIELDS), Decimal(0))


_MONEY_NON_NEGATIVE = " AND ".join(f"{f} >= 0" for f in MONEY_FIELDS)


@register_record_type
class Problem(Versioned, _RectifiedMoney, TimestampMixin, db.Model):
    __tablename__ = "problems"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(20), unique=True)  # 台账编号 ZG-2026-0001
    year: Mapped[int] = mapped_column(sa.SmallInteger)
    seq: Mapped[int]
    source: Mapped[ProblemSource] = mapped_column(enum_column(ProblemSource))
    source_ref: Mapped[str] = mapped_column(sa.String(200), default="")  # e.g. 临审报〔2026〕5号
    evaluation_finding_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("evaluation_findings.id", ondelete="SET NULL"), unique=True)
    project_id: Mapped[int | None] = mapped_column(sa.ForeignKey("projects.id", ondelete="SET NULL"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))  # 责任单位
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))  # 主管部门
    category: Mapped[str] = mapped_column(sa.String(60))  # 问题类别
    description: Mapped[str] = mapped_column(sa.Text)  # 问题描述
    amount: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))  # 问题金额 (yuan)
    policy_basis: Mapped[str] = mapped_column(sa.Text, default="")  # 法规政策依据
    requirement: Mapped[str] = mapped_column(sa.Text, default="")  # 整改要求
    completion_standard: Mapped[str] = mapped_column(sa.Text, default="")  # 整改完成标准
    rect_type: Mapped[RectificationType] = mapped_column(enum_column(RectificationType))
    listed_on: Mapped[date]  # 挂账日期
    deadline: Mapped[date]  # 整改时限
    person_responsible: Mapped[str] = mapped_column(sa.String(60), default="")  # 整改责任人
    measures: Mapped[str] = mapped_column(sa.Text, default="")  # 已采取措施
    accountability: Mapped[str] = mapped_column(sa.Text, default="")  # 追责情况
    rules_improved: Mapped[str] = mapped_column(sa.Text, default="")  # 完善制度情况
    not_done_reason: Mapped[str] = mapped_column(sa.Text, default="")  # 未完成原因及下一步措施
    state: Mapped[ProblemState] = mapped_column(enum_column(ProblemState), default=ProblemState.LISTED)
    submitted_at: Mapped[datetime | None]
    closed_on: Mapped[date | None]  # 销号日期
    # Mirrors of the two sign-off rows, so the database itself refuses a closed problem without both.
    finance_signed_at: Mapped[datetime | None]
    audit_signed_at: Mapped[datetime | None]
    recurrence_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("problems.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    unit: Mapped[Organisation] = relationship(foreign_keys=[unit_id])
    department: Mapped[Organisation] = relationship(foreign_keys=[department_id])
    project = relationship("Project")
    finding = relationship("EvaluationFinding")
    recurrence_of: Mapped[Problem | None] = relationship(remote_side=[id])
    updates: Mapped[list[ProgressUpdate]] = relationship(back_populates="problem", order_by="ProgressUpdate.id",
                                                         cascade="all, delete-orphan")
    extensions: Mapped[list[ExtensionRequest]] = relationship(back_populates="problem",
                                                              order_by="ExtensionRequest.id",
                                                              cascade="all, delete-orphan")
    signoffs: Mapped[list[SignOff]] = relationship(back_populates="problem", cascade="all, delete-orphan")
    milestones: Mapped[list[Milestone]] = relationship(back_populates="problem", order_by="Milestone.due_date",
                                                       cascade="all, delete-orphan")

    __table_args__ = (
        sa.UniqueConstraint("year", "seq"),
        sa.Index("ix_problems_year_state", "year", "state"),
        sa.Index("ix_problems_unit_state", "unit_id", "state"),
        sa.Index("ix_problems_department_state", "department_id", "state"),
        sa.Index("ix_problems_state_deadline", "state", "deadline"),
        sa.Index("ix_problems_source", "source"),
        sa.Index("ix_problems_category", "category"),
        sa.CheckConstraint("amount >= 0", name="amount_non_negative"),
        sa.CheckConstraint(_MONEY_NON_NEGATIVE, name="rectified_non_negative"),
        sa.CheckConstraint("deadline >= listed_on", name="deadline_after_listing"),
        sa.CheckConstraint("state <> 'closed' OR (closed_on IS NOT NULL AND finance_signed_at IS NOT NULL"
                           " AND audit_signed_at IS NOT NULL)", name="closed_needs_both_signoffs"),
    )

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def days_left(self, today: date | None = None) -> int | None:
        if not self.is_open:
            return None
        return (self.deadline - (today or clock.today())).days

    @property
    def bucket(self) -> str | None:
        from portal.ledger.queries import bucket_of

        return bucket_of(self)

    @property
    def pending_extension(self) -> ExtensionRequest | None:
        return next((e for e in self.extensions if e.state == ExtensionState.PENDING), None)

    def signoff_of(self, bureau: Bureau) -> SignOff | None:
        return next((s for s in self.signoffs if s.bureau == bureau), None)

    @property
    def rectified_counted(self) -> Decimal:
        """整改金额 as the ledger counts it: the money reported, at most the problem's own amount
        (docs/ledger.md; the statistics' `capped_rectified_expr` in SQL)."""
        return min(self.rectified_total, self.amount or Decimal(0))

    @property
    def rectified_over_amount(self) -> bool:
        return self.rectified_total > (self.amount or Decimal(0))

    # How the stale-save message names what another user changed (core/versions.py).
    field_labels = {
        "source_ref": _l("来源依据"), "category": _l("问题类别"), "description": _l("问题描述"),
        "amount": _l("问题金额"), "policy_basis": _l("法规政策依据"), "requirement": _l("整改要求"),
        "completion_standard": _l("整改完成标准"), "rect_type": _l("整改类型"), "deadline": _l("整改时限"),
        "person_responsible": _l("整改责任人"), "measures": _l("已采取措施"), "accountability": _l("追责情况"),
        "rules_improved": _l("完善制度情况"), "not_done_reason": _l("未完成原因及下一步措施"), "state": _l("状态"),
        "finance_signed_at": _l("财政局销号确认"), "audit_signed_at": _l("审计局销号确认"),
        "submitted_at": _l("申请销号时间"), "progress_update": _l("整改进展"), "evidence_files": _l("佐证材料"),
        **{f"rect_{key}": _l(zh) for key, zh, _en in MONEY_CATEGORIES},
    }

    def __str__(self) -> str:
        return self.number


@register_record_type
class ProgressUpdate(_RectifiedMoney, db.Model):
    """整改进展: what the unit did, its evidence (linked attachments) and money rectified."""

    __tablename__ = "problem_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(sa.ForeignKey("problems.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    text: Mapped[str] = mapped_column(sa.Text)
    evidence_date: Mapped[date | None]  # the evidence's own date (not the upload date)
    is_submission: Mapped[bool] = mapped_column(default=False)  # 申请销号 with this update

    problem: Mapped[Problem] = relationship(back_populates="updates")
    author: Mapped[User | None] = relationship()

    __table_args__ = (sa.CheckConstraint(_MONEY_NON_NEGATIVE, name="money_non_negative"),)


@register_record_type
class ExtensionRequest(db.Model):
    """延期申请: the unit asks, finance approves or refuses."""

    __tablename__ = "problem_extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(sa.ForeignKey("problems.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(default=clock.now)
    old_deadline: Mapped[date]
    new_deadline: Mapped[date]
    reason: Mapped[str] = mapped_column(sa.Text)
    state: Mapped[ExtensionState] = mapped_column(enum_column(ExtensionState), default=ExtensionState.PENDING)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    decision_comment: Mapped[str] = mapped_column(sa.Text, default="")

    problem: Mapped[Problem] = relationship(back_populates="extensions")
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __table_args__ = (sa.CheckConstraint("new_deadline > old_deadline", name="later_deadline"),)


@register_record_type
class SignOff(db.Model):
    """销号确认: one per bureau per problem."""

    __tablename__ = "problem_signoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(sa.ForeignKey("problems.id", ondelete="CASCADE"))
    bureau: Mapped[Bureau] = mapped_column(enum_column(Bureau))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    signed_at: Mapped[datetime] = mapped_column(default=clock.now)
    comment: Mapped[str] = mapped_column(sa.Text, default="")

    problem: Mapped[Problem] = relationship(back_populates="signoffs")
    user: Mapped[User | None] = relationship()

    __table_args__ = (sa.UniqueConstraint("problem_id", "bureau"),)


@register_record_type
class Milestone(db.Model):
    """A long-term problem's intermediate step (阶段目标) with its own date."""

    __tablename__ = "problem_milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(sa.ForeignKey("problems.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    due_date: Mapped[date]
    done_on: Mapped[date | None]

    problem: Mapped[Problem] = relationship(back_populates="milestones")


class SavedFilter(db.Model):
    """A named ledger view: the query string of the ledger page, per user."""

    __tablename__ = "ledger_saved_filters"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(60))
    query: Mapped[str] = mapped_column(sa.String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    __table_args__ = (sa.UniqueConstraint("user_id", "name"),)
