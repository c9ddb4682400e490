# Over 400 lines: projects, goals, indicators, monitoring reports and evaluations share enums and relationships.
"""Performance data (绩效数据): projects, goals with indicator tables, evaluations.

Amounts are yuan in exact decimals (shown in 万元 where officials use it).
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Organisation
from portal.core.db import Money, TimestampMixin, enum_column
from portal.core.enums import LabelledEnum
from portal.core.registry import register_record_type
from portal.core.versions import Versioned
from portal.extensions import db


class ProjectKind(LabelledEnum):
    PROJECT = "project", "项目支出", "Project expenditure"
    POLICY = "policy", "政策", "Policy"
    UNIT_OVERALL = "unit_overall", "部门整体支出", "Department overall expenditure"


class BudgetType(LabelledEnum):  # 四本预算
    GENERAL = "general", "一般公共预算", "General public budget"
    FUND = "fund", "政府性基金预算", "Government fund budget"
    STATE_CAPITAL = "state_capital", "国有资本经营预算", "State capital operation budget"
    SOCIAL_INSURANCE = "social_insurance", "社会保险基金预算", "Social insurance fund budget"


class ProjectStatus(LabelledEnum):
    ACTIVE = "active", "执行中", "Active", "tag-green"
    STOPPED = "stopped", "已终止", "Stopped", "tag-grey"  # 终止: money withdrawn after a warning


class Grade(LabelledEnum):
    """Half-open bands: 优 [90, 100], 良 [80, 90), 中 [60, 80), 差 [0, 60)."""
    EXCELLENT = "excellent", "优", "Excellent", "tag-green"
    GOOD = "good", "良", "Good", "tag-blue"
    FAIR = "fair", "中", "Fair", "tag-amber"
    POOR = "poor", "差", "Poor", "tag-red"

    @classmethod
    def for_score(cls, score) -> Grade:
        """Half-open bands, each lower bound included: 优 [90, 100], 良 [80, 90), 中 [60, 80), 差 [0, 60)."""
        score = Decimal(str(score))
        if score >= 90:
            return cls.EXCELLENT
        if score >= 80:
            return cls.GOOD
        if score >= 60:
            return cls.FAIR
        return cls.POOR


class GoalState(LabelledEnum):
    DRAFT = "draft", "填报中", "Draft", "tag-grey"
    SUBMITTED = "submitted", "待审核", "Submitted", "tag-amber"
    RETURNED = "returned", "退回修改", "Returned", "tag-red"
    APPROVED = "approved", "已批复", "Approved", "tag-green"
    SUPERSEDED = "superseded", "已被新版本替代", "Superseded", "tag-grey"


class Level1(LabelledEnum):  # 一级指标
    OUTPUT = "output", "产出指标", "Output"
    BENEFIT = "benefit", "效益指标", "Benefit"
    SATISFACTION = "satisfaction", "满意度指标", "Satisfaction"
    COST = "cost", "成本指标", "Cost"


class Level2(LabelledEnum):  # 二级指标
    QUANTITY = "quantity", "数量指标", "Quantity"
    QUALITY = "quality", "质量指标", "Quality"
    TIMELINESS = "timeliness", "时效指标", "Timeliness"
    OUTPUT_COST = "output_cost", "成本指标", "Cost"
    ECONOMIC = "economic", "经济效益指标", "Economic benefit"
    SOCIAL = "social", "社会效益指标", "Social benefit"
    ECOLOGICAL = "ecological", "生态效益指标", "Ecological benefit"
    SUSTAINABLE = "sustainable", "可持续影响指标", "Sustainable impact"
    SERVICE_SATISFACTION = "service_satisfaction", "服务对象满意度指标", "Service-recipient satisfaction"
    ECONOMIC_COST = "economic_cost", "经济成本指标", "Economic cost"
    SOCIAL_COST = "social_cost", "社会成本指标", "Social cost"
    ECOLOGICAL_COST = "ecological_cost", "生态环境成本指标", "Ecological cost"


# The valid level-1 → level-2 pairs.
LEVEL2_OF = {
    Level1.OUTPUT: (Level2.QUANTITY, Level2.QUALITY, Level2.TIMELINESS, Level2.OUTPUT_COST),
    Level1.BENEFIT: (Level2.ECONOMIC, Level2.SOCIAL, Level2.ECOLOGICAL, Level2.SUSTAINABLE),
    Level1.SATISFACTION: (Level2.SERVICE_SATISFACTION,),
    Level1.COST: (Level2.ECONOMIC_COST, Level2.SOCIAL_COST, Level2.ECOLOGICAL_COST),
}


class Operator(LabelledEnum):
    GE = "ge", "≥", "≥"
    LE = "le", "≤", "≤"
    EQ = "eq", "=", "="
    GT = "gt", ">", ">"
    LT = "lt", "<", "<"
    QUALITATIVE = "qualitative", "定性", "Qualitative"


class EvaluationMode(LabelledEnum):
    SELF = "self", "单位自评", "Self-evaluation"
    DEPARTMENT = "department", "部门评价", "Department evaluation"
    FINANCE = "finance", "财政评价", "Finance (key) evaluation"


class EvaluationState(LabelledEnum):
    DRAFT = "draft", "评价中", "In progress", "tag-amber"
    COMPLETED = "completed", "已完成", "Completed", "tag-green"


@register_record_type
class Project(Versioned, TimestampMixin, db.Model):
    __tablename__ = "projects"
    # how a stale-save message names the fields another user changed
    field_labels = {"code": _l("项目编码"), "name": _l("项目名称"), "year": _l("年度"), "kind": _l("项目类型"),
                    "budget_type": _l("预算类型"), "unit_id": _l("责任单位"), "initial_budget": _l("年初预算数"),
                    "annual_budget": _l("全年预算数"), "executed": _l("全年执行数"), "description": _l("项目概况"),
                    "status": _l("状态")}

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40))  # code from the budget system
    name: Mapped[str] = mapped_column(sa.String(200))
    year: Mapped[int] = mapped_column(sa.SmallInteger, index=True)  # 年度
    kind: Mapped[ProjectKind] = mapped_column(enum_column(ProjectKind))
    budget_type: Mapped[BudgetType] = mapped_column(enum_column(BudgetType))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)  # 责任单位
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)  # 主管部门
    initial_budget: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))  # 年初预算数
    annual_budget: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))  # 全年预算数
    executed: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))  # 全年执行数
    status: Mapped[ProjectStatus] = mapped_column(enum_column(ProjectStatus), default=ProjectStatus.ACTIVE)
    stop_reason: Mapped[str] = mapped_column(sa.Text, default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")

    unit: Mapped[Organisation] = relationship(foreign_keys=[unit_id])
    department: Mapped[Organisation] = relationship(foreign_keys=[department_id])
    goals: Mapped[list[PerformanceGoal]] = relationship(back_populates="project", order_by="PerformanceGoal.version",
                                                        cascade="all, delete-orphan")
    evaluations: Mapped[list[Evaluation]] = relationship(back_populates="project", order_by="Evaluation.id",
                                                         cascade="all, delete-orphan")

    __table_args__ = (
        sa.UniqueConstraint("code", "year"),
        sa.Index("ix_projects_year_department", "year", "department_id"),
        sa.CheckConstraint("initial_budget >= 0 AND annual_budget >= 0 AND executed >= 0", name="amounts_non_negative"),
    )

    @property
    def execution_rate(self) -> Decimal | None:
        """预算执行率 = 全年执行数 ÷ 全年预算数."""
        if not self.annual_budget:
            return None
        return self.executed / self.annual_budget

    @property
    def current_goal(self) -> PerformanceGoal | None:
        return next((g for g in reversed(self.goals) if g.state != GoalState.SUPERSEDED), None)

    def __str__(self) -> str:
        return self.name


@register_record_type
class PerformanceGoal(Versioned, TimestampMixin, db.Model):
    """绩效目标: one per project-year; an approved goal is locked and a change is a new version."""

    __tablename__ = "performance_goals"
    field_labels = {"overall_goal": _l("总体目标"), "order": _l("指标顺序"), "indicators": _l("指标表"),
                    "state": _l("状态"), "review_grade": _l("审核等级"), "review_comment": _l("审核意见")}

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    state: Mapped[GoalState] = mapped_column(enum_column(GoalState), default=GoalState.DRAFT, index=True)
    overall_goal: Mapped[str] = mapped_column(sa.Text, default="")  # 总体目标
    review_grade: Mapped[Grade | None] = mapped_column(enum_column(Grade))  # 目标审核等级
    review_comment: Mapped[str] = mapped_column(sa.Text, default="")
    change_reason: Mapped[str] = mapped_column(sa.Text, default="")  # why a new version after approval
    submitted_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]

    project: Mapped[Project] = relationship(back_populates="goals")
    indicators: Mapped[list[Indicator]] = relationship(back_populates="goal", order_by="Indicator.position",
                                                       cascade="all, delete-orphan")

    __table_args__ = (sa.UniqueConstraint("project_id", "version"),)

    @property
    def locked(self) -> bool:
        return self.state in (GoalState.APPROVED, GoalState.SUPERSEDED, GoalState.SUBMITTED)


@register_record_type
class Indicator(Versioned, db.Model):
    """A row of the indicator table (绩效指标表)."""

    __tablename__ = "indicators"
    field_labels = {"level1": _l("一级指标"), "level2": _l("二级指标"), "name": _l("三级指标"),
                    "operator": _l("运算符号"), "target_value": _l("指标值"), "target_text": _l("指标值"),
                    "unit": _l("度量单位"), "weight": _l("分值")}

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(sa.ForeignKey("performance_goals.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    level1: Mapped[Level1] = mapped_column(enum_column(Level1))
    level2: Mapped[Level2] = mapped_column(enum_column(Level2))
    name: Mapped[str] = mapped_column(sa.String(200))  # 三级指标
    operator: Mapped[Operator] = mapped_column(enum_column(Operator))
    target_value: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 4))  # 指标值 (quantitative)
    target_text: Mapped[str] = mapped_column(sa.String(200), default="")  # 指标值 (qualitative, e.g. 达到预期)
    unit: Mapped[str] = mapped_column(sa.String(20), default="")  # 度量单位
    weight: Mapped[Decimal] = mapped_column(sa.Numeric(6, 2), default=Decimal(0))  # 分值

    goal: Mapped[PerformanceGoal] = relationship(back_populates="indicators")

    @property
    def is_qualitative(self) -> bool:
        return self.operator == Operator.QUALITATIVE

    @property
    def target_display(self) -> str:
        if self.is_qualitative:
            return self.target_text
        value = self.target_value.normalize() if self.target_value is not None else ""
        return f"{self.operator.label}{value:f}{self.unit}" if value != "" else ""


@register_record_type
class Evaluation(Versioned, TimestampMixin, db.Model):
    """绩效评价: a score out of 100 and its grade, problems found and suggestions."""

    __tablename__ = "evaluations"
    field_labels = {"state": _l("状态"), "score": _l("总分"), "grade": _l("评价等级"),
                    "conclusion": _l("综合评价结论"), "suggestions": _l("建议")}  # lines are named by their label

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    mode: Mapped[EvaluationMode] = mapped_column(enum_column(EvaluationMode), index=True)
    year: Mapped[int] = mapped_column(sa.SmallInteger, index=True)  # the year evaluated
    state: Mapped[EvaluationState] = mapped_column(enum_column(EvaluationState), default=EvaluationState.DRAFT)
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"), index=True)  # 第三方机构
    score: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    grade: Mapped[Grade | None] = mapped_column(enum_column(Grade), index=True)
    conclusion: Mapped[str] = mapped_column(sa.Text, default="")  # 综合评价结论
    suggestions: Mapped[str] = mapped_column(sa.Text, default="")  # 建议
    completed_at: Mapped[datetime | None]

    project: Mapped[Project] = relationship(back_populates="evaluations")
    agency: Mapped[Organisation | None] = relationship(foreign_keys=[agency_id])
    findings: Mapped[list[EvaluationFinding]] = relationship(back_populates="evaluation", order_by="EvaluationFinding.id",
                                                             cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score_range"),
        sa.CheckConstraint("state <> 'completed' OR (score IS NOT NULL AND grade IS NOT NULL)", name="completed_is_graded"),
    )


@register_record_type
class EvaluationFinding(db.Model):
    """A problem an evaluation found (存在问题), with its suggestion; feeds the problem ledger."""

    __tablename__ = "evaluation_findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(sa.ForeignKey("evaluations.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(sa.String(60), default="")  # 问题类别
    description: Mapped[str] = mapped_column(sa.Text)
    amount: Mapped[Decimal | None] = mapped_column(Money)  # 问题金额 (yuan)
    suggestion: Mapped[str] = mapped_column(sa.Text, default="")

    evaluation: Mapped[Evaluation] = relationship(back_populates="findings")


# ---- added by the performance module: settings, monitoring, library, evaluation lines ----------

class StandardSource(LabelledEnum):  # 指标值确定依据
    PLAN = "plan", "计划标准", "Plan"
    HISTORY = "history", "历史标准", "Historical"
    INDUSTRY = "industry", "行业标准", "Industry"
    BUDGET = "budget", "预算支出标准", "Budget spending standard"
    OTHER = "other", "其他", "Other"


class QualitativeTier(LabelledEnum):  # 定性指标完成情况
    ACHIEVED = "achieved", "达成", "Achieved", "tag-green"
    PARTIAL = "partial", "部分达成", "Partly achieved", "tag-amber"
    MISSED = "missed", "未达成", "Not achieved", "tag-red"


class PerformanceSetting(Versioned, db.Model):
    """Administrator-configurable rules stored as JSON (thresholds, framework weights, result rules)."""

    __tablename__ = "performance_settings"
    field_labels = {"red_below": _l("红灯阈值"), "green_from": _l("绿灯起点"), "blue_from": _l("蓝灯起点"),
                    "lag_points": _l("执行滞后预警"), "decision": _l("决策"), "process": _l("过程"),
                    "output": _l("产出"), "benefit": _l("效益")}

    key: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text, default="{}")
    updated_at: Mapped[datetime | None]

    @property
    def id(self) -> str:  # the audit log and the stale-save message name a record by its id
        return self.key


@register_record_type
class MonitoringReport(TimestampMixin, db.Model):
    """A checkpoint report (运行监控): execution so far and each indicator's progress."""

    __tablename__ = "monitoring_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    goal_id: Mapped[int | None] = mapped_column(sa.ForeignKey("performance_goals.id", ondelete="SET NULL"))
    month: Mapped[int] = mapped_column(sa.SmallInteger)  # checkpoint: January–month
    executed: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))  # 执行数 so far
    note: Mapped[str] = mapped_column(sa.Text, default="")
    # Derived from values + thresholds; recomputed whenever either changes (see operations).
    lag_warning: Mapped[bool] = mapped_column(default=False)
    red_count: Mapped[int] = mapped_column(default=0)
    warning: Mapped[bool] = mapped_column(default=False, index=True)
    reported_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    project: Mapped[Project] = relationship()
    values: Mapped[list[MonitoringValue]] = relationship(back_populates="report", cascade="all, delete-orphan",
                                                         order_by="MonitoringValue.id")

    @property
    def over_budget(self) -> bool:
        """执行数超预算: computed from the execution and the project's budget, never stored."""
        from portal.performance.monitoring import over_budget

        return over_budget(self.executed, self.project.annual_budget)

    __table_args__ = (
        sa.UniqueConstraint("project_id", "month"),
        sa.CheckConstraint("month >= 1 AND month <= 12", name="month_range"),
        sa.CheckConstraint("executed >= 0", name="executed_non_negative"),
    )


