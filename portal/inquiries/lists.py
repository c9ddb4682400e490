"""The letter list's columns and filters (portal/core/listing.py): what is shown is what is exported."""
from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l

from portal.core.listing import Column, Filter, Listing, id_arg
from portal.inquiries import queries
from portal.inquiries.models import Letter, LetterState


def _org(org) -> str:
    return org.short_name or org.name


def _deadline(letter):
    if letter.deadline is None and letter.deadline_workdays:
        return str(_l("签发后 %(n)s 个工作日", n=letter.deadline_workdays))
    return letter.deadline


def _days_left(letter) -> str:
    left = queries.days_left(letter)
    return left.text if left else ""


LETTERS = Listing("letters", columns=[
    Column("number", _l("发文字号"), lambda letter: letter.doc_number or str(_l("（未编号）")),
           sort=(Letter.number_year, Letter.number_seq)),
    Column("title", _l("标题"), lambda letter: letter.title, sort=(Letter.title,),
           link=lambda letter: url_for("inquiries.detail", letter_id=letter.id)),
    Column("urgency", _l("紧急程度"), lambda letter: letter.urgency, kind="badge", sort=(Letter.urgency,)),
    Column("sender", _l("发文机关"), lambda letter: _org(letter.sender_org), sort=(Letter.sender_org_id,)),
    Column("addressee", _l("主送"), lambda letter: _org(letter.addressee_org), sort=(Letter.addressee_org_id,)),
    Column("state", _l("状态"), lambda letter: letter.state, kind="badge", sort=(Letter.state,)),
    Column("deadline", _l("答复期限"), _deadline, kind="date", sort=(Letter.deadline,)),
    Column("days_left", _l("剩余工作日"), _days_left),
], filters=[
    Filter("state", _l("状态"), kind="select", choices=lambda: [(s.value, s.label) for s in LetterState]),
    Filter("year", _l("年度"), kind="select", parse=id_arg, choices=lambda: [(y, y) for y in queries.year_choices()]),
    Filter("q", _l("标题")),
    Filter("overdue", _l("只看逾期"), kind="check"),
    Filter("project", _l("相关项目"), kind="hidden", parse=id_arg),
], tiebreak=lambda: (Letter.id.desc(),), row_class=lambda letter: "overdue" if letter.is_overdue else "")
