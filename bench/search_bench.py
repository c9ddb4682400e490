"""Chinese full-text search at scale: the public site's own search (`portal.publishing.search`: Whoosh
index, jieba analysis, numpy query evaluation) beside SQLite FTS5 over the same documents and the
same words, in the same run: `python -m bench.search_bench --database-url URL [--index-dir DIR]`.

Documents are the ones the public site indexes: one per published project, built from its
current snapshots (title, goal/result/problem text, report text). Both engines get the words of
the project's analyser (jieba search mode + the domain dictionary), so the comparison is engine
against engine. A query does the work of a results page on both sides: the hit count, the first
20 hits by relevance with highlighted snippets, and the counts of the seven facets.

Prints indexing throughput (documents/s), index open time, and query latency median/p95 over
QUERIES: cold (each query's first run after the index is opened, nothing cached) and warm."""
from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from bench.common import Figure, guarded, latency_figures, print_figures, timed

# (query, filters, sort): two-character words, department and unit names, numbers, phrases from
# report text, frequent words (满意度 is in every indicator table) and rare ones, and the query
# language's cases
QUERIES = [(q, {}, "relevance") for q in [
    "棚户区改造", "预算执行率", "预算执行率低", "专项债券", "义务教育", "农村饮水安全", "绩效目标", "高标准农田",
    "老旧小区改造", "资金使用不规范", "政府采购", "基本公共卫生服务", "养老服务", "就业补助资金", "污水治理",
    "第三方机构", "整改", "绩效自评", "结果应用", "满意度", "河道治理", "农村公路", "学生资助", "最低生活保障",
    "预算编制", "资产管理", "专项资金", "绩效监控", "重点绩效评价", "乡村振兴", "信息化建设", "教育局",
    "卫生健康委员会", "疾病预防控制中心", "挤占挪用", "验收合格率", "家庭医生签约", "2024", "资金沉淀",
    "配套资金未落实",
    # the search box's language and normalisation (issue 19): operators, a phrase, traditional
    # characters, single characters, typos (retried with the closest indexed word),
    # abbreviations, a stop word alone
    "棚户区 OR 老旧小区", "医院 -疫苗", "养老 或 医疗", '"预算执行率低"', "績效評價", "棚戶區改造", "水", "债",
    "污水处里", "轨道交同", "棚改", "专项债", "三公经费", "的"]] + [
    ("满意度", {"year": "2024"}, "amount"), ("棚户区改造", {"grade": "good"}, "score"),
    ("整改", {"rectification": "in_progress"}, "newest"), ("学校", {"budget_type": "general"}, "relevance"),
]
FACETS = ("year", "department", "project_kind", "budget_type", "amount_band", "grade", "rectification")
COLUMNS = FACETS + ("published", "score", "amount")
ORDER = {"relevance": "bm25(docs, 0, 3.0, 1.0, 1.0)", "newest": "published DESC", "score": "score DESC",
         "amount": "amount DESC"}


def public_app(database_url: str, index_dir: str):
    import public_site

    tmp = tempfile.mkdtemp(prefix="bench-search-")
    return public_site.create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench",
                                   "INSTANCE_DIR": tmp, "SEARCH_INDEX_DIR": index_dir})


def build_whoosh(app) -> tuple[float, int]:
    from portal.publishing import search

    with app.app_context():
        t0 = time.perf_counter()
        count = search.reindex()
        return time.perf_counter() - t0, count


class Fts5:
    """SQLite FTS5 (unicode61 over the analyser's words, space-joined), facets as UNINDEXED columns."""

    def __init__(self, path: str):
        self.db = sqlite3.connect(path)
        self.db.execute("CREATE VIRTUAL TABLE docs USING fts5(ref UNINDEXED, title, body, report, "
                        + ", ".join(f"{f} UNINDEXED" for f in COLUMNS) + ", tokenize='unicode61')")

    def build(self, app) -> tuple[float, int]:
        import sqlalchemy as sa

        from portal.core.search.analysis import ChineseAnalyzer
        from portal.extensions import db
        from portal.publishing.models import Snapshot
        from portal.publishing.search import documents_for

        analyzer = ChineseAnalyzer()

        def words(text: str) -> str:
            return " ".join(t.text for t in analyzer(text))

        t0 = time.perf_counter()
        count = 0
        with app.app_context():
            refs = list(db.session.scalars(sa.select(Snapshot.project_ref).where(Snapshot.current.is_(True))
                                           .distinct().order_by(Snapshot.project_ref)))
            for start in range(0, len(refs), 500):
                rows = []
                for ref, doc in documents_for(refs[start:start + 500]).items():
                    if doc is not None:
                        rows.append((ref, words(doc["title"]), words(doc["body"] + "\n" + doc.get("cells", "")),
                                     words(doc["report"]),
                                     *(doc[f] for f in FACETS), doc["published"].isoformat(), doc["score"],
                                     doc["amount"]))
                self.db.executemany(f"INSERT INTO docs VALUES ({', '.join('?' * (4 + len(COLUMNS)))})", rows)
                count += len(rows)
            self.db.commit()
        return time.perf_counter() - t0, count

    def query(self, text: str, filters: dict, sort: str, facets: bool = True) -> int:
        from portal.core.search.analysis import query_terms

        terms = query_terms(text)
        if not terms:  # nothing to search (a stop word): FTS5 refuses an empty MATCH
            return 0
        match = " AND ".join('"' + t.replace('"', '""') + '"' for t in terms)
        where = "docs MATCH ?" + "".join(f" AND {name} = ?" for name in filters)
        args = [match, *filters.values()]
        order = ORDER[sort]
        total = self.db.execute(f"SELECT count(*) FROM docs WHERE {where}", args).fetchone()[0]
        self.db.execute(f"SELECT ref, highlight(docs, 1, '<mark>', '</mark>'), snippet(docs, 2, '<mark>', "
                        f"'</mark>', '…', 24) FROM docs WHERE {where} ORDER BY {order} LIMIT 20", args).fetchall()
        for name in FACETS if facets else ():
            self.db.execute(f"SELECT {name}, count(*) FROM docs WHERE {where} GROUP BY {name}", args).fetchall()
        return total