class MonitoringValue(db.Model):
    __tablename__ = "monitoring_values"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("monitoring_reports.id", ondelete="CASCADE"), index=True)
    indicator_id: Mapped[int] = mapped_column(sa.ForeignKey("indicators.id", ondelete="CASCADE"), index=True)
    value_so_far: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 4))
    expected: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 4))  # 全年预计完成值
    tier: Mapped[QualitativeTier | None] = mapped_column(enum_column(QualitativeTier))
    reason: Mapped[str] = mapped_column(sa.Text, default="")  # 偏差原因
    light: Mapped[str] = mapped_column(sa.String(10), default="none")

    report: Mapped[MonitoringReport] = relationship(back_populates="values")
    indicator: Mapped[Indicator] = relationship()


@register_record_type
class LibraryIndicator(Versioned, db.Model):
    """指标库: a reusable indicator by sector (行业) and spending direction (支出方向)."""

    __tablename__ = "indicator_library"
    field_labels = {"sector": _l("行业"), "direction": _l("支出方向"), "name": _l("三级指标"),
                    "suggested_value": _l("建议指标值"), "unit": _l("度量单位")}

    id: Mapped[int] = mapped_column(primary_key=True)
    sector: Mapped[str] = mapped_column(sa.String(60), index=True)
    direction: Mapped[str] = mapped_column(sa.String(100), default="")
    level1: Mapped[Level1] = mapped_column(enum_column(Level1))
    level2: Mapped[Level2] = mapped_column(enum_column(Level2))
    name: Mapped[str] = mapped_column(sa.String(200))
    operator: Mapped[Operator] = mapped_column(enum_column(Operator))
    unit: Mapped[str] = mapped_column(sa.String(20), default="")
    suggested_value: Mapped[str] = mapped_column(sa.String(100), default="")
    source: Mapped[StandardSource] = mapped_column(enum_column(StandardSource), default=StandardSource.PLAN)

    __table_args__ = (sa.UniqueConstraint("sector", "direction", "name"),)


