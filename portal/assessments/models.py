"""Ex-ante performance assessment (事前绩效评估): the unit's application for a new policy or
project, assessed in rounds (by finance, experts or a commissioned agency) on five dimensions;
each round ends in a conclusion (予以支持 / 调整后支持 / 不予支持) and a recommended amount.
"先评估后入库": a project that needs one enters the library and the budget only when supported
(portal/assessments/gate.py)."""
from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Organisation, User
from portal.core.db import Money, TimestampMixin, enum_column
from portal.core.enums import LabelledEnum
from portal.core.registry import register_record_type
from portal.core.versions import Versioned
from portal.extensions import db
from portal.performance.models import Level1, Project


class AssessmentState(LabelledEnum):
    DRAFT = "draft", "填报中", "Draft", "tag-grey"
    SUBMITTED = "submitted", "待评估", "Awaiting assessment", "tag-amber"
    ASSESSING = "assessing", "评估中", "Being assessed", "tag-blue"
    REVISING = "revising", "调整后支持·待修改", "Supported after changes: revising", "tag-amber"
    SUPPORTED = "supported", "予以支持", "Supported", "tag-green"
    REJECTED = "rejected", "不予支持", "Not supported", "tag-red"
    WITHDRAWN = "withdrawn", "已撤回", "Withdrawn", "tag-grey"


class Conclusion(LabelledEnum):
    SUPPORT = "support", "予以支持", "Support", "tag-green"
    ADJUST = "adjust", "调整后支持", "Support after changes", "tag-amber"
    REJECT = "reject", "不予支持", "Do not support", "tag-red"


class Method(LabelledEnum):
    FINANCE = "finance", "财政部门评估", "By finance"
    EXPERTS = "experts", "专家评估", "By experts"
    AGENCY = "agency", "委托第三方机构评估", "By a commissioned agency"


class SheetState(LabelledEnum):
    PENDING = "pending", "待评分", "To score", "tag-amber"
    SUBMITTED = "submitted", "已提交", "Submitted", "tag-green"


# The five dimensions (评估内容), in the order the guidelines list them; their weights are settings.
DIMENSIONS = ("necessity", "economy", "goals", "feasibility", "funding")
DIMENSION_LABELS = {"necessity": _l("立项必要性"), "economy": _l("投入经济性"), "goals": _l("绩效目标合理性"),
                    "feasibility": _l("实施方案可行性"), "funding": _l("筹资合规性")}


@register_record_type
class Assessment(Versioned, TimestampMixin, db.Model):
    """One project's ex-ante assessment: the application and its latest conclusion."""

    __tablename__ = "assessments"
    field_labels = {"basis": _l("立项依据"), "plan": _l("实施方案"), "costing": _l("资金测算"),
                    "overall_goal": _l("总体目标（草案）"), "requested_amount": _l("申请金额"),
                    "indicators": _l("绩效指标（草案）"), "state": _l("状态")}

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"), unique=True)
    year: Mapped[int] = mapped_column(sa.SmallInteger)  # the budget year applied for
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    state: Mapped[AssessmentState] = mapped_column(enum_column(AssessmentState), default=AssessmentState.DRAFT)
    basis: Mapped[str] = mapped_column(sa.Text, default="")  # 立项依据
    plan: Mapped[str] = mapped_column(sa.Text, default="")  # 实施方案
    costing: Mapped[str] = mapped_column(sa.Text, default="")  # 资金测算
    overall_goal: Mapped[str] = mapped_column(sa.Text, default="")  # 总体目标（草案）
    requested_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))  # 申请金额 (yuan)
    # the latest round's result (the figures read these)
    score: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    conclusion: Mapped[Conclusion | None] = mapped_column(enum_column(Conclusion))
    recommended_amount: Mapped[Decimal | None] = mapped_column(Money)  # 建议安排金额
    first_requested: Mapped[Decimal | None] = mapped_column(Money)  # the amount of the first submission
    was_adjusted: Mapped[bool] = mapped_column(default=False)  # a round concluded 调整后支持
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    project: Mapped[Project] = relationship()
    unit: Mapped[Organisation] = relationship(foreign_keys=[unit_id])
    department: Mapped[Organisation] = relationship(foreign_keys=[department_id])
    indicators: Mapped[list[DraftIndicator]] = relationship(back_populates="assessment", cascade="all, delete-orphan",
                                                            order_by="DraftIndicator.position")
    rounds: Mapped[list[AssessmentRound]] = relationship(back_populates="assessment", cascade="all, delete-orphan",
                                                         order_by="AssessmentRound.number")

    __table_args__ = (
        sa.Index("ix_assessments_year_department", "year", "department_id"),
        sa.CheckConstraint("requested_amount >= 0", name="requested_non_negative"),
        sa.CheckConstraint("recommended_amount IS NULL OR recommended_amount >= 0", name="recommended_non_negative"),
        sa.CheckConstraint("state NOT IN ('supported', 'rejected', 'revising') OR conclusion IS NOT NULL",
                           name="concluded_has_conclusion"),
    )

    @property
    def current_round(self) -> AssessmentRound | None:
        return self.rounds[-1] if self.rounds else None

    def __str__(self) -> str:
        return self.project.name if self.project else f"#{self.id}"


