"""Search across the portal: a phrase finds a letter, a problem and a library document the user
may see — and never another unit's problem; the index follows commits through the outbox and
rebuilds itself when its folder is gone. What a user loses when this is wrong: the record they
are looking for, or a glimpse of one they may not read."""
from __future__ import annotations

import shutil

import sqlalchemy as sa

from portal.core import outbox
from portal.extensions import db
from portal.search import service
from tests.conference.conftest import make_document
from tests.inquiries.conftest import load_holidays, make_letter, setup_codes
from tests.ledger.conftest import make_problem

PHRASE = "校舍抗震加固"


def _records(world):
    load_holidays([2025, 2026])
    setup_codes(world)
    letter = make_letter(world, "sent", title=f"关于核实{PHRASE}工程资金拨付情况的函")
    mine = make_problem(world, unit=world.department, description=f"{PHRASE}项目资金滞留未拨付")
    theirs = make_problem(world, unit=world.other_department, description=f"{PHRASE}工程验收资料缺失")
    document = make_document(world, title="专项审计报告", text=f"审计发现{PHRASE}工程存在未批先建问题。")
    db.session.commit()
    return letter, mine, theirs, document


def _found(user, text, kind=None):
    results = service.search(user, text, kind)
    return {(g.kind.name, h.record.id) for g in results.groups for h in g.hits}


def test_a_phrase_finds_letter_problem_and_document_but_not_another_units_problem(live_index, world):
    letter, mine, theirs, document = _records(world)
    outbox.drain()  # the worker: the commits queued the index updates
    found = _found(world.finance, PHRASE)
    assert {("letter", letter.id), ("problem", mine.id), ("problem", theirs.id), ("document", document.id)} <= found

    unit_sees = _found(world.unit, PHRASE)
    assert ("problem", mine.id) in unit_sees
    assert ("problem", theirs.id) not in unit_sees  # another unit's problem
    assert ("document", document.id) not in unit_sees and ("letter", letter.id) not in unit_sees
    # segmentation, not substring: the words in another order and without the spaces still match
    assert ("problem", mine.id) in _found(world.unit, "加固 校舍抗震 资金")


def test_search_page_groups_results_and_links_them(live_index, world, client, login):
    letter, mine, theirs, _document = _records(world)
    outbox.drain()
    login(world.unit)
    page = client.get("/search/", query_string={"q": PHRASE}).get_data(as_text=True)
    assert 'id="group-problem"' in page
    assert f"/ledger/{mine.id}" in page and f"/ledger/{theirs.id}\"" not in page
    assert "<mark" in page  # the phrase is marked in the hit


def test_an_edit_reaches_the_index_after_the_commit(live_index, world):
    _letter, mine, _theirs, _document = _records(world)
    outbox.drain()
    assert not _found(world.finance, "危房改造")
    mine.description = "危房改造资金滞留"
    db.session.commit()
    pending = db.session.scalars(sa.select(outbox.OutboxMessage).where(
        outbox.OutboxMessage.kind == "portal_search.update", outbox.OutboxMessage.sent_at.is_(None))).all()
    assert pending  # written with the change, in the same transaction
    outbox.drain()
    assert ("problem", mine.id) in _found(world.finance, "危房改造")


def test_the_index_rebuilds_itself_when_its_folder_is_deleted(live_index, world, app):
    _letter, mine, _theirs, _document = _records(world)
    outbox.drain()
    shutil.rmtree(live_index.index_dir())
    assert live_index.health() == "missing"
    # the next search asks the job runner for a rebuild (immediate in tests) and answers from it
    assert ("problem", mine.id) in _found(world.finance, PHRASE)
    assert live_index.health() == "ok"


def test_rebuild_command(live_index, world, app):
    _letter, mine, _theirs, _document = _records(world)
    shutil.rmtree(live_index.index_dir())
    result = app.test_cli_runner().invoke(args=["search-portal", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "indexed 4 records" in result.output  # the letter, two problems, the document
    assert ("problem", mine.id) in _found(world.finance, PHRASE)


def test_minutes_are_indexed_as_read_not_as_markdown():
    """A snippet of the minutes shows the words, never the writer's ## and ** markup."""
    from portal.conference.models import Meeting
    from portal.search import index
    from portal.search.kinds import KINDS

    meeting = Meeting(year=2026, number=9, place="市财政局", agenda="## 一、听取汇报",
                      minutes="会议认为，**成果共用**取得进展。<script>x()</script>")
    body = index.document(KINDS["meeting"], meeting)["body"]
    assert "一、听取汇报" in body and "成果共用取得进展" in body
    assert "**" not in body and "##" not in body and "script" not in body
