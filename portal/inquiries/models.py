"""Letter inquiries (函询): numbered official letters between the finance and audit bureaus.

A letter (函) goes draft → pending_signoff → sent (number assigned) → acknowledged → answered →
closed; each requested item (函询事项) gets its own outcome. "Overdue" is derived from the
deadline and the state (see `Letter.is_overdue` and `overdue_clause`), never stored.
"""
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


class LetterState(LabelledEnum):
    DRAFT = "draft", "草稿", "Draft", "tag-grey"
    PENDING_SIGNOFF = "pending_signoff", "待签发", "Awaiting sign-off", "tag-amber"
    SENT = "sent", "已发送", "Sent", "tag-blue"
    ACKNOWLEDGED = "acknowledged", "已签收", "Acknowledged", "tag-blue"
    ANSWERED = "answered", "已答复", "Answered", "tag-green"
    CLOSED = "closed", "办结", "Closed", "tag-grey"
    WITHDRAWN = "withdrawn", "已撤回", "Withdrawn", "tag-grey"


# States in which the addressee still owes an answer (and the letter can be overdue).
AWAITING_ANSWER = (LetterState.SENT, LetterState.ACKNOWLEDGED)
# States the addressee and the observers can see (a draft is the sender's business).
ISSUED = (LetterState.SENT, LetterState.ACKNOWLEDGED, LetterState.ANSWERED, LetterState.CLOSED,
          LetterState.WITHDRAWN)


class ReplyState(LabelledEnum):
    """A reply (复函) is drafted by the addressee's officer and signed off (签发) by its signer
    before the asking bureau sees it, as the letter itself was (policies.REPLY_MACHINE)."""
    DRAFT = "draft", "草稿", "Draft", "tag-grey"
    PENDING_SIGNOFF = "pending_signoff", "待签发", "Awaiting sign-off", "tag-amber"
    SENT = "sent", "已发出", "Sent", "tag-green"


UNSENT_REPLY = (ReplyState.DRAFT, ReplyState.PENDING_SIGNOFF)


class Urgency(LabelledEnum):  # 紧急程度
    VERY_URGENT = "very_urgent", "特急", "Extra urgent", "tag-red"
    URGENT = "urgent", "加急", "Urgent", "tag-amber"
    NORMAL = "normal", "平件", "Normal", "tag-grey"


class Marking(LabelledEnum):  # 公开属性; 涉密 material is refused, never stored
    INTERNAL = "internal", "内部", "Internal", "tag-amber"
    OPEN = "open", "公开", "Open", "tag-green"


class Outcome(LabelledEnum):  # 答复结果
    PROVIDED = "provided", "已提供", "Provided", "tag-green"
    PARTIAL = "partial", "部分提供", "Partly provided", "tag-amber"
    NOT_HELD = "not_held", "无此资料", "Not held", "tag-grey"
    DECLINED = "declined", "不予提供", "Declined", "tag-red"


letter_projects = sa.Table(
    "inquiry_letter_projects",
    db.metadata,
    sa.Column("letter_id", sa.ForeignKey("inquiry_letters.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("project_id", sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
)


class IssuingCode(Versioned, TimestampMixin, db.Model):
    """The issuing body's code (发文机关代字, e.g. 临财绩函) per organisation, set by the admin."""

    __tablename__ = "inquiry_issuing_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"), unique=True)
    code: Mapped[str] = mapped_column(sa.String(20))
    header: Mapped[str] = mapped_column(sa.String(100), default="")  # 发文机关标志, e.g. 临州市财政局

    organisation: Mapped[Organisation] = relationship()

    field_labels = {"code": _l("发文机关代字"), "header": _l("发文机关标志")}


class Holiday(db.Model):
    """A day that differs from the Monday–Friday rule: a public holiday (放假) or a weekend day
    worked in exchange (调休上班)."""

    __tablename__ = "inquiry_holidays"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(unique=True)
    is_workday: Mapped[bool] = mapped_column(default=False)
    name: Mapped[str] = mapped_column(sa.String(40), default="")


