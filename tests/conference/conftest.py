"""Factories for the joint-conference tests."""
from __future__ import annotations

import io
from datetime import date

from werkzeug.datastructures import FileStorage

from portal.conference import operations as ops
from portal.conference.models import DocumentKind
from portal.extensions import db


def make_meeting(world, held_on: date = date(2026, 3, 10), actor=None, **fields):
    meeting = ops.create_meeting(actor=actor or world.conference, held_on=held_on,
                                 place=fields.pop("place", "财政局三楼会议室"),
                                 convening_org=fields.pop("convening_org", world.finance_bureau),
                                 attendees=fields.pop("attendees", [world.finance, world.audit, world.conference]),
                                 **fields)
    db.session.flush()
    return meeting


def make_action(world, meeting=None, *, due_date=None, owner_org=None, owner_user=None, text="落实议定事项"):
    meeting = meeting or make_meeting(world)
    return ops.add_action(meeting, actor=world.conference, text=text, owner_org=owner_org or world.finance_bureau,
                          owner_user=owner_user, due_date=due_date)


def text_file(name: str, text: str) -> FileStorage:
    return FileStorage(io.BytesIO(text.encode()), filename=name)


def make_document(world, *, actor=None, title="审计报告", text="正文", kind=DocumentKind.AUDIT_REPORT, year=2026):
    return ops.share_document(actor=actor or world.audit, title=title, kind=kind, year=year,
                              files=[text_file("报告.txt", text)])
