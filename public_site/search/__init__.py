"""Search adapter (index, delete, query, reindex) over Whoosh with a jieba analyser.

One document per published project, built from its current snapshots. Every change goes
through the durable queue table `pub_search_queue` (written in the same transaction as the
snapshot); `apply_queue()` drains it as the single writer (an exclusive file lock), so
concurrent publications never meet Whoosh's own lock and a crash loses nothing: unapplied
rows simply stay queued until the next `apply_queue()` / `flask search apply`.
"""
from __future__ import annotations

import fcntl
import logging
import shutil
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from whoosh import index as whoosh_index
from whoosh import query as Q
from whoosh import sorting
from whoosh.fields import DATETIME, ID, NUMERIC, STORED, TEXT, Schema
from whoosh.highlight import ContextFragmenter, HtmlFormatter

from public_site.search.analysis import ChineseAnalyzer, query_terms

log = logging.getLogger("public_site.search")

FACETS = ("year", "department", "project_kind", "budget_type", "amount_band", "grade", "rectification")
REPORT_TEXT_LIMIT = 30_000
SORTS = {"relevance": None, "newest": ("published", True), "score": ("score", True), "amount": ("amount", True)}


def schema() -> Schema:
    analyzer = ChineseAnalyzer()
    return Schema(
        ref=ID(stored=True, unique=True),
        title=TEXT(analyzer=analyzer, stored=True, field_boost=3.0),
        body=TEXT(analyzer=analyzer, stored=True),
        report=TEXT(analyzer=analyzer, stored=True),
        department_name=STORED, unit=STORED, grade_label=STORED,
        year=ID(stored=True, sortable=True), department=ID(stored=True, sortable=True),
        project_kind=ID(stored=True, sortable=True), budget_type=ID(stored=True, sortable=True),
        amount_band=ID(stored=True, sortable=True), grade=ID(stored=True, sortable=True),
        rectification=ID(stored=True, sortable=True), kinds=ID(stored=True, sortable=True),
        published=DATETIME(stored=True, sortable=True),
        score=NUMERIC(int, bits=32, stored=True, sortable=True, default=0),  # score × 100
        amount=NUMERIC(int, bits=64, stored=True, sortable=True, default=0),  # yuan
    )


def index_dir() -> Path:
    return Path(current_app.config["SEARCH_INDEX_DIR"])


def open_index(create: bool = False):
    path = index_dir()
    path.mkdir(parents=True, exist_ok=True)
    if create or not whoosh_index.exists_in(str(path)):
        return whoosh_index.create_in(str(path), schema())
    return whoosh_index.open_dir(str(path))


