"""Chinese full-text search: Whoosh with a jieba analyser beside SQLite FTS5 on the same text, in
the same run: `python -m bench.search_bench --database-url URL`.

Documents: the generated report texts (attachments) and the project titles. Prints indexing
throughput (docs/s) and query latency median/p95 over QUERIES for Whoosh, FTS5 over
jieba-segmented text (unicode61 tokenizer over space-joined words) and FTS5 trigram, and the ratios.

The Whoosh side is a small adapter here; after the merge it should call the public site's own
index (`public_site/search/`) so that the figure is the real one: replace `WhooshAdapter`."""
from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator

import sqlalchemy as sa
from whoosh.analysis import LowercaseFilter, Token, Tokenizer

from bench.common import Figure, guarded, latency_figures, print_figures, timed

QUERIES = [
    "棚户区改造", "预算执行率", "专项债券", "义务教育", "农村饮水安全", "绩效目标", "高标准农田", "老旧小区改造",
    "资金使用不规范", "政府采购", "基本公共卫生服务", "养老服务", "就业补助资金", "污水治理", "第三方机构",
    "整改", "绩效自评", "结果应用", "满意度", "河道治理", "农村公路", "学生资助", "最低生活保障", "预算编制",
    "资产管理", "专项资金", "绩效监控", "重点绩效评价", "乡村振兴", "信息化建设",
]


