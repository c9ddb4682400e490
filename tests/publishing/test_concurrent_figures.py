"""公开年度统计 (the ex-ante figures) under real concurrency: two officers publishing the same year
at once write one version 1 and refuse the other ("没有新的或变化的内容需要公开"); two
corrections at once write one version 2. Never two current rows, never a server error."""
import json

import pytest
import sqlalchemy as sa

from portal.core.audit import AuditEntry
from portal.extensions import db
from portal.publishing import operations
from portal.publishing.models import PublishedFigures
from tests.assessments.test_publication import YEAR, _assessments
from tests.concurrency import in_parallel, signed_in


def _versions() -> list[tuple]:
    db.session.expire_all()
    return [tuple(r) for r in db.session.execute(sa.select(PublishedFigures.version, PublishedFigures.current).where(
        PublishedFigures.kind == "ex_ante", PublishedFigures.year == YEAR).order_by(PublishedFigures.version))]


def _audited(action) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.action == action))


def _publish_at_once(app, world, data):
    officers = [signed_in(app, world.finance), signed_in(app, world.finance_signer)]
    responses = in_parallel([lambda c=c: c.post("/publishing/figures/publish", data=data) for c in officers])
    assert sorted(r.status_code for r in responses) == [302, 422], [r.status_code for r in responses]
    return next(r for r in responses if r.status_code == 422).get_data(as_text=True)


@pytest.mark.commits
def test_two_officers_publishing_a_years_figures_at_once_write_one_version(app, db, world):
    _assessments(world)
    refused = _publish_at_once(app, world, {"kind": "ex_ante", "year": YEAR})
    assert "没有新的或变化的内容需要公开" in refused
    assert _versions() == [(1, True)]
    assert _audited("publishing.figures_publish") == 1


@pytest.mark.commits
def test_two_corrections_at_once_write_one_new_version(app, db, world):
    done, _draft = _assessments(world)
    operations.publish_figures("ex_ante", YEAR, actor=world.finance)
    db.session.commit()
    from portal.assessments import operations as ops
    from tests.assessments.conftest import application, assessed
    from tests.factories import make_project

    late = ops.apply_for(make_project(world.department, year=YEAR, budget="5000000", name="补充项目"),
                         application(amount="5000000"), actor=world.unit)
    ops.submit(late, actor=world.unit)
    assessed(world, late, 90)
    db.session.commit()
    refused = _publish_at_once(app, world, {"kind": "ex_ante", "year": YEAR, "note": "补充一个项目的评估结论。"})
    assert "没有新的或变化的内容需要公开" in refused
    assert _versions() == [(1, False), (2, True)]
    assert _audited("publishing.figures_correct") == 1
    current = operations.current_figures("ex_ante", YEAR)
    assert current.version == 2 and json.loads(current.data)["total"]["assessed"] == 6
