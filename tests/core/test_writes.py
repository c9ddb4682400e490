"""The core request shape: one commit, a refused write leaves nothing, a form key writes once
(also when two workers get it at the same moment), a GET never writes, numbers are gapless."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.accounts.models import Organisation
from portal.core import counters
from portal.core.errors import DomainError, StaleRecord
from portal.core.versions import expect_version
from portal.core.writes import DuplicateSubmission, SubmissionKey, perform
from portal.extensions import db as _db
from tests.concurrency import in_parallel


def _rename(org_id: int, name: str):
    org = _db.session.get(Organisation, org_id)
    org.name = name
    return org


def test_a_refused_operation_leaves_nothing_behind(db, world):
    def half_then_refuse():
        _rename(world.department.id, "改了一半")
        counters.take("test", 2026)
        raise DomainError("规则不允许")
    with pytest.raises(DomainError):
        perform(half_then_refuse)
    db.session.expire_all()
    assert db.session.get(Organisation, world.department.id).name == "测试市教育局"
    assert counters.last("test", 2026) == 0  # the number was given back


def test_the_same_form_key_writes_once(db, world, app):
    with app.test_request_context("/x", method="POST", data={"form_key": "k-1"}):
        perform(_rename, world.department.id, "第一次", redirect_to="/after")
    with app.test_request_context("/x", method="POST", data={"form_key": "k-1"}):
        with pytest.raises(DuplicateSubmission) as duplicate:
            perform(_rename, world.department.id, "第二次")
    assert duplicate.value.redirect_to == "/after"
    db.session.expire_all()
    assert db.session.get(Organisation, world.department.id).name == "第一次"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SubmissionKey)) == 1


def test_two_workers_with_the_same_form_key_write_once(db, world, app):
    org_id = world.department.id

    def post(i):
        def call():
            with app.test_request_context("/x", method="POST", data={"form_key": "same-key"}):
                try:
                    perform(lambda: counters.take("created", 2026) and _rename(org_id, f"第{i}次"))
                except DuplicateSubmission:
                    return "duplicate"
                return "written"
        return call
    results = in_parallel([post(i) for i in range(6)])
    assert sorted(results) == ["duplicate"] * 5 + ["written"]
    assert counters.last("created", 2026) == 1


def test_parallel_takes_are_gapless_and_unique(db, app):
    def take():
        with app.test_request_context("/x", method="POST"):
            return perform(counters.take, "letters", 2026)
    numbers = in_parallel([take for _ in range(8)])
    assert sorted(numbers) == list(range(1, 9))
    assert counters.last("letters", 2026) == 8


def test_a_stale_version_is_refused_with_who_changed_what(db, world, app):
    from portal.core.audit import record_change

    org = world.department
    version = org.lock_version
    org.name = "改名"
    record_change(world.admin, "organisation.update", org, before={"name": "测试市教育局"}, after={"name": "改名"})
    db.session.commit()
    with app.test_request_context("/"):
        with pytest.raises(StaleRecord) as stale:
            expect_version(org, version)
        assert world.admin.display_name in stale.value.message and "name" in stale.value.message
        expect_version(org, org.lock_version)  # the current version passes
        with pytest.raises(StaleRecord):
            expect_version(org, None)


def test_two_sessions_saving_the_same_loaded_row_cannot_both_win(db, world, app):
    """version_id_col: even when both passed the form check, the second UPDATE matches no row."""
    org_id = world.department.id

    def save(name):
        def call():
            with app.test_request_context("/x", method="POST"):
                try:
                    perform(_rename, org_id, name)
                except StaleRecord:
                    return "stale"
                return "saved"
        return call
    results = in_parallel([save("甲"), save("乙")])
    assert "saved" in results  # on SQLite the writers queue; on PostgreSQL one may be refused
    db.session.expire_all()
    assert db.session.get(Organisation, org_id).lock_version == 1 + results.count("saved")


def test_a_get_request_never_writes(db, world, app):
    with app.test_request_context("/", method="GET"):
        world.department.name = "GET 里改名"
        with pytest.raises(RuntimeError, match="GET requests never write"):
            db.session.flush()
        db.session.rollback()