def documents(database_url: str, max_titles: int | None = None) -> Iterator[tuple[str, str, str]]:
    """(key, title, body): every report text, then project titles."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            for aid, filename, text in conn.execute(sa.text(
                    "SELECT id, filename, text FROM attachments WHERE text IS NOT NULL ORDER BY id")):
                yield f"a{aid}", filename, text
            stmt = "SELECT id, name, description FROM projects ORDER BY id"
            if max_titles:
                stmt += f" LIMIT {int(max_titles)}"
            for pid, name, description in conn.execute(sa.text(stmt)):
                yield f"p{pid}", name, description or ""
    finally:
        engine.dispose()


class JiebaTokenizer(Tokenizer):
    """jieba in search mode (long words and their parts), with character offsets for highlighting."""

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, mode="", **kwargs):
        import jieba

        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for pos, (word, start, end) in enumerate(jieba.tokenize(value, mode="search")):
            if not word.strip():
                continue
            token.original = token.text = word
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar = start_char + start
                token.endchar = start_char + end
            yield token


class WhooshAdapter:
    """add / commit / query over a Whoosh index with a jieba tokenizer (search mode)."""

    def __init__(self, path: str):
        from whoosh import fields, index

        os.makedirs(path, exist_ok=True)
        analyzer = JiebaTokenizer() | LowercaseFilter()
        schema = fields.Schema(key=fields.ID(stored=True, unique=True),
                               title=fields.TEXT(stored=True, analyzer=analyzer, field_boost=2.0),
                               body=fields.TEXT(analyzer=analyzer))
        self.index = index.create_in(path, schema)
        self.writer = self.index.writer(limitmb=256)

    def add(self, key: str, title: str, body: str) -> None:
        self.writer.add_document(key=key, title=title, body=body)

    def commit(self) -> None:
        self.writer.commit()
        self.searcher = self.index.searcher()
        from whoosh.qparser import MultifieldParser

        self.parser = MultifieldParser(["title", "body"], schema=self.index.schema)

    def query(self, text: str, limit: int = 20) -> int:
        results = self.searcher.search(self.parser.parse(text), limit=limit)
        return len(results)  # the total hit count, as a results page shows it

    def close(self) -> None:
        self.searcher.close()


class Fts5Adapter:
    """SQLite FTS5: 'jieba' = words segmented by jieba, space-joined, unicode61 tokenizer;
    'trigram' = raw text with the trigram tokenizer (queries shorter than 3 characters use LIKE)."""

    def __init__(self, path: str, mode: str):
        self.mode = mode
        self.db = sqlite3.connect(path)
        tokenizer = "trigram" if mode == "trigram" else "unicode61"
        self.db.execute(f"CREATE VIRTUAL TABLE docs USING fts5(key UNINDEXED, title, body, tokenize='{tokenizer}')")
        self.batch: list = []
        if mode == "jieba":
            import jieba

            self._cut = jieba.cut_for_search

    def _segment(self, text: str) -> str:
        return " ".join(w for w in self._cut(text) if w.strip())

    def add(self, key: str, title: str, body: str) -> None:
        if self.mode == "jieba":
            title, body = self._segment(title), self._segment(body)
        self.batch.append((key, title, body))
        if len(self.batch) >= 2000:
            self._flush()

    def _flush(self) -> None:
        self.db.executemany("INSERT INTO docs (key, title, body) VALUES (?, ?, ?)", self.batch)
        self.batch = []

    def commit(self) -> None:
        self._flush()
        self.db.commit()

    def query(self, text: str, limit: int = 20) -> int:
        if self.mode == "jieba":
            import jieba

            words = [w for w in jieba.cut(text) if w.strip()]
            match = " ".join('"' + w.replace('"', '""') + '"' for w in words)
        elif len(text) >= 3:
            match = '"' + text.replace('"', '""') + '"'
        else:
            like = f"%{text}%"
            total = self.db.execute("SELECT count(*) FROM docs WHERE title LIKE ? OR body LIKE ?", (like, like)).fetchone()[0]
            self.db.execute("SELECT key FROM docs WHERE title LIKE ? OR body LIKE ? LIMIT ?", (like, like, limit)).fetchall()
            return total
        total = self.db.execute("SELECT count(*) FROM docs WHERE docs MATCH ?", (match,)).fetchone()[0]
        self.db.execute("SELECT key, highlight(docs, 1, '<mark>', '</mark>') FROM docs WHERE docs MATCH ? "
                        "ORDER BY bm25(docs, 2.0, 1.0) LIMIT ?", (match, limit)).fetchall()
        return total

    def close(self) -> None:
        self.db.close()


def _index(adapter, docs) -> tuple[float, int]:
    t0 = time.perf_counter()
    count = 0
    for key, title, body in docs:
        adapter.add(key, title, body)
        count += 1
    adapter.commit()
    return time.perf_counter() - t0, count


def measure(database_url: str, repeat: int = 5, max_titles: int | None = None) -> list[Figure]:
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()  # the dictionary load is a one-off, not indexing work
    docs = list(documents(database_url, max_titles))
    chars = sum(len(t) + len(b) for _k, t, b in docs)
    tmp = tempfile.mkdtemp(prefix="bench-search-")
    figures: list[Figure] = []
    try:
        engines = {"whoosh+jieba": WhooshAdapter(os.path.join(tmp, "whoosh")),
                   "fts5 jieba": Fts5Adapter(os.path.join(tmp, "fts-jieba.db"), "jieba"),
                   "fts5 trigram": Fts5Adapter(os.path.join(tmp, "fts-trigram.db"), "trigram")}
        rates, latencies, hits = {}, {}, {}
        for name, adapter in engines.items():
            seconds, count = _index(adapter, docs)
            rates[name] = count / seconds
            for q in QUERIES:  # warm caches once
                adapter.query(q)
            samples = []
            hits[name] = 0
            for q in QUERIES:
                samples += timed(lambda q=q, a=adapter: a.query(q), repeat)
                hits[name] += adapter.query(q)
            latencies[name] = samples
            adapter.close()
        note = f"{len(docs):,} docs, {chars / 1e6:.1f} M chars"
        base = "fts5 jieba"
        for name in engines:
            figures.append(Figure("search", f"{name} indexing", rates[name], "docs/s",
                                  rates[base] if name != base else None, base if name != base else "",
                                  note if name == base else "", higher_is_better=True))
        for name in engines:
            figures += latency_figures("search", f"{name} query", latencies[name],
                                       latencies[base] if name != base else None, base if name != base else "",
                                       note=f"{len(QUERIES)} queries × {repeat}, {hits[name]:,} hits in all")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return figures


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--max-titles", type=int, default=None, help="index at most this many project titles")
    args = parser.parse_args(argv)
    print_figures(guarded("search", lambda: measure(args.database_url, args.repeat, args.max_titles)))


if __name__ == "__main__":
    main()
