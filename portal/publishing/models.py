"""Published snapshots (公开快照): the only tables the public site reads.

A snapshot is an immutable JSON copy of a whitelist of fields, one row per project, kind and
version. A correction adds a new version with a public note (更正说明); a withdrawal adds a
version in the withdrawn state with a public notice. Only `current` moves (to the newest row).
The facet columns are copied out of the JSON so that browsing is plain indexed SQL.
"""
from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column

from portal.core import clock
from portal.core.db import Money, enum_column
from portal.core.enums import LabelledEnum
from portal.core.locale import N_
from portal.core.registry import register_record_type
from portal.extensions import db


class PublicationKind(LabelledEnum):
    GOALS = "goals", "绩效目标", "Performance goals"  # 随预算公开
    SELF_EVALUATION = "self_evaluation", "单位自评结果", "Self-evaluation results"  # 随决算公开
    FINANCE_EVALUATION = "finance_evaluation", "财政评价结果", "Finance evaluation results"
    REPORT = "report", "第三方评价报告", "Third-party reports"
    RECTIFICATION = "rectification", "整改情况", "Rectification progress"


RESULT_KINDS = (PublicationKind.SELF_EVALUATION, PublicationKind.FINANCE_EVALUATION)


class SnapshotState(LabelledEnum):
    PUBLISHED = "published", "已公开", "Published", "tag-green"
    WITHDRAWN = "withdrawn", "已撤回", "Withdrawn", "tag-grey"


class RectificationState(LabelledEnum):
    NONE = "none", "无问题", "No problems"
    IN_PROGRESS = "in_progress", "整改中", "In progress"
    DONE = "done", "已完成整改", "Completed"


# Amount bands (金额区间) over the annual budget, in yuan: code, lower bound, label.
AMOUNT_BANDS = (
    ("lt1m", Decimal(0), N_("100万元以下")),
    ("1m-5m", Decimal(1_000_000), N_("100万至500万元")),
    ("5m-10m", Decimal(5_000_000), N_("500万至1000万元")),
    ("10m-50m", Decimal(10_000_000), N_("1000万至5000万元")),
    ("ge50m", Decimal(50_000_000), N_("5000万元以上")),
)


def amount_band(amount) -> str:
    band = AMOUNT_BANDS[0][0]
    for code, lower, _label in AMOUNT_BANDS:
        if Decimal(amount or 0) >= lower:
            band = code
    return band


LIVE_COLUMNS = ("current", "state", "id", "project_ref", "kind", "published_at", "amount", "score", "project_code",
                "department_name", "year", "department_ref", "unit_name", "project_kind", "budget_type",
                "amount_band", "grade", "rectification")


class PublishedJSON:
    """A published row's JSON (`data`, parsed once) and its state."""

    @property
    def payload(self) -> dict:
        if "_payload" not in self.__dict__:
            self.__dict__["_payload"] = json.loads(self.data)
        return self.__dict__["_payload"]

    @property
    def withdrawn(self) -> bool:
        return self.state == SnapshotState.WITHDRAWN


def refuse_changes(target, names, what: str) -> None:
    state = sa.inspect(target)
    for name in names:
        if state.attrs[name].history.has_changes():
            raise ValueError(f"{what} field {name} is immutable")


class Snapshot(PublishedJSON, db.Model):
    __tablename__ = "pub_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_ref: Mapped[int] = mapped_column(sa.Integer)  # the internal project id (no FK: may live elsewhere)
    kind: Mapped[PublicationKind] = mapped_column(enum_column(PublicationKind))
    version: Mapped[int] = mapped_column(sa.Integer)
    current: Mapped[bool] = mapped_column(default=True)
    state: Mapped[SnapshotState] = mapped_column(enum_column(SnapshotState), default=SnapshotState.PUBLISHED)
    note: Mapped[str] = mapped_column(sa.Text, default="")  # 更正说明 / 撤回说明, public
    data: Mapped[str] = mapped_column(sa.Text)  # JSON of whitelisted fields
    published_at: Mapped[datetime] = mapped_column(default=clock.now)
    # Facets copied from the project at publication time.
    year: Mapped[int] = mapped_column(sa.SmallInteger)
    project_code: Mapped[str] = mapped_column(sa.String(40))
    project_name: Mapped[str] = mapped_column(sa.String(200))
    department_ref: Mapped[int] = mapped_column(sa.Integer)
    department_name: Mapped[str] = mapped_column(sa.String(200))
    unit_name: Mapped[str] = mapped_column(sa.String(200))
    project_kind: Mapped[str] = mapped_column(sa.String(32))
    budget_type: Mapped[str] = mapped_column(sa.String(32))
    amount: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    amount_band: Mapped[str] = mapped_column(sa.String(16))
    score: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    grade: Mapped[str | None] = mapped_column(sa.String(16))
    rectification: Mapped[str | None] = mapped_column(sa.String(16))

    __table_args__ = (
        sa.UniqueConstraint("project_ref", "kind", "version"),
        sa.Index("ix_pub_snapshots_project", "project_ref", "current"),
        sa.Index("ix_pub_snapshots_browse", "current", "kind", "year", "department_ref"),
        sa.Index("ix_pub_snapshots_published_at", "published_at"),
        # the public site's in-memory table of live snapshots is read from this index alone
        # (public_site/live.py), never from the wide rows with their JSON
        sa.Index("ix_pub_snapshots_live", *LIVE_COLUMNS),
        # corrections and withdrawals carry a public note: the notices page lists them
        sa.Index("ix_pub_snapshots_notices", "published_at", "id", sqlite_where=sa.text("note != ''"),
                 postgresql_where=sa.text("note != ''")),
        sa.CheckConstraint("version >= 1", name="version_positive"),
    )