class DraftIndicator(db.Model):
    """A row of the draft indicator table (绩效指标表草案) in the application."""

    __tablename__ = "assessment_indicators"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(sa.ForeignKey("assessments.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    level1: Mapped[Level1] = mapped_column(enum_column(Level1))
    name: Mapped[str] = mapped_column(sa.String(200))  # 三级指标
    target: Mapped[str] = mapped_column(sa.String(100), default="")  # 指标值, as written (≥12所)
    weight: Mapped[Decimal] = mapped_column(sa.Numeric(6, 2), default=Decimal(0))

    assessment: Mapped[Assessment] = relationship(back_populates="indicators")


@register_record_type
class AssessmentRound(db.Model):
    """第N次评估: who assesses, with which weights and bands, and what it concluded."""

    __tablename__ = "assessment_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(sa.ForeignKey("assessments.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(sa.SmallInteger, default=1)
    method: Mapped[Method] = mapped_column(enum_column(Method))
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"))
    draw_seed: Mapped[str] = mapped_column(sa.String(64), default="")  # 抽签 (reviews.operations.draw_result)
    draw_pool: Mapped[str] = mapped_column(sa.Text, default="[]")
    draw_witnesses: Mapped[str] = mapped_column(sa.Text, default="")
    rules: Mapped[str] = mapped_column(sa.Text, default="{}")  # weights and bands as they were
    requested_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    score: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    conclusion: Mapped[Conclusion | None] = mapped_column(enum_column(Conclusion))
    recommended_amount: Mapped[Decimal | None] = mapped_column(Money)
    opinion: Mapped[str] = mapped_column(sa.Text, default="")  # 评估意见
    opened_at: Mapped[datetime | None]
    concluded_at: Mapped[datetime | None]
    concluded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    assessment: Mapped[Assessment] = relationship(back_populates="rounds")
    agency: Mapped[Organisation | None] = relationship()
    sheets: Mapped[list[ScoreSheet]] = relationship(back_populates="round", cascade="all, delete-orphan",
                                                    order_by="ScoreSheet.id")

    __table_args__ = (sa.UniqueConstraint("assessment_id", "number"),
                      sa.CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score_range"))

    @property
    def rule_set(self) -> dict:
        return json.loads(self.rules or "{}")

    @property
    def pool(self) -> list[int]:
        return json.loads(self.draw_pool or "[]")


@register_record_type
class ScoreSheet(Versioned, db.Model):
    """One assessor's scores on the five dimensions (each from 0 to its weight)."""

    __tablename__ = "assessment_sheets"
    field_labels = {**DIMENSION_LABELS, "comment": _l("评估意见"), "state": _l("状态")}

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("assessment_rounds.id", ondelete="CASCADE"), index=True)
    assessor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"), index=True)  # the agency's sheet
    state: Mapped[SheetState] = mapped_column(enum_column(SheetState), default=SheetState.PENDING)
    necessity: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    economy: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    goals: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    feasibility: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    funding: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    submitted_at: Mapped[datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    round: Mapped[AssessmentRound] = relationship(back_populates="sheets")
    assessor: Mapped[User | None] = relationship(foreign_keys=[assessor_id])
    agency: Mapped[Organisation | None] = relationship()

    __table_args__ = (sa.CheckConstraint("assessor_id IS NOT NULL OR agency_id IS NOT NULL", name="has_assessor"),)

    @property
    def total(self) -> Decimal | None:
        values = [getattr(self, d) for d in DIMENSIONS]
        return None if any(v is None for v in values) else sum(values, Decimal(0))

    @property
    def assessor_name(self) -> str:
        return self.assessor.display_name if self.assessor else (self.agency.name if self.agency else "")
