"""Joint oversight (联合监督): joint evaluation teams (联合评价组) on key evaluations, the annual
assessment of the departments' performance-management work (绩效管理工作考核) and the packages
sent to the People's Congress (报送人大)."""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Organisation, User
from portal.core import clock
from portal.core.db import enum_column
from portal.core.enums import LabelledEnum, current_language
from portal.core.registry import register_record_type
from portal.core.roles import province_scale
from portal.core.versions import Versioned
from portal.extensions import db
from portal.performance.models import Evaluation, Grade

# ---- joint evaluation teams --------------------------------------------------------------------


class TeamSide(LabelledEnum):
    """Which organisation a member comes from (the four of Linzi's teams, and finance)."""
    CONGRESS = "congress", "人大预算工委", "People's Congress budget committee", "tag-grey"
    AUDIT = "audit", "审计局", "Audit bureau", "tag-blue"
    DEPARTMENT = "department", "主管部门", "Department in charge", "tag-green"
    AGENCY = "agency", "第三方机构", "Third-party agency", "tag-amber"
    FINANCE = "finance", "财政局", "Finance bureau", "tag-red"


class TeamRole(LabelledEnum):
    LEAD = "lead", "组长", "Lead"  # 牵头：定稿
    MEMBER = "member", "成员", "Member"  # reads the working papers, adds opinions
    OBSERVER = "observer", "列席观察", "Observer"  # reads the working papers only


class TeamState(LabelledEnum):
    WORKING = "working", "评价中", "Working", "tag-blue"
    FINALISED = "finalised", "已定稿", "Finalised", "tag-green"


@register_record_type
class JointTeam(Versioned, db.Model):
    """联合评价组 of one key (finance) evaluation."""

    __tablename__ = "joint_teams"
    field_labels = {"state": _l("状态"), "conclusion": _l("联合评价意见")}

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(sa.ForeignKey("evaluations.id", ondelete="CASCADE"), unique=True)
    state: Mapped[TeamState] = mapped_column(enum_column(TeamState), default=TeamState.WORKING)
    conclusion: Mapped[str] = mapped_column(sa.Text, default="")  # 联合评价意见 (the lead's final text)
    formed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    formed_at: Mapped[datetime] = mapped_column(default=clock.now)
    finalised_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    finalised_at: Mapped[datetime | None]

    evaluation: Mapped[Evaluation] = relationship()
    members: Mapped[list[TeamMember]] = relationship(back_populates="team", order_by="TeamMember.id",
                                                     cascade="all, delete-orphan")
    opinions: Mapped[list[TeamOpinion]] = relationship(back_populates="team", order_by="TeamOpinion.id",
                                                       cascade="all, delete-orphan")
    finalised_by: Mapped[User | None] = relationship(foreign_keys=[finalised_by_id])

    __table_args__ = (
        sa.CheckConstraint("state <> 'finalised' OR (finalised_at IS NOT NULL AND conclusion <> '')",
                           name="finalised_has_conclusion"),
    )

    def member_of(self, user) -> TeamMember | None:
        uid = getattr(user, "id", None)
        return next((m for m in self.members if m.user_id == uid), None)

    @property
    def lead(self) -> TeamMember | None:
        return next((m for m in self.members if m.role == TeamRole.LEAD), None)

    @property
    def sides(self) -> set[TeamSide]:
        return {m.side for m in self.members}


class TeamMember(db.Model):
    __tablename__ = "joint_team_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("joint_teams.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    side: Mapped[TeamSide] = mapped_column(enum_column(TeamSide))
    role: Mapped[TeamRole] = mapped_column(enum_column(TeamRole))
    added_at: Mapped[datetime] = mapped_column(default=clock.now)

    team: Mapped[JointTeam] = relationship(back_populates="members")
    user: Mapped[User] = relationship()
    organisation: Mapped[Organisation] = relationship()

    __table_args__ = (sa.UniqueConstraint("team_id", "user_id"),
                      sa.Index("ix_joint_team_members_one_lead", "team_id", unique=True,
                               sqlite_where=sa.text("role = 'lead'"), postgresql_where=sa.text("role = 'lead'")))