class EvaluationLine(db.Model):
    """A scored line: for a self-evaluation one goal indicator (or the execution-rate line); for
    department and finance evaluations one part of the common framework (决策/过程/产出/效益)."""

    __tablename__ = "evaluation_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(sa.ForeignKey("evaluations.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    indicator_id: Mapped[int | None] = mapped_column(sa.ForeignKey("indicators.id", ondelete="SET NULL"))
    part: Mapped[str] = mapped_column(sa.String(20), default="")  # execution/output/benefit/... or framework part
    label: Mapped[str] = mapped_column(sa.String(200), default="")
    operator: Mapped[Operator | None] = mapped_column(enum_column(Operator))
    target: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 4))
    target_text: Mapped[str] = mapped_column(sa.String(200), default="")
    actual: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 4))  # 实际完成值
    tier: Mapped[QualitativeTier | None] = mapped_column(enum_column(QualitativeTier))
    applicable: Mapped[bool] = mapped_column(default=True)
    weight: Mapped[Decimal] = mapped_column(sa.Numeric(6, 2), default=Decimal(0))  # 分值
    score: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))  # 得分
    reason: Mapped[str] = mapped_column(sa.Text, default="")  # 偏差原因分析及改进措施

    evaluation: Mapped[Evaluation] = relationship(backref=sa.orm.backref(
        "lines", order_by="EvaluationLine.position", cascade="all, delete-orphan"))
    indicator: Mapped[Indicator | None] = relationship()


# Indexes that keep the project list fast at province scale (100,000 projects).
sa.Index("ix_projects_year_code", Project.year.desc(), Project.code)  # the list's default order
sa.Index("ix_projects_year_budget", Project.year, Project.annual_budget)
sa.Index("ix_projects_budget", Project.annual_budget, Project.id)
sa.Index("ix_projects_unit_year", Project.unit_id, Project.year.desc(), Project.code)
sa.Index("ix_evaluations_project_state", Evaluation.project_id, Evaluation.state)
