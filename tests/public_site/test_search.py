"""Chinese full-text search: a relevance set over the fixture corpus, the durable queue with a
single writer (concurrent publications lose nothing), reindexing, and the search page."""
import threading

import pytest
import sqlalchemy as sa

from portal.publishing import operations, search
from portal.publishing.models import SearchQueueItem
from tests.publishing.corpus import MARKER

ALL = ["goals", "self_evaluation", "finance_evaluation", "report", "rectification"]

# query → project keys that must be among the hits (and, after "!", keys that must not)
RELEVANCE = [
    ("棚户区改造", {"shack"}, {"library", "vaccine"}),
    ("棚户区", {"shack"}, {"teachers"}),
    ("预算执行率", {"shack"}, {"library"}),
    ("预算执行率低", {"shack"}, {"oldtown"}),
    ("专项债券", {"shack"}, {"vaccine"}),
    ("安置房", {"shack"}, {"canteen"}),
    ("交付率", {"shack"}, {"teachers"}),
    ("第三方机构", {"shack"}, {"library"}),
    ("老旧小区", {"oldtown"}, {"shack"}),
    ("加装电梯", {"oldtown"}, {"shack"}),
    ("电梯", {"oldtown"}, {"vaccine"}),
    ("食堂", {"canteen"}, {"teachers"}),
    ("食品安全", {"canteen"}, set()),
    ("教师", {"teachers"}, {"shack"}),
    ("乡村教师培训", {"teachers"}, {"canteen"}),
    ("义务教育", {"teachers"}, set()),
    ("满意度", {"teachers", "shack"}, set()),
    ("参训率", {"teachers"}, set()),
    ("疫苗", {"vaccine"}, {"hospital"}),
    ("接种率", {"vaccine"}, set()),
    ("98.2", {"vaccine"}, set()),
    ("1200", {"shack"}, {"oldtown"}),
    ("3200万元", {"shack"}, set()),
    ("卫生院", {"hospital"}, {"vaccine"}),
    ("DR设备", {"hospital"}, set()),
    ("污水", {"sewage"}, {"shack"}),
    ("管网", {"sewage"}, set()),
    ("测试市教育局", {"canteen", "teachers", "library"}, {"shack"}),
    ("测试市卫生健康委员会", {"vaccine", "hospital"}, {"canteen"}),
    ("测试市住房和城乡建设局", {"shack", "oldtown", "sewage"}, {"teachers"}),
    ("棚户区改造服务中心", {"shack", "oldtown", "sewage"}, {"vaccine"}),
    ("数字图书馆", {"library"}, set()),
    ("2026", {"shack", "library", "vaccine"}, set()),
    ("问卷调查", {"teachers"}, {"shack"}),
    ("闲置", {"shack", "hospital"}, {"library"}),
    ("政府性基金预算", {"shack", "sewage"}, {"teachers"}),
    ("使用率", {"hospital"}, set()),
]


def publish_all(db, world):
    operations.publish(2026, None, ALL, actor=world.finance)
    db.session.commit()
    search.apply_queue()


def refs(corpus, keys):
    return {corpus["projects"][k].id for k in keys}


def test_relevance_set(db, world, corpus, index_dir):
    publish_all(db, world)
    assert len(RELEVANCE) >= 30
    failures = []
    for query, must, must_not in RELEVANCE:
        found = {h.ref for h in search.search(query, per_page=50).hits}
        if not refs(corpus, must) <= found or refs(corpus, must_not) & found:
            failures.append((query, sorted(found)))
    assert not failures, failures
    for query in ("核电站", MARKER, "草稿", "审核意见", "修订中的目标"):
        assert search.search(query).total == 0, query


def test_highlights_facets_sorting_and_paging(db, world, corpus, index_dir):
    publish_all(db, world)
    found = search.search("改造", per_page=2)
    assert found.total >= 4 and len(found.hits) == 2 and found.pages >= 2
    assert any("<mark" in h.highlights or "<mark" in h.title for h in found.hits)
    assert dict(found.facets["grade"])["excellent"] == 1
    second = search.search("改造", per_page=2, page=2)
    assert {h.ref for h in second.hits}.isdisjoint({h.ref for h in found.hits})
    by_amount = search.search("改造", sort="amount", per_page=10)
    amounts = [h.fields["amount"] for h in by_amount.hits]
    assert amounts == sorted(amounts, reverse=True)
    graded = search.search("改造", filters={"grade": "excellent"})
    assert [h.ref for h in graded.hits] == [corpus["projects"]["oldtown"].id]


def test_search_page_permalink_and_helpful_empty_result(db, world, corpus, public_app, index_dir):
    publish_all(db, world)
    client = public_app.test_client()
    page = client.get("/search?q=棚户区改造&sort=newest").get_data(as_text=True)
    assert "城东片区" in page and "<mark" in page and "feeds/search.atom?q=" in page
    empty = client.get("/search?q=核电站").get_data(as_text=True)
    assert "没有找到" in empty and "试试更短" in empty
    assert client.get("/search?q=%00%27%22<script>").status_code == 200
    assert "棚户区改造" in client.get("/").get_data(as_text=True)  # the search box is on the home page


def test_the_queue_survives_a_crash_and_is_applied_later(db, world, corpus, app, index_dir):
    operations.publish(2026, None, ["goals"], actor=world.finance)
    db.session.commit()  # …and the process dies before applying the queue
    queued = db.session.scalar(sa.select(sa.func.count()).select_from(SearchQueueItem))
    assert queued > 0 and search.doc_count() == 0
    result = app.test_cli_runner().invoke(args=["search", "apply"])
    assert result.exit_code == 0, result.output
    assert search.doc_count() == 8
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SearchQueueItem)) == 0