def whoosh_matchers(searcher, text: str) -> int:
    """The same query through Whoosh's own matchers and collector (no facets, no snippets)."""
    from whoosh import query as Q

    from portal.publishing.search import TEXT_FIELDS, query_terms

    terms = query_terms(text)
    if not terms:
        return 0
    query = Q.And([Q.Or([Q.Term(f, t) for f in TEXT_FIELDS]) for t in terms])
    return len(searcher.search(query, limit=20))


def measure(database_url: str, index_dir: str | None = None, repeat: int = 5) -> list[Figure]:
    from portal.publishing import search

    index_dir = index_dir or tempfile.mkdtemp(prefix="bench-index-")
    app = public_app(database_url, index_dir)
    tmp = tempfile.mkdtemp(prefix="bench-fts5-")
    figures: list[Figure] = []
    try:
        whoosh_s, docs = build_whoosh(app)
        fts = Fts5(os.path.join(tmp, "fts.db"))
        fts_s, fts_docs = fts.build(app)
        size = sum(f.stat().st_size for f in Path(index_dir).iterdir()) / 1e6
        note = f"{docs:,} published projects; index {size:,.0f} MB; {os.cpu_count()} processes segment the text"
        figures.append(Figure("search", "index build (Whoosh+jieba)", docs / whoosh_s, "docs/s", fts_docs / fts_s,
                              "FTS5, same words", note, higher_is_better=True))
        with app.app_context():
            search.forget_views()
            t0 = time.perf_counter()
            search.current_view()
            figures.append(Figure("search", "open index (columns, lengths)", (time.perf_counter() - t0) * 1000, "ms",
                                  note="once per index generation and process"))

            def run(q, filters, sort):
                return search.search(q, filters=filters, sort=sort).total

            cold = [timed(lambda q=q: run(*q), 1)[0] for q in QUERIES]
            warm = [s for q in QUERIES for s in timed(lambda q=q: run(*q), repeat)]
            totals = [run(*q) for q in QUERIES]
            whoosh_own = [timed(lambda q=q: whoosh_matchers(search.current_view().searcher, q[0]), 1)[0]
                          for q in QUERIES if not q[1]]
        fts_cold = [timed(lambda q=q: fts.query(*q), 1)[0] for q in QUERIES]
        fts_warm = [s for q in QUERIES for s in timed(lambda q=q: fts.query(*q), repeat)]
        fts_totals = [fts.query(*q) for q in QUERIES]
        agree = sum(1 for a, b in zip(totals, fts_totals, strict=True) if a == b)
        note = (f"{len(QUERIES)} queries; median {sorted(totals)[len(totals) // 2]:,} hits; "
                f"same hit count as FTS5 for {agree}/{len(QUERIES)}")
        figures += latency_figures("search", "query, cold (first run)", cold, fts_cold, "FTS5 first run", note)
        figures += latency_figures("search", f"query, warm (×{repeat})", warm, fts_warm, "FTS5 warm")
        figures += latency_figures("search", "Whoosh's own matchers (count + top 20)", whoosh_own,
                                   note="the library's searcher on the same index: what numpy replaced")
        fts_bare = [timed(lambda q=q: fts.query(*q, facets=False), 1)[0] for q in QUERIES if not q[1]]
        figures += latency_figures("search", "FTS5 without facets (count + top 20 with snippets)", fts_bare,
                                   note="the baseline's share that is not facet counting, same queries as above")
        fts.db.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return figures


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--index-dir", help="build the index here (kept: the HTTP benchmark searches it)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    print_figures(guarded("search", lambda: measure(args.database_url, args.index_dir, args.repeat)))


if __name__ == "__main__":
    main()
