"""Joint conference (联席会议): meetings, resolutions tracked as actions (议定事项), the shared
library (共享资料) with its access log, and the two bureaus' annual plans (计划共商)."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Organisation, User
from portal.core import clock
from portal.core.db import TimestampMixin, enum_column
from portal.core.enums import LabelledEnum
from portal.core.registry import register_record_type
from portal.core.versions import Versioned
from portal.extensions import db

meeting_attendees = sa.Table(
    "conference_meeting_attendees", db.metadata,
    sa.Column("meeting_id", sa.ForeignKey("conference_meetings.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)

document_projects = sa.Table(
    "library_document_projects", db.metadata,
    sa.Column("document_id", sa.ForeignKey("library_documents.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("project_id", sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
)

document_units = sa.Table(
    "library_document_units", db.metadata,
    sa.Column("document_id", sa.ForeignKey("library_documents.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("organisation_id", sa.ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
)


@register_record_type
class Meeting(Versioned, TimestampMixin, db.Model):
    __tablename__ = "conference_meetings"
    field_labels = {"held_on": _l("会议日期"), "place": _l("会议地点"), "convening_org_id": _l("召集单位"),
                    "attendee_ids": _l("出席人员"), "agenda": _l("会议议题"), "minutes": _l("会议纪要"),
                    "distribution": _l("分送"), "attachments": _l("附件")}

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(sa.SmallInteger, index=True)
    number: Mapped[int]  # 第N次 within the year
    held_on: Mapped[date]
    place: Mapped[str] = mapped_column(sa.String(200), default="")
    convening_org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))  # 召集单位
    agenda: Mapped[str] = mapped_column(sa.Text, default="")  # one agenda item per line (议题)
    minutes: Mapped[str] = mapped_column(sa.Text, default="")  # 纪要, Markdown
    distribution: Mapped[str] = mapped_column(sa.String(500), default="")  # 分送
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    convening_org: Mapped[Organisation] = relationship(foreign_keys=[convening_org_id])
    attendees: Mapped[list[User]] = relationship(secondary=meeting_attendees, order_by="User.id")
    actions: Mapped[list[Action]] = relationship(back_populates="meeting", order_by="Action.position",
                                                 cascade="all, delete-orphan")

    __table_args__ = (
        sa.UniqueConstraint("year", "number"),
        sa.CheckConstraint("number > 0", name="number_positive"),
    )

    @property
    def title(self) -> str:
        return f"{self.year}年第{self.number}次联席会议"

    @property
    def doc_number(self) -> str:
        return f"〔{self.year}〕第{self.number}次"

    @property
    def agenda_items(self) -> list[str]:
        return [line.strip() for line in self.agenda.splitlines() if line.strip()]

    def __str__(self) -> str:
        return self.title


class ActionState(LabelledEnum):
    OPEN = "open", "未开始", "Open", "tag-grey"
    IN_PROGRESS = "in_progress", "推进中", "In progress", "tag-blue"
    DONE = "done", "已完成", "Done", "tag-green"
    DROPPED = "dropped", "已撤销", "Dropped", "tag-amber"


OPEN_STATES = (ActionState.OPEN, ActionState.IN_PROGRESS)


@register_record_type
class Action(Versioned, TimestampMixin, db.Model):
    """A resolution (议定事项) tracked to completion."""

    __tablename__ = "conference_actions"
    field_labels = {"text": _l("议定事项"), "owner_org_id": _l("牵头单位"), "owner_user_id": _l("责任人"),
                    "due_date": _l("完成时限"), "state": _l("状态"), "note": _l("进展情况"), "links": _l("关联记录")}

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("conference_meetings.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=1)
    text: Mapped[str] = mapped_column(sa.Text)
    owner_org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)  # 牵头单位
    owner_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))  # 责任人
    due_date: Mapped[date | None] = mapped_column(index=True)
    state: Mapped[ActionState] = mapped_column(enum_column(ActionState), default=ActionState.OPEN, index=True)
    drop_reason: Mapped[str] = mapped_column(sa.Text, default="")
    done_at: Mapped[datetime | None]

    meeting: Mapped[Meeting] = relationship(back_populates="actions")
    owner_org: Mapped[Organisation] = relationship(foreign_keys=[owner_org_id])
    owner_user: Mapped[User | None] = relationship(foreign_keys=[owner_user_id])
    notes: Mapped[list[ActionNote]] = relationship(back_populates="action", order_by="ActionNote.id",
                                                   cascade="all, delete-orphan")
    links: Mapped[list[ActionLink]] = relationship(back_populates="action", order_by="ActionLink.id",
                                                   cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint("state <> 'dropped' OR drop_reason <> ''", name="dropped_has_reason"),
        sa.CheckConstraint("state <> 'done' OR done_at IS NOT NULL", name="done_has_time"),
    )

    def is_overdue(self, today: date | None = None) -> bool:
        """逾期: past its due date and still open — derived, never stored."""
        today = today or clock.today()
        return self.state in OPEN_STATES and self.due_date is not None and self.due_date < today

    @property
    def overdue(self) -> bool:
        return self.is_overdue()

    def __str__(self) -> str:
        text = self.text if len(self.text) <= 40 else self.text[:40] + "…"
        return f"{self.meeting.title}议定事项{self.position}：{text}"


@register_record_type
class ActionNote(db.Model):
    """A progress note (进展情况)."""

    __tablename__ = "conference_action_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(sa.ForeignKey("conference_actions.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    action: Mapped[Action] = relationship(back_populates="notes")
    author: Mapped[User | None] = relationship()


class ActionLink(db.Model):
    """A link from an action to any registered record (letter, review, problem, project…)."""

    __tablename__ = "conference_action_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(sa.ForeignKey("conference_actions.id", ondelete="CASCADE"), index=True)
    record_type: Mapped[str] = mapped_column(sa.String(64))
    record_id: Mapped[int]

    action: Mapped[Action] = relationship(back_populates="links")

    __table_args__ = (
        sa.UniqueConstraint("action_id", "record_type", "record_id"),
        sa.Index("ix_conference_action_links_record", "record_type", "record_id"),
    )

    def resolve(self):
        from portal.core.registry import RECORD_TYPES

        model = RECORD_TYPES.get(self.record_type)
        return db.session.get(model, self.record_id) if model is not None else None


class DocumentKind(LabelledEnum):
    AUDIT_REPORT = "audit_report", "审计报告", "Audit report"
    AUDIT_DECISION = "audit_decision", "审计决定", "Audit decision"
    EVALUATION_RESULT = "evaluation_result", "评价结果", "Evaluation result"
    PLAN = "plan", "工作计划", "Plan"
    OTHER = "other", "其他", "Other"


@register_record_type
class SharedDocument(Versioned, TimestampMixin, db.Model):
    """共享资料: what one bureau shares with the other."""

    __tablename__ = "library_documents"
    field_labels = {"title": _l("资料标题"), "kind": _l("资料类型"), "year": _l("年度"), "note": _l("说明"),
                    "project_ids": _l("相关项目"), "unit_ids": _l("相关单位")}

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    kind: Mapped[DocumentKind] = mapped_column(enum_column(DocumentKind), index=True)
    year: Mapped[int] = mapped_column(sa.SmallInteger, index=True)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    shared_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    shared_by_org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)

    shared_by: Mapped[User | None] = relationship(foreign_keys=[shared_by_id])
    shared_by_org: Mapped[Organisation] = relationship(foreign_keys=[shared_by_org_id])
    projects = relationship("Project", secondary=document_projects, order_by="Project.id")
    units: Mapped[list[Organisation]] = relationship(secondary=document_units, order_by="Organisation.id")

    def __str__(self) -> str:
        return self.title


class LibraryAccess(db.Model):
    """Who shared and who opened what (资料访问记录)."""

    __tablename__ = "library_access_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("library_documents.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    event: Mapped[str] = mapped_column(sa.String(20))  # shared / opened
    at: Mapped[datetime] = mapped_column(default=clock.now, index=True)

    user: Mapped[User | None] = relationship()

    __table_args__ = (sa.CheckConstraint("event IN ('shared', 'opened')", name="event_known"),)


class PlanBureau(LabelledEnum):
    FINANCE = "finance", "财政评价计划", "Finance evaluation plan", "tag-red"
    AUDIT = "audit", "审计项目计划", "Audit plan", "tag-blue"


@register_record_type
class PlanItem(Versioned, TimestampMixin, db.Model):
    """One line of a bureau's annual plan (计划共商): a project, or a unit, to evaluate / audit."""

    __tablename__ = "conference_plan_items"
    field_labels = {"title": _l("计划事项"), "project_id": _l("项目"), "unit_id": _l("单位"), "note": _l("备注")}

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(sa.SmallInteger, index=True)
    bureau: Mapped[PlanBureau] = mapped_column(enum_column(PlanBureau))
    title: Mapped[str] = mapped_column(sa.String(300))
    project_id: Mapped[int | None] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    project = relationship("Project")
    unit: Mapped[Organisation | None] = relationship(foreign_keys=[unit_id])

    __table_args__ = (
        sa.CheckConstraint("project_id IS NOT NULL OR unit_id IS NOT NULL", name="has_target"),
    )

    @property
    def target_unit_id(self) -> int | None:
        """The unit the work lands on: the plan's unit, else the project's unit."""
        if self.unit_id is not None:
            return self.unit_id
        return self.project.unit_id if self.project is not None else None

    def __str__(self) -> str:
        return self.title
