"""Attachments (附件): stored by SHA-256 under UPLOAD_DIR (outside the web root), checked for
size and for type *by content*, downloadable only through a permission check on a record
they are linked to, with text extracted (PDF, .docx, .xlsx, plain text) for search."""
from __future__ import annotations

import hashlib
import io
import os
import zipfile
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core import clock, textextract
from portal.core.errors import DomainError
from portal.core.locale import N_
from portal.extensions import db

# kind -> (accepted file-name endings, MIME type)
KINDS = {
    "pdf": ((".pdf",), "application/pdf"),
    "docx": ((".docx",), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ((".xlsx",), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "ole": ((".doc", ".xls"), "application/octet-stream"),  # legacy Word/Excel
    "png": ((".png",), "image/png"),
    "jpeg": ((".jpg", ".jpeg"), "image/jpeg"),
    "text": ((".txt", ".csv", ".md"), "text/plain; charset=utf-8"),
}


class Attachment(db.Model):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    kind: Mapped[str] = mapped_column(sa.String(10))
    size: Mapped[int]
    text: Mapped[str | None] = mapped_column(sa.Text)  # extracted text, for search
    document_date: Mapped[date | None]  # the document's own date (e.g. evidence), not the upload's
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(default=clock.now)

    links: Mapped[list[AttachmentLink]] = relationship(back_populates="attachment", cascade="all, delete-orphan")

    @property
    def mimetype(self) -> str:
        return KINDS[self.kind][1]

    @property
    def path(self) -> Path:
        return storage_path(self.sha256)


class AttachmentLink(db.Model):
    """Which record an attachment belongs to; access to the file follows access to the record."""

    __tablename__ = "attachment_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    attachment_id: Mapped[int] = mapped_column(sa.ForeignKey("attachments.id", ondelete="CASCADE"), index=True)
    record_type: Mapped[str] = mapped_column(sa.String(64))
    record_id: Mapped[int]
    purpose: Mapped[str] = mapped_column(sa.String(40), default="")

    attachment: Mapped[Attachment] = relationship(back_populates="links")

    __table_args__ = (sa.Index("ix_attachment_links_record", "record_type", "record_id"),)


def storage_path(sha256: str) -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / sha256[:2] / sha256[2:4] / sha256


def sniff(data: bytes) -> str | None:
    """The file's kind from its first bytes, or None when it is not an accepted type."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if data.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except zipfile.BadZipFile:
            return None
        if "[Content_Types].xml" in names:
            if any(n.startswith("word/") for n in names):
                return "docx"
            if any(n.startswith("xl/") for n in names):
                return "xlsx"
        return None
    if b"\x00" not in data[:8192]:
        for encoding in ("utf-8", "gb18030"):
            try:
                data[:65536].decode(encoding)
                return "text"
            except UnicodeDecodeError as exc:
                if exc.start > 65530:  # cut in the middle of a character
                    return "text"
    return None


def check_upload(filename: str, data: bytes, allowed: set[str] | None = None) -> str:
    """Validate an upload; returns its kind or raises DomainError with a clear message."""
    limit_mb = current_app.config["MAX_UPLOAD_MB"]
    if not data:
        raise DomainError(_("文件“%(name)s”是空的。", name=filename))
    if len(data) > limit_mb * 1024 * 1024:
        raise DomainError(_("文件“%(name)s”超过 %(mb)s MB 的大小限制。", name=filename, mb=limit_mb))
    kind = sniff(data)
    if kind is None:
        raise DomainError(_("文件“%(name)s”的类型不受支持（只接受 PDF、Word、Excel、图片和纯文本）。", name=filename))
    endings, _mime = KINDS[kind]
    if not filename.lower().endswith(endings):
        raise DomainError(_("文件“%(name)s”的内容与扩展名不符，已拒绝。", name=filename))
    if allowed is not None and kind not in allowed:
        raise DomainError(_("此处不接受文件“%(name)s”的类型。", name=filename))
    try:
        textextract.check_archive(kind, data, textextract.limits(current_app.config))
    except textextract.LimitExceeded as limit:
        raise DomainError(_limit_message(filename, limit)) from None
    return kind


# Why a document was refused, by the limit it broke (core/textextract.py holds the limits).
_LIMIT_MESSAGES = {
    "entries": N_("文件“%(name)s”包含的部件过多（上限 %(n)s 个），已拒绝。"),
    "uncompressed": N_("文件“%(name)s”解压后超过 %(mb)s MB，已拒绝。"),
    "ratio": N_("文件“%(name)s”的压缩比异常（超过 %(n)s 倍），疑似压缩炸弹，已拒绝。"),
    "pages": N_("文件“%(name)s”页数过多（上限 %(n)s 页），已拒绝。"),
    "cells": N_("文件“%(name)s”的单元格过多（上限 %(n)s 个），已拒绝。"),
    "time": N_("文件“%(name)s”解析超时（上限 %(s)s 秒），已拒绝。"),
    "memory": N_("文件“%(name)s”解析所需内存过大（上限 %(mb)s MB），已拒绝。"),
}


def _limit_message(filename: str, limit) -> str:
    template = _LIMIT_MESSAGES.get(limit.reason)
    if template is None:
        return _("文件“%(name)s”超出处理限制，已拒绝。", name=filename)
    return _(template, **{**limit.values, "name": filename})


def save_upload(file_storage, *, actor, record=None, purpose: str = "", allowed: set[str] | None = None,
                document_date: date | None = None) -> Attachment:
    """Check, store by hash, extract text, link to `record`. The caller commits."""
    filename = os.path.basename((file_storage.filename or "").replace("\\", "/"))[:255] or "file"
    data = file_storage.read() if hasattr(file_storage, "read") else bytes(file_storage)
    return store_bytes(filename, data, actor=actor, record=record, purpose=purpose, allowed=allowed,
                       document_date=document_date)


def store_bytes(filename: str, data: bytes, *, actor, record=None, purpose: str = "",
                allowed: set[str] | None = None, document_date: date | None = None) -> Attachment:
    kind = check_upload(filename, data, allowed)
    try:
        text = extract_text(kind, data)
    except textextract.LimitExceeded as limit:
        raise DomainError(_limit_message(filename, limit)) from None
    digest = hashlib.sha256(data).hexdigest()
    path = storage_path(digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    attachment = Attachment(sha256=digest, filename=filename, kind=kind, size=len(data),
                            text=text, document_date=document_date,
                            uploaded_by_id=getattr(actor, "id", None))
    db.session.add(attachment)
    if record is not None:
        link(attachment, record, purpose)
    return attachment


def link(attachment: Attachment, record, purpose: str = "") -> AttachmentLink:
    if record.id is None:
        db.session.flush()
    row = AttachmentLink(attachment=attachment, record_type=record.__tablename__, record_id=record.id,
                         purpose=purpose)
    db.session.add(row)
    return row


def attachments_of(record, purpose: str | None = None) -> list[Attachment]:
    stmt = (sa.select(Attachment).join(AttachmentLink)
            .where(AttachmentLink.record_type == record.__tablename__, AttachmentLink.record_id == record.id)
            .order_by(Attachment.id))
    if purpose is not None:
        stmt = stmt.where(AttachmentLink.purpose == purpose)
    return list(db.session.execute(stmt).scalars())


def linked_records(attachment: Attachment) -> list:
    from portal.core.registry import RECORD_TYPES

    records = []
    for row in attachment.links:
        model = RECORD_TYPES.get(row.record_type)
        if model is not None:
            record = db.session.get(model, row.record_id)
            if record is not None:
                records.append(record)
    return records


def extract_text(kind: str, data: bytes, limit: int = 2_000_000) -> str | None:
    """Plain text of a PDF, .docx, .xlsx or text file; None for other kinds or damaged files.
    Documents are parsed in a bounded child process (core/textextract.py); past a limit this
    raises textextract.LimitExceeded."""
    if kind == "text":
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("gb18030", errors="replace")
        return text[:limit]
    if kind not in ("pdf", "docx", "xlsx"):
        return None
    lim = textextract.limits(current_app.config)
    textextract.check_archive(kind, data, lim)
    text = textextract.extract(kind, data, lim)
    if text is None:  # a damaged document still stores; it just has no searchable text
        current_app.logger.warning("text extraction failed for a %s file", kind)
        return None
    return text[:limit]
