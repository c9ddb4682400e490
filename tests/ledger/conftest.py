"""Ledger factories: problems built through the real operations, in any state."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from werkzeug.datastructures import FileStorage

from portal.core import clock
from portal.ledger import operations as ops
from portal.ledger.models import ProblemSource, ProblemState, RectificationType

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
TODAY = date(2026, 6, 1)


def pdf_file(name="整改佐证.pdf", data=PDF):
    return FileStorage(stream=io.BytesIO(data), filename=name, content_type="application/pdf")


def make_problem(world, *, unit=None, state=ProblemState.LISTED, amount="100000", deadline=None, year=None,
                 category="资金管理", description="专项资金未按规定用途使用", source=ProblemSource.AUDIT,
                 rectified=None, listed_on=None, project=None, rect_type=RectificationType.DEADLINE):
    """A problem moved to `state` through the operations, as the people involved would."""
    unit = unit or world.department
    listed_on = listed_on or clock.today()
    deadline = deadline or listed_on + timedelta(days=60)
    with clock.frozen(listed_on):
        problem = ops.list_problem(actor=world.audit, source=source, unit=unit, category=category,
                                   description=description, amount=amount, rect_type=rect_type, deadline=deadline,
                                   year=year, project=project)
        liaison = world.unit if unit in (world.department, world.subunit) else world.other_unit
        money = {"rect_recovered": rectified} if rectified is not None else None
        if state in (ProblemState.IN_PROGRESS, ProblemState.LONG_TERM):
            ops.record_progress(problem, actor=liaison, text="已制定整改方案", money=money)
        if state == ProblemState.LONG_TERM:
            ops.mark_long_term(problem, actor=world.finance, reason="涉及体制机制，需长期整改",
                               milestones=[("制定方案", listed_on + timedelta(days=30))])
        if state in (ProblemState.SUBMITTED, ProblemState.CLOSED):
            ops.submit(problem, actor=liaison, text="已完成整改", money=money, files=[pdf_file()],
                       evidence_date=listed_on)
        if state == ProblemState.CLOSED:
            ops.sign_off(problem, actor=world.audit)
            ops.sign_off(problem, actor=world.finance)
    from portal.extensions import db

    db.session.commit()
    return problem


@pytest.fixture()
def frozen_today():
    with clock.frozen(TODAY):
        yield TODAY