class TeamOpinion(db.Model):
    """An opinion of a member on the working papers (评价意见), kept as written."""

    __tablename__ = "joint_team_opinions"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("joint_teams.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("joint_team_members.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    team: Mapped[JointTeam] = relationship(back_populates="opinions")
    member: Mapped[TeamMember] = relationship()


# ---- assessment of the departments' work (绩效管理工作考核) --------------------------------------


class SubjectKind(LabelledEnum):
    DEPARTMENT = "department", "市直部门", "Department"
    COUNTY = "county", "县（市、区）财政局", "County finance bureau"

    @property
    def label(self) -> str:
        """At province scale (JURISDICTION_LEVEL) the departments are the province's: 省直部门."""
        if self is SubjectKind.DEPARTMENT and province_scale():
            return "Provincial department" if current_language() == "en" else "省直部门"
        return super().label


class AssessmentState(LabelledEnum):
    DRAFT = "draft", "评分中", "Scoring", "tag-amber"
    PUBLISHED = "published", "已通报", "Circulated", "tag-green"


@register_record_type
class WorkAssessment(Versioned, db.Model):
    """One year's 绩效管理工作考核: its indicator system, its scorecards and the circular (通报)."""

    __tablename__ = "work_assessments"
    field_labels = {"state": _l("状态"), "indicators": _l("考核指标"), "circular_number": _l("通报文号")}

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(sa.SmallInteger, unique=True)
    state: Mapped[AssessmentState] = mapped_column(enum_column(AssessmentState), default=AssessmentState.DRAFT)
    computed_at: Mapped[datetime | None]
    as_of: Mapped[date | None]  # 到期整改率 counts problems due by this day
    # The year's dates the automatic indicators compare with (local facts, set by finance):
    budget_approved_on: Mapped[date]  # 预算批复日期: goals approved by then count as 随预算批复
    monitoring_due_on: Mapped[date]  # 1–7 月运行监控报送截止日
    disclosure_due_on: Mapped[date]  # 绩效目标随预算公开截止日 (预算法: 批复后 20 日内)
    published_at: Mapped[datetime | None]
    circular_number: Mapped[str] = mapped_column(sa.String(60), default="")  # e.g. 临财绩〔2027〕2号

    indicators: Mapped[list[AssessmentIndicator]] = relationship(
        back_populates="assessment", order_by="AssessmentIndicator.position", cascade="all, delete-orphan")
    scorecards: Mapped[list[Scorecard]] = relationship(back_populates="assessment", cascade="all, delete-orphan",
                                                       order_by="Scorecard.rank")

    @property
    def total_weight(self) -> Decimal:
        return sum((i.weight for i in self.indicators), Decimal(0))


class AssessmentIndicator(db.Model):
    """An indicator of the year's system: computed by `method` (a registered automatic indicator,
    portal/oversight/indicators.py) or scored by finance (`method` = "manual" or not registered)."""

    __tablename__ = "work_assessment_indicators"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(sa.ForeignKey("work_assessments.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(sa.String(100))
    method: Mapped[str] = mapped_column(sa.String(40), default="manual")
    weight: Mapped[Decimal] = mapped_column(sa.Numeric(6, 2))
    guidance: Mapped[str] = mapped_column(sa.Text, default="")  # 评分标准

    assessment: Mapped[WorkAssessment] = relationship(back_populates="indicators")

    __table_args__ = (sa.CheckConstraint("weight > 0 AND weight <= 100", name="weight_range"),)


@register_record_type
class Scorecard(db.Model):
    """考核得分 of one department (or county finance bureau) in one year."""

    __tablename__ = "scorecards"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(sa.ForeignKey("work_assessments.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    subject_kind: Mapped[SubjectKind] = mapped_column(enum_column(SubjectKind))
    total: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    rank: Mapped[int | None]
    grade: Mapped[Grade | None] = mapped_column(enum_column(Grade))

    assessment: Mapped[WorkAssessment] = relationship(back_populates="scorecards")
    organisation: Mapped[Organisation] = relationship()
    lines: Mapped[list[ScorecardLine]] = relationship(back_populates="scorecard", cascade="all, delete-orphan",
                                                      order_by="ScorecardLine.position")

    __table_args__ = (sa.UniqueConstraint("assessment_id", "organisation_id"),
                      sa.CheckConstraint("total IS NULL OR (total >= 0 AND total <= 100)", name="total_range"))

    @property
    def year(self) -> int:
        return self.assessment.year


class ScorecardLine(db.Model):
    """One indicator on one scorecard: the facts behind it (numerator ÷ denominator) and its score."""

    __tablename__ = "scorecard_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    scorecard_id: Mapped[int] = mapped_column(sa.ForeignKey("scorecards.id", ondelete="CASCADE"), index=True)
    indicator_id: Mapped[int] = mapped_column(sa.ForeignKey("work_assessment_indicators.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    automatic: Mapped[bool] = mapped_column(default=True)
    numerator: Mapped[int | None]
    denominator: Mapped[int | None]  # 0: the indicator does not apply (dropped, the total rescaled)
    score: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))  # None on a manual line: not yet scored
    note: Mapped[str] = mapped_column(sa.Text, default="")  # finance's reason for a manual score

    scorecard: Mapped[Scorecard] = relationship(back_populates="lines")
    indicator: Mapped[AssessmentIndicator] = relationship()

    __table_args__ = (sa.UniqueConstraint("scorecard_id", "indicator_id"),)

    @property
    def applicable(self) -> bool:
        return not (self.automatic and self.denominator == 0)

    @property
    def rate(self) -> Decimal | None:
        if not self.automatic or not self.denominator:
            return None
        return Decimal(self.numerator or 0) / Decimal(self.denominator)


# ---- packages for the People's Congress (报送人大) ----------------------------------------------


class PackageKind(LabelledEnum):
    FINAL_ACCOUNTS = "final_accounts", "随决算报送：绩效自评与重点评价", "With the final accounts: evaluations"
    BUDGET_DRAFT = "budget_draft", "随预算草案报送：绩效目标", "With the budget draft: goals"


class PackageState(LabelledEnum):
    BUILDING = "building", "生成中", "Building", "tag-grey"
    READY = "ready", "待报送", "Ready", "tag-amber"
    SUBMITTED = "submitted", "已报送", "Submitted", "tag-green"
    FAILED = "failed", "生成失败", "Failed", "tag-red"


@register_record_type
class CongressPackage(Versioned, db.Model):
    """One version of a year's package: the zip (documents + index.xlsx + summary) and its
    submission (who, when)."""

    __tablename__ = "congress_packages"
    field_labels = {"state": _l("状态")}

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(sa.SmallInteger)
    kind: Mapped[PackageKind] = mapped_column(enum_column(PackageKind))
    version: Mapped[int] = mapped_column(sa.SmallInteger)
    state: Mapped[PackageState] = mapped_column(enum_column(PackageState), default=PackageState.BUILDING)
    built_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    built_at: Mapped[datetime | None]
    job_id: Mapped[int | None] = mapped_column(sa.ForeignKey("background_jobs.id", ondelete="SET NULL"))
    file_name: Mapped[str] = mapped_column(sa.String(200), default="")  # under INSTANCE_DIR/packages/
    sha256: Mapped[str] = mapped_column(sa.String(64), default="")
    size: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    manifest: Mapped[str] = mapped_column(sa.Text, default="{}")  # documents, counts, summary figures
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime | None]
    submission_note: Mapped[str] = mapped_column(sa.Text, default="")

    built_by: Mapped[User | None] = relationship(foreign_keys=[built_by_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])

    __table_args__ = (
        sa.UniqueConstraint("year", "kind", "version"),
        sa.CheckConstraint("state <> 'submitted' OR (submitted_at IS NOT NULL AND sha256 <> '')",
                           name="submitted_is_built"),
    )

    @property
    def contents(self) -> dict:
        return json.loads(self.manifest or "{}")

    @property
    def download_name(self) -> str:
        return f"{self.year}年度{'绩效目标' if self.kind == PackageKind.BUDGET_DRAFT else '绩效评价'}报送人大材料（第{self.version}版）.zip"