@contextmanager
def writer_lock():
    """The single-writer lock (blocks until the other writer is done)."""
    path = index_dir()
    path.mkdir(parents=True, exist_ok=True)
    with open(path.parent / (path.name + ".writer.lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# ---- documents -------------------------------------------------------------------------------

def _lines(snapshot) -> list[str]:
    d = snapshot.payload
    out = [d.get("overall_goal", ""), d.get("conclusion", ""), d.get("suggestions", ""), d.get("agency", "")]
    for i in d.get("indicators", []):
        out.append(f"{i['level1']} {i['level2']} {i['name']} {i['target']}")
    for f in d.get("findings", []):
        out += [f.get("category", ""), f.get("description", ""), f.get("suggestion", "")]
    for rows in d.get("sections", {}).values():
        for row in rows:
            out += [str(v) for v in row.values() if isinstance(v, str)]
    for r in d.get("reports", []):
        out.append(r.get("title", ""))
    return [line for line in out if line]


def build_document(snapshots: list, report_texts: dict[str, str]) -> dict | None:
    live = [s for s in snapshots if s.current and not s.withdrawn]
    if not live:
        return None
    first = max(live, key=lambda s: s.published_at)
    project = first.payload.get("project", {})
    body = [project.get("department", ""), project.get("unit", ""), project.get("description", ""),
            project.get("kind_label", ""), project.get("budget_type_label", ""), str(project.get("year", ""))]
    reports = []
    grade = score = None
    rect = None
    for s in live:
        body += _lines(s)
        if s.grade and (grade is None or s.kind.value == "finance_evaluation"):
            grade, score = s.grade, s.score
        if s.rectification:
            rect = s.rectification
        for r in s.payload.get("reports", []):
            reports.append(report_texts.get(r["sha256"], ""))
    from portal.performance.models import Grade

    return {
        "ref": str(first.project_ref), "title": f"{first.project_name} {first.project_code}",
        "body": "\n".join(body), "report": "\n".join(reports)[:REPORT_TEXT_LIMIT],
        "department_name": first.department_name, "unit": first.unit_name,
        "grade_label": Grade(grade).label if grade else "",
        "year": str(first.year), "department": str(first.department_ref), "project_kind": first.project_kind,
        "budget_type": first.budget_type, "amount_band": first.amount_band, "grade": grade or "none",
        "rectification": rect or "none", "kinds": ",".join(sorted(s.kind.value for s in live)),
        "published": first.published_at, "score": int(score * 100) if score is not None else 0,
        "amount": int(first.amount or 0),
    }


def documents_for(refs) -> dict[int, dict | None]:
    from portal.extensions import db
    from portal.publishing.models import PublishedFile, Snapshot

    refs = list(refs)
    grouped: dict[int, list] = {ref: [] for ref in refs}
    for s in db.session.scalars(sa.select(Snapshot).where(Snapshot.project_ref.in_(refs), Snapshot.current.is_(True))):
        grouped[s.project_ref].append(s)
    hashes = {r["sha256"] for rows in grouped.values() for s in rows if not s.withdrawn
              for r in s.payload.get("reports", [])}
    texts = {}
    if hashes:
        texts = dict(db.session.execute(sa.select(PublishedFile.sha256, PublishedFile.text)
                                        .where(PublishedFile.sha256.in_(hashes))).all())
    return {ref: build_document(rows, texts) for ref, rows in grouped.items()}


def _write_documents(writer, docs: dict[int, dict | None]) -> None:
    for ref, doc in docs.items():
        if doc is None:
            writer.delete_by_term("ref", str(ref))
        else:
            writer.update_document(**doc)


# ---- the queue -------------------------------------------------------------------------------

def apply_queue(batch: int = 500) -> int:
    """Drain the queue (single writer). Returns how many queue rows were applied."""
    from portal.extensions import db
    from portal.publishing.models import SearchQueueItem

    applied = 0
    with writer_lock():
        ix = open_index()
        while True:
            rows = db.session.execute(sa.select(SearchQueueItem.id, SearchQueueItem.project_ref)
                                      .order_by(SearchQueueItem.id).limit(batch)).all()
            if not rows:
                db.session.commit()  # end the (SQLite: IMMEDIATE) read transaction
                break
            docs = documents_for({ref for _id, ref in rows})
            writer = ix.writer()
            try:
                _write_documents(writer, docs)
            except BaseException:
                writer.cancel()
                raise
            writer.commit()
            # Only after the index holds them: a crash before here re-applies (idempotent).
            db.session.execute(sa.delete(SearchQueueItem).where(SearchQueueItem.id <= rows[-1][0]))
            db.session.commit()
            applied += len(rows)
    return applied


def apply_quietly() -> None:
    """After a publication commits: apply now; on failure the rows stay queued for later."""
    try:
        apply_queue()
    except Exception:  # the queue keeps the work; `flask search apply` finishes it
        log.exception("search queue not applied; it stays queued")


def reindex(progress=None, batch: int = 500) -> int:
    """Rebuild the whole index from the current snapshots."""
    from portal.extensions import db
    from portal.publishing.models import SearchQueueItem, Snapshot

    with writer_lock():
        last_queued = db.session.scalar(sa.select(sa.func.max(SearchQueueItem.id))) or 0
        refs = list(db.session.scalars(sa.select(Snapshot.project_ref).where(Snapshot.current.is_(True))
                                       .distinct().order_by(Snapshot.project_ref)))
        tmp = index_dir().with_name(index_dir().name + ".new")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        ix = whoosh_index.create_in(str(tmp), schema())
        writer = ix.writer(limitmb=128)
        for start in range(0, len(refs), batch):
            chunk = refs[start:start + batch]
            _write_documents(writer, documents_for(chunk))
            if progress:
                progress(len(chunk))
        writer.commit()
        old = index_dir().with_name(index_dir().name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if index_dir().exists():
            index_dir().rename(old)
        tmp.rename(index_dir())
        shutil.rmtree(old, ignore_errors=True)
        db.session.execute(sa.delete(SearchQueueItem).where(SearchQueueItem.id <= last_queued))
        db.session.commit()
    apply_queue()  # anything queued meanwhile
    return len(refs)


# ---- querying --------------------------------------------------------------------------------

@dataclass
class Hit:
    ref: int
    fields: dict
    title: str
    highlights: str
    score: float


@dataclass
class Results:
    query: str
    terms: list
    total: int = 0
    page: int = 1
    per_page: int = 20
    hits: list = field(default_factory=list)
    facets: dict = field(default_factory=dict)
    facets_partial: bool = False

    @property
    def pages(self) -> int:
        return max(1, (self.total + self.per_page - 1) // self.per_page)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def build_query(terms: list[str]):
    parts = [Q.Or([Q.Term("title", t), Q.Term("body", t), Q.Term("report", t)]) for t in terms]
    return Q.And(parts) if len(parts) > 1 else parts[0]


def search(text: str, *, filters: dict | None = None, sort: str = "relevance", page: int = 1,
           per_page: int = 20) -> Results:
    terms = query_terms(text)
    results = Results(query=text, terms=terms, page=page, per_page=per_page)
    if not index_dir().exists() or not whoosh_index.exists_in(str(index_dir())):
        return results
    ix = whoosh_index.open_dir(str(index_dir()))
    query = build_query(terms) if terms else Q.Every()
    conditions = [Q.Term(name, str(value)) for name, value in (filters or {}).items() if value not in (None, "")]
    flt = Q.And(conditions) if conditions else None
    sortedby = None
    if SORTS.get(sort):
        name, reverse = SORTS[sort]
        sortedby = sorting.FieldFacet(name, reverse=reverse)
    with ix.searcher() as searcher:
        page_results = searcher.search_page(query, max(1, page), pagelen=per_page, filter=flt, sortedby=sortedby)
        page_results.results.fragmenter = ContextFragmenter(maxchars=160, surround=40)
        page_results.results.formatter = HtmlFormatter(tagname="mark", classname="hl", termclass="t")
        results.total = page_results.total
        for hit in page_results:
            highlight = ""
            if terms:
                highlight = hit.highlights("body", top=2) or hit.highlights("report", top=2)
            title = hit.highlights("title", minscore=0) if terms else ""
            results.hits.append(Hit(ref=int(hit["ref"]), fields=dict(hit.fields()), title=title or "",
                                    highlights=highlight, score=hit.score or 0.0))
        results.facets, results.facets_partial = _facet_counts(searcher, query, flt)
    return results


FACET_CAP = 20_000  # count facets over at most this many matching documents (keeps p95 low)


def _facet_counts(searcher, query, flt) -> tuple[dict, bool]:
    """Facet counts from the sortable columns of the matching documents (no scoring)."""
    from collections import Counter

    docs = query.docs(searcher)
    if flt is not None:
        allowed = set(flt.docs(searcher))
        docs = (d for d in docs if d in allowed)
    picked = []
    partial = False
    for d in docs:
        if len(picked) >= FACET_CAP:
            partial = True
            break
        picked.append(d)
    columns = _facet_columns(searcher)
    facets = {}
    for name in FACETS:
        counts = Counter(map(columns[name].__getitem__, picked))
        facets[name] = sorted(((v, n) for v, n in counts.items() if v), key=lambda kv: (-kv[1], kv[0]))
    return facets, partial


_columns_cache: dict = {}
_columns_lock = threading.Lock()


def _facet_columns(searcher) -> dict[str, list]:
    """docnum → facet value, decoded once per index generation (then counting is C-speed)."""
    reader = searcher.reader()
    ix = getattr(searcher, "_ix", None)
    key = (str(index_dir()), ix.latest_generation() if ix is not None else id(reader), reader.doc_count_all())
    cached = _columns_cache.get("value")
    if cached and cached[0] == key:
        return cached[1]
    with _columns_lock:
        columns = {}
        for name in FACETS:
            column = reader.column_reader(name)
            columns[name] = [v.decode() if isinstance(v, bytes) else v for v in column]
        _columns_cache["value"] = (key, columns)
    return columns


def doc_count() -> int:
    if not index_dir().exists() or not whoosh_index.exists_in(str(index_dir())):
        return 0
    return whoosh_index.open_dir(str(index_dir())).doc_count()