@register_record_type
class Letter(Versioned, TimestampMixin, db.Model):
    __tablename__ = "inquiry_letters"
    # names of the fields in "changed by whom" messages (portal.core.versions)
    field_labels = {"title": _l("标题"), "addressee_org_id": _l("主送机关"), "urgency": _l("紧急程度"),
                    "marking": _l("公开属性"), "body": _l("正文"), "copies": _l("抄送"),
                    "deadline": _l("答复期限"), "deadline_workdays": _l("答复工作日数"),
                    "contact_person": _l("联系人"), "contact_phone": _l("联系电话"), "items": _l("函询事项"),
                    "project_ids": _l("相关项目"), "state": _l("状态"), "attachments": _l("附件")}

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[LetterState] = mapped_column(enum_column(LetterState), default=LetterState.DRAFT, index=True)
    sender_org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    addressee_org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    copies: Mapped[str] = mapped_column(sa.String(300), default="")  # 抄送
    title: Mapped[str] = mapped_column(sa.String(200))
    urgency: Mapped[Urgency] = mapped_column(enum_column(Urgency), default=Urgency.NORMAL)
    marking: Mapped[Marking] = mapped_column(enum_column(Marking), default=Marking.INTERNAL)
    body: Mapped[str] = mapped_column(sa.Text, default="")
    deadline: Mapped[date | None] = mapped_column(index=True)  # 答复期限
    deadline_workdays: Mapped[int | None]  # "N working days", counted from the day it is sent
    contact_person: Mapped[str] = mapped_column(sa.String(60), default="")
    contact_phone: Mapped[str] = mapped_column(sa.String(40), default="")
    drafter_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    signer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))  # 签发人
    number_code: Mapped[str | None] = mapped_column(sa.String(20))
    number_year: Mapped[int | None]
    number_seq: Mapped[int | None]
    sent_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    answered_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    sender_org: Mapped[Organisation] = relationship(foreign_keys=[sender_org_id])
    addressee_org: Mapped[Organisation] = relationship(foreign_keys=[addressee_org_id])
    drafter: Mapped[User] = relationship(foreign_keys=[drafter_id])
    signer: Mapped[User | None] = relationship(foreign_keys=[signer_id])
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    items: Mapped[list[LetterItem]] = relationship(back_populates="letter", order_by="LetterItem.position",
                                                   cascade="all, delete-orphan")
    replies: Mapped[list[LetterReply]] = relationship(back_populates="letter", order_by="LetterReply.id",
                                                      cascade="all, delete-orphan")
    extensions: Mapped[list[DeadlineExtension]] = relationship(back_populates="letter",
                                                               order_by="DeadlineExtension.id",
                                                               cascade="all, delete-orphan")
    projects = relationship("Project", secondary=letter_projects, order_by="Project.code")

    __table_args__ = (
        sa.UniqueConstraint("number_code", "number_year", "number_seq", name="uq_inquiry_letters_number"),
        sa.CheckConstraint("sender_org_id <> addressee_org_id", name="two_parties"),
        sa.CheckConstraint("state IN ('draft', 'pending_signoff') OR number_seq IS NOT NULL",
                           name="issued_has_number"),
        sa.CheckConstraint("deadline_workdays IS NULL OR deadline_workdays BETWEEN 1 AND 60",
                           name="workdays_range"),
    )

    @property
    def doc_number(self) -> str:
        """发文字号: 临财绩函〔2026〕3号 (hexagonal brackets, no leading zeros)."""
        if self.number_seq is None:
            return ""
        return f"{self.number_code}〔{self.number_year}〕{self.number_seq}号"

    @property
    def is_overdue(self) -> bool:
        return self.state in AWAITING_ANSWER and self.deadline is not None and self.deadline < clock.today()

    @property
    def open_items(self) -> list[LetterItem]:
        return [i for i in self.items if i.outcome is None]

    def __str__(self) -> str:
        return self.doc_number or self.title


