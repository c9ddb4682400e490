"""The ledger's columns (portal/core/listing.py): what is shown is what "导出当前列表" exports.
Its filters stay `LedgerFilters` (saved filters, dependent unit options); the official 30-column
workbook remains `/ledger/export.xlsx`."""
from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l

from portal.core.listing import Column, Listing
from portal.ledger.models import Problem
from portal.ledger.queries import BUCKETS, SORTS, LedgerFilters


def _recurrence(problem):
    return (str(_l("屡查屡犯")), "tag-red") if problem.recurrence_of_id else None


def _bucket(problem):
    bucket = problem.bucket
    return (str(BUCKETS[bucket]), f"bucket-{bucket}") if bucket else None


LEDGER = Listing("ledger", columns=[
    Column("number", _l("台账编号"), lambda p: p.number, sort=SORTS["number"], note=_recurrence,
           link=lambda p: url_for("ledger.detail", problem_id=p.id)),
    Column("source", _l("问题来源"), lambda p: p.source.label, sort=SORTS["source"]),
    Column("department", _l("主管部门"), lambda p: p.department.short_name or p.department.name,
           sort=(Problem.department_id, Problem.id)),
    Column("unit", _l("责任单位"), lambda p: p.unit.name, sort=SORTS["unit"]),
    Column("category", _l("问题类别"), lambda p: p.category, sort=SORTS["category"]),
    Column("description", _l("问题描述"), lambda p: p.description, truncate=60, css="desc"),
    Column("amount", _l("问题金额"), lambda p: p.amount, kind="money", css="num", sort=SORTS["amount"]),
    Column("rectified", _l("整改金额"), lambda p: p.rectified_counted, kind="money", css="num"),
    Column("rect_type", _l("整改类型"), lambda p: p.rect_type.label),
    Column("deadline", _l("整改时限"), lambda p: p.deadline, kind="date", sort=SORTS["deadline"], note=_bucket),
    Column("person", _l("整改责任人"), lambda p: p.person_responsible),
    Column("state", _l("状态"), lambda p: p.state, kind="badge", sort=SORTS["state"]),
], filters=LedgerFilters.from_args, default_sort="number",
    row_class=lambda p: "overdue" if p.bucket == "overdue" else "", css="ledger")