def test_reindex_rebuilds_everything_with_a_progress_bar(db, world, corpus, app, index_dir):
    publish_all(db, world)
    import shutil

    shutil.rmtree(index_dir)
    result = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert result.exit_code == 0 and "indexed 8 projects" in result.output, result.output
    assert search.search("棚户区改造").total >= 1


@pytest.mark.commits  # real threads, each with its own connection
def test_concurrent_publications_lose_no_index_update(db, world, corpus, app, index_dir):
    departments = sorted({p.department_id for p in corpus["projects"].values()})
    finance_id = world.finance.id
    db.session.commit()  # and hold no transaction while the threads write
    errors = []

    def publish(department_id):
        try:
            with app.app_context():
                from portal.accounts.models import User
                from portal.extensions import db as thread_db

                actor = thread_db.session.get(User, finance_id)
                operations.publish(2026, department_id, ALL, actor=actor)
                thread_db.session.commit()
                search.apply_queue()
                thread_db.session.remove()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(repr(error))

    threads = [threading.Thread(target=publish, args=(d,)) for d in departments]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SearchQueueItem)) == 0
    assert search.doc_count() == 8
    for key in ("shack", "teachers", "vaccine"):
        assert corpus["projects"][key].id in {h.ref for h in search.search(corpus["projects"][key].name).hits}


@pytest.mark.parametrize("query", ["", "   "])
def test_an_empty_query_shows_suggestions(db, public_app, query):
    page = public_app.test_client().get(f"/search?q={query}").get_data(as_text=True)
    assert "例如" in page


def test_vectorised_matching_agrees_with_whooshs_own_searcher(db, world, corpus, index_dir):
    """The numpy evaluation must find exactly what Whoosh's matchers find (every word in title,
    body or report), ranked by the same BM25F scores — also once corrections and withdrawals
    have left several segments with deleted documents."""
    from whoosh import index as whoosh_index
    from whoosh import query as Q

    from portal.publishing.models import Snapshot

    def compare():
        searcher = whoosh_index.open_dir(str(index_dir)).searcher()
        for query, *_ in RELEVANCE + [("改造", None, None), ("资金 使用", None, None)]:
            terms = search.query_terms(query)
            whoosh_query = Q.And([Q.Or([Q.Term(f, t) for f in search.TEXT_FIELDS]) for t in terms])
            expected = searcher.search(whoosh_query, limit=None)
            ours = search.search_terms(terms, per_page=100)  # the core, before tiers and synonyms
            assert ours.total == len(expected), query
            assert [h.ref for h in ours.hits] == [int(hit["ref"]) for hit in expected], query
            assert [round(h.score, 6) for h in ours.hits] == [round(hit.score, 6) for hit in expected], query
        segments = len(searcher.reader().leaf_readers()) if not searcher.reader().is_atomic() else 1
        deleted = searcher.doc_count_all() - searcher.doc_count()
        searcher.close()
        return segments, deleted

    publish_all(db, world)
    compare()
    shack = corpus["projects"]["shack"]
    evaluation = [e for e in shack.evaluations if e.mode.value == "finance"][0]
    evaluation.conclusion = "更正后的结论：安置房交付率为百分之六十五，资金使用基本规范。"
    operations.publish(2026, None, ["finance_evaluation"], actor=world.finance, note="数据有误，予以更正。")
    db.session.commit()
    search.apply_queue()
    vaccine = db.session.scalars(sa.select(Snapshot).where(
        Snapshot.project_ref == corpus["projects"]["vaccine"].id, Snapshot.current)).all()
    for row in vaccine:
        operations.withdraw(row, actor=world.finance, note="复核中，暂予撤回。")
    db.session.commit()
    search.apply_queue()
    segments, deleted = compare()
    assert segments >= 2 and deleted >= 2
    assert corpus["projects"]["vaccine"].id not in {h.ref for h in search.search("疫苗").hits}


def test_highlights_mark_every_query_word_and_escape_the_text():
    from portal.core.search import highlight

    terms = ["棚户区", "2024"]
    title = highlight.whole("<b>棚户区</b>改造 2024 和 20245", terms)
    assert title == ('&lt;b&gt;<mark class="hl t0">棚户区</mark>&lt;/b&gt;改造 <mark class="hl t1">2024</mark>'
                     ' 和 20245')
    text = "前言。" + "甲" * 400 + "棚户区改造完成1200套，2024年交付。" + "乙" * 400 + "棚户区结束。"
    snippet = highlight.fragments(text, terms)
    assert snippet.count("<mark") == 3 and " … " in snippet and len(snippet) < 500
    assert highlight.fragments("没有相关词语", terms) == ""


@pytest.mark.commits  # a second connection of its own publishes while the index is rebuilt
def test_reindexing_leaves_the_database_free_for_publications(db, world, corpus, app, index_dir):
    """A rebuild takes minutes at province scale: it must not hold a (SQLite) write lock meanwhile,
    or a publication in the portal would wait and fail."""
    publish_all(db, world)
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"],
                              connect_args={"timeout": 0.2} if db.engine.dialect.name == "sqlite" else {})
    writes = []
    shack = corpus["projects"]["shack"].id
    db.session.commit()

    def write_meanwhile(_count):
        with engine.begin() as conn:  # BEGIN IMMEDIATE on SQLite: fails if another writer holds the lock
            conn.execute(sa.insert(SearchQueueItem).values(project_ref=shack))
        writes.append(True)

    search.reindex(progress=write_meanwhile, batch=2)
    engine.dispose()
    assert len(writes) >= 4
    # the rows queued during the rebuild were applied afterwards, not lost or left behind
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SearchQueueItem)) == 0