IMMUTABLE = ("data", "version", "kind", "project_ref", "published_at", "note", "state")


@event.listens_for(Snapshot, "before_update")
def _snapshots_are_immutable(_mapper, _connection, target):
    """Only `current` may change once a snapshot is written."""
    refuse_changes(target, IMMUTABLE, "published snapshot")


class PublishedFile(db.Model):
    """A copy of a published report (PDF) and its text, so the public site never reads uploads."""

    __tablename__ = "pub_files"

    sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    size: Mapped[int]
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
    text: Mapped[str] = mapped_column(sa.Text, default="")
    published_at: Mapped[datetime] = mapped_column(default=clock.now)


class SearchQueueItem(db.Model):
    """Durable queue of projects whose search document must be rebuilt; written in the same
    transaction as the snapshot and drained by the single index writer."""

    __tablename__ = "pub_search_queue"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_ref: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class PublicationAction(LabelledEnum):
    PUBLISH = "publish", "公开", "Published"
    CORRECT = "correct", "更正", "Corrected"
    WITHDRAW = "withdraw", "撤回", "Withdrawn"


@register_record_type
class PublicationLog(db.Model):
    """发布日志: who published what and when (internal; never read by the public site)."""

    __tablename__ = "pub_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    actor_name: Mapped[str] = mapped_column(sa.String(60))
    action: Mapped[PublicationAction] = mapped_column(enum_column(PublicationAction))
    snapshot_id: Mapped[int] = mapped_column(sa.ForeignKey("pub_snapshots.id"))
    project_ref: Mapped[int] = mapped_column(sa.Integer, index=True)
    project_name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[PublicationKind] = mapped_column(enum_column(PublicationKind))
    version: Mapped[int] = mapped_column(sa.Integer)
    note: Mapped[str] = mapped_column(sa.Text, default="")


class PublishedFigures(PublishedJSON, db.Model):
    """公开的年度统计: a year's figures of one module (e.g. the ex-ante assessments' 事前绩效评估情况),
    published by finance as an immutable JSON copy; a correction is a new version with a public
    note, a withdrawal a version in the withdrawn state with its notice (as for snapshots)."""

    __tablename__ = "pub_year_figures"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32))  # the registered name (portal.core.registry.YEAR_FIGURES)
    year: Mapped[int] = mapped_column(sa.SmallInteger)
    version: Mapped[int] = mapped_column(sa.Integer)
    current: Mapped[bool] = mapped_column(default=True)
    state: Mapped[SnapshotState] = mapped_column(enum_column(SnapshotState), default=SnapshotState.PUBLISHED)
    note: Mapped[str] = mapped_column(sa.Text, default="")  # 更正说明 / 撤回说明, public
    data: Mapped[str] = mapped_column(sa.Text)
    published_at: Mapped[datetime] = mapped_column(default=clock.now)

    __table_args__ = (
        sa.UniqueConstraint("kind", "year", "version"),
        sa.Index("ix_pub_year_figures_current", "kind", "current", "year"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
    )



@event.listens_for(PublishedFigures, "before_update")
def _figures_are_immutable(_mapper, _connection, target):
    """Only `current` may change once published."""
    refuse_changes(target, ("data", "version", "kind", "year", "published_at", "note", "state"), "published figures")