def overdue_clause(today: date | None = None):
    """SQL form of `Letter.is_overdue` (for filters and "overdue first" ordering)."""
    today = today or clock.today()
    return sa.and_(Letter.state.in_(AWAITING_ANSWER), Letter.deadline.is_not(None), Letter.deadline < today)


@register_record_type
class LetterItem(db.Model):
    """函询事项: one requested item and its own outcome."""

    __tablename__ = "inquiry_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(sa.ForeignKey("inquiry_letters.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    description: Mapped[str] = mapped_column(sa.Text)
    outcome: Mapped[Outcome | None] = mapped_column(enum_column(Outcome))
    reason: Mapped[str] = mapped_column(sa.Text, default="")  # answer note; required when declined
    answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    answered_at: Mapped[datetime | None]
    reply_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inquiry_replies.id", ondelete="SET NULL"))
    follow_ups: Mapped[int] = mapped_column(default=0)

    letter: Mapped[Letter] = relationship(back_populates="items")
    answered_by: Mapped[User | None] = relationship()
    followups: Mapped[list[FollowUp]] = relationship(back_populates="item", order_by="FollowUp.id",
                                                     cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint("outcome IS NULL OR outcome <> 'declined' OR reason <> ''", name="declined_has_reason"),
    )


@register_record_type
class LetterReply(db.Model):
    """One part of the answer (复函); several parts may come in. Its answers (`ReplyAnswer`) reach
    the items, and the asking bureau, only when the reply is signed off (state `sent`; replies
    from before the sign-off step are `sent` by the column's default)."""

    __tablename__ = "inquiry_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(sa.ForeignKey("inquiry_letters.id", ondelete="CASCADE"), index=True)
    state: Mapped[ReplyState] = mapped_column(enum_column(ReplyState), default=ReplyState.DRAFT,
                                              server_default=ReplyState.SENT.value)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    signer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))  # 签发人
    signed_at: Mapped[datetime | None]

    letter: Mapped[Letter] = relationship(back_populates="replies")
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    signer: Mapped[User | None] = relationship(foreign_keys=[signer_id])
    items: Mapped[list[LetterItem]] = relationship(order_by="LetterItem.position", viewonly=True)
    answers: Mapped[list[ReplyAnswer]] = relationship(back_populates="reply", order_by="ReplyAnswer.id",
                                                      cascade="all, delete-orphan")

    @property
    def is_sent(self) -> bool:
        return self.state == ReplyState.SENT


@register_record_type
class ReplyAnswer(db.Model):
    """The reply's answer to one item (outcome, reason) and, linked to it, the evidence files
    for that item (portal.core.attachments, purpose "evidence")."""

    __tablename__ = "inquiry_reply_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    reply_id: Mapped[int] = mapped_column(sa.ForeignKey("inquiry_replies.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("inquiry_items.id", ondelete="CASCADE"), index=True)
    outcome: Mapped[Outcome] = mapped_column(enum_column(Outcome))
    reason: Mapped[str] = mapped_column(sa.Text, default="")

    reply: Mapped[LetterReply] = relationship(back_populates="answers")
    item: Mapped[LetterItem] = relationship()

    __table_args__ = (sa.UniqueConstraint("reply_id", "item_id", name="uq_inquiry_reply_answers_item"),)


class DeadlineExtension(db.Model):
    """延期: the sender moved the deadline, with a reason."""

    __tablename__ = "inquiry_extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(sa.ForeignKey("inquiry_letters.id", ondelete="CASCADE"), index=True)
    old_deadline: Mapped[date | None]
    new_deadline: Mapped[date]
    reason: Mapped[str] = mapped_column(sa.Text)
    by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=clock.now)

    letter: Mapped[Letter] = relationship(back_populates="extensions")
    by: Mapped[User] = relationship()


class FollowUp(db.Model):
    """追问: the sender asks again about one item, which reopens it."""

    __tablename__ = "inquiry_followups"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("inquiry_items.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(sa.Text)
    previous_outcome: Mapped[str] = mapped_column(sa.String(32), default="")
    by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=clock.now)

    item: Mapped[LetterItem] = relationship(back_populates="followups")
    by: Mapped[User] = relationship()
