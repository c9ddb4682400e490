# Over 400 lines: the index's schema, document builder, writer lock and query runner belong together.
"""Search adapter (index, delete, query, reindex) over Whoosh with a jieba analyser.

One document per published project, built from its current snapshots. Every change goes
through the durable queue table `pub_search_queue` (written in the same transaction as the
snapshot); `apply_queue()` drains it as the single writer (an exclusive file lock), so
concurrent publications never meet Whoosh's own lock and a crash loses nothing: unapplied
rows simply stay queued until the next `apply_queue()` / `flask search apply`.
"""
from __future__ import annotations

import logging
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from whoosh import index as whoosh_index
from whoosh.columns import RefBytesColumn
from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from portal.core.pagination import PageNumbers
from portal.core.search import highlight as marks
from portal.core.search.analysis import ChineseAnalyzer, load_dictionary, query_terms  # noqa: F401
from portal.core.search.matching import IndexView, exact_key
from portal.core.search.normalise import fold
from portal.core.search.query import MAX_WORDS, Parsed, parse, plain
from portal.core.search.writer_lock import IndexBusy, index_writer_lock  # noqa: F401  (IndexBusy: callers catch it here)

log = logging.getLogger("portal.publishing.search")

FACETS = ("year", "department", "project_kind", "budget_type", "amount_band", "grade", "rectification")
# title: project name and code; body: description, goal, conclusions, findings, suggestions;
# cells: the indicator table and other table cells; report: the text of the reports
TEXT_FIELDS = ("title", "body", "cells", "report")
REPORT_TEXT_LIMIT = 30_000
SORTS = {"relevance": None, "newest": ("published", True), "score": ("score", True), "amount": ("amount", True)}
SORT_COLUMNS = ("published", "score", "amount")


def schema() -> Schema:
    analyzer = ChineseAnalyzer()
    return Schema(
        ref=ID(stored=True, unique=True),
        # word frequencies only (no positions: queries are sets of words, snippets are found in
        # the stored text), which keeps the index small and fast to write
        title=TEXT(analyzer=analyzer, stored=True, field_boost=3.0, phrase=False),
        body=TEXT(analyzer=analyzer, stored=True, phrase=False),
        cells=TEXT(analyzer=analyzer, stored=True, phrase=False),
        report=TEXT(analyzer=analyzer, stored=True, phrase=False),
        # the project's name and code, folded, as whole terms: an exact-name query ranks first
        exact=KEYWORD(commas=True, lowercase=True),
        department_name=STORED, unit=STORED, grade_label=STORED,
        kinds=ID(stored=True),
        # facets: few distinct values, so each document stores a reference into a list of them
        **{name: ID(stored=True, sortable=RefBytesColumn()) for name in FACETS},
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


def writer_lock(timeout: float | None = None):
    """The single-writer lock, waited for at most `timeout` seconds (SEARCH_WRITER_TIMEOUT)."""
    path = index_dir()
    path.mkdir(parents=True, exist_ok=True)
    timeout = current_app.config.get("SEARCH_WRITER_TIMEOUT", 30) if timeout is None else timeout
    return index_writer_lock(path, timeout)


# ---- documents -------------------------------------------------------------------------------

def _lines(snapshot) -> tuple[list[str], list[str]]:
    """(sentences, table cells) of a snapshot: the goal, conclusions, findings and suggestions
    rank above the indicator table and other table cells that merely list a word."""
    d = snapshot.payload
    out = [d.get("overall_goal", ""), d.get("conclusion", ""), d.get("suggestions", ""), d.get("agency", "")]
    cells = []
    for i in d.get("indicators", []):
        cells.append(f"{i['level1']} {i['level2']} {i['name']} {i['target']}")
    for f in d.get("findings", []):
        out += [f.get("category", ""), f.get("description", ""), f.get("suggestion", "")]
    for rows in d.get("sections", {}).values():
        for row in rows:
            for key, value in row.items():
                if isinstance(value, str):
                    (out if key in ("description", "measures") else cells).append(value)
    for r in d.get("reports", []):
        out.append(r.get("title", ""))
    return [line for line in out if line], [line for line in cells if line]


def build_document(snapshots: list, report_texts: dict[str, str]) -> dict | None:
    live = [s for s in snapshots if s.current and not s.withdrawn]
    if not live:
        return None
    # the latest written, as on the project page: publication times have whole seconds, and a
    # correction in the second of the first publication would lose to it by time
    first = max(live, key=lambda s: s.id)
    project = first.payload.get("project", {})
    body = [project.get("department", ""), project.get("unit", ""), project.get("description", ""),
            project.get("kind_label", ""), project.get("budget_type_label", ""), str(project.get("year", ""))]
    reports = []
    cells: list[str] = []
    grade = score = None
    rect = None
    for s in live:
        sentences, table = _lines(s)
        body += sentences
        cells += table
        if s.grade and (grade is None or s.kind.value == "finance_evaluation"):
            grade, score = s.grade, s.score
        if s.rectification:
            rect = s.rectification
        for r in s.payload.get("reports", []):
            reports.append(report_texts.get(r["sha256"], ""))
    from portal.performance.models import Grade

    return {
        "ref": str(first.project_ref), "title": f"{first.project_name} {first.project_code}",
        # stored folded (traditional → simplified, full width → half width) for snippets and
        # phrase checks without folding 30,000 characters per hit; the title stays as published
        "body": fold("\n".join(body)), "cells": fold("\n".join(cells)),
        "report": fold("\n".join(reports)[:REPORT_TEXT_LIMIT]),
        "exact": ",".join(k for k in (exact_key(first.project_name), exact_key(first.project_code)) if k),
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
    """Drain the queue (single writer). Returns how many queue rows were applied.

    The database is read in short transactions, never held while the index is written, and a
    queue row is deleted only after the index holds its project: a crash before that re-applies
    it (idempotent), and rows committed meanwhile (whatever their id) wait for the next round."""
    from portal.extensions import db
    from portal.publishing.models import SearchQueueItem
    from portal.publishing.search import health

    applied = 0
    with writer_lock():
        if not (whoosh_index.exists_in(str(index_dir())) and health.files_intact(index_dir())):
            # Never start a fresh index holding only the queued projects: rebuild the whole one
            # (the queued rows stay queued until the rebuild covers them).
            health.heal(health.Status("missing"))
            return 0
        ix = open_index()
        while True:
            rows = db.session.execute(sa.select(SearchQueueItem.id, SearchQueueItem.project_ref)
                                      .order_by(SearchQueueItem.id).limit(batch)).all()
            docs = documents_for({ref for _id, ref in rows}) if rows else {}
            db.session.commit()  # end the read (on SQLite an IMMEDIATE transaction) before writing
            if not rows:
                break
            writer = ix.writer()
            try:
                _write_documents(writer, docs)
            except BaseException:
                writer.cancel()
                raise
            writer.commit()
            health.write_manifest(index_dir(), ix.doc_count())
            _dequeue([row_id for row_id, _ref in rows])
            applied += len(rows)
    return applied


def _dequeue(ids: list[int]) -> None:
    from portal.extensions import db
    from portal.publishing.models import SearchQueueItem

    for start in range(0, len(ids), 500):
        db.session.execute(sa.delete(SearchQueueItem).where(SearchQueueItem.id.in_(ids[start:start + 500])))
    db.session.commit()


def apply_quietly() -> None:
    """After a publication commits: apply now; on failure the rows stay queued for later."""
    try:
        apply_queue()
    except Exception:  # the queue keeps the work; `flask search apply` finishes it
        log.exception("search queue not applied; it stays queued")


PARALLEL_FROM = 2_000  # projects; below this one process indexes faster than starting others


def reindex(progress=None, batch: int = 500) -> int:
    """Rebuild the whole index from the current snapshots (into a new directory, swapped in at
    the end, so searches go on meanwhile). Large rebuilds segment text on every core."""
    from portal.extensions import db
    from portal.publishing import replica as replica_log
    from portal.publishing.models import SearchQueueItem, Snapshot

    replica = current_app.config.get("PUBLIC_REPLICA")  # a subscriber has no queue: its log is followed
    with writer_lock():
        queued = [] if replica else list(db.session.scalars(sa.select(SearchQueueItem.id)))  # covered by this rebuild
        # a public node records the last entry of its index log this rebuild covers, and follows on
        # from there (not from the log's start)
        position = replica_log.log_top() if replica else None
        refs = list(db.session.scalars(sa.select(Snapshot.project_ref).where(Snapshot.current.is_(True))
                                       .distinct().order_by(Snapshot.project_ref)))
        db.session.commit()  # hold no transaction (on SQLite: no write lock) while indexing
        tmp = index_dir().with_name(index_dir().name + ".new")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        ix = whoosh_index.create_in(str(tmp), schema())
        procs = min(os.cpu_count() or 1, 4) if len(refs) >= PARALLEL_FROM else 1
        memory = current_app.config["SEARCH_INDEX_MEMORY_MB"]  # per process, before sorting runs on disk
        writer = (ix.writer(limitmb=memory, procs=procs, multisegment=True) if procs > 1
                  else ix.writer(limitmb=memory))
        for start in range(0, len(refs), batch):
            chunk = refs[start:start + batch]
            docs = documents_for(chunk)
            db.session.commit()
            for doc in docs.values():
                if doc is not None:
                    writer.add_document(**doc)
            if progress:
                progress(len(chunk))
        writer.commit()
        from portal.publishing.search import health

        health.write_manifest(tmp, whoosh_index.open_dir(str(tmp)).doc_count(), position=position)
        old = index_dir().with_name(index_dir().name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if index_dir().exists():
            index_dir().rename(old)
        tmp.rename(index_dir())
        shutil.rmtree(old, ignore_errors=True)
        _dequeue(queued)
    if not replica:
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
class Results(PageNumbers):
    query: str
    terms: list
    total: int = 0
    page: int = 1
    per_page: int = 20
    hits: list = field(default_factory=list)
    facets: dict = field(default_factory=dict)
    unavailable: bool = False  # the index is being rebuilt: say so, never "nothing found"
    needs_word: bool = False  # text was given, but nothing in it can be searched (的, %, ，。！)
    truncated: bool = False  # a long query: only its first words were searched
    kept: str = ""  # the query as understood (shown when truncated)
    fallback: bool = False  # some of the syntax was read as plain words
    approximate: bool = False  # a phrase matched too many projects to check each: "about N"
    suggestion: str = ""  # "did you mean", from the index's vocabulary
    corrected: bool = False  # no hits for the query as typed: these are the suggestion's
    max_words: int = MAX_WORDS


SORT_LIMIT = 100_000  # a download takes at most this many hits


def search(text: str, *, filters: dict | None = None, sort: str = "relevance", page: int = 1,
           per_page: int = 20, highlight: bool = True, rank: bool = True, suggest: bool = True) -> Results:
    """One page of hits for the search box's language (`query.parse`), exact facet counts over
    all matches. A query without a searchable word asks for one instead of listing everything;
    a query without hits is retried once with the closest words of the index ("did you mean")."""
    parsed = parse(text)
    page = max(1, page)
    results = Results(query=text, terms=parsed.highlight_terms(), page=page, per_page=per_page,
                      truncated=parsed.truncated, kept=parsed.kept, fallback=parsed.fallback)
    filters = {name: str(value) for name, value in (filters or {}).items() if value not in (None, "")}
    filters = {**parsed.filters, **filters}
    unknown = set(filters) - set(FACETS)
    if unknown:
        raise ValueError(f"not a facet: {sorted(unknown)}")
    if parsed.needs_word:
        results.needs_word = True
        return results
    view = current_view()
    if view is None:
        from portal.publishing.search import health

        status = health.check()
        results.unavailable = not status.usable or status.state == "rebuilding"
        if results.unavailable:
            health.heal(status)
        return results
    _run(view, parsed, results, filters, sort, highlight, rank)
    if results.total == 0 and suggest and parsed.clauses:
        suggestion = suggest_query(view, parsed)
        if suggestion:
            results.suggestion = suggestion
            retry = parse(suggestion)
            again = Results(query=suggestion, terms=retry.highlight_terms(), page=page, per_page=per_page)
            _run(view, retry, again, filters, sort, highlight, rank)
            if again.total:
                again.suggestion, again.corrected = suggestion, True
                again.query, again.kept, again.truncated = text, parsed.kept, parsed.truncated
                return again
    return results


def search_terms(terms: list[str], **kwargs) -> Results:
    """Every one of `terms` must occur: the core query, as Whoosh's And(Or(Term…)) reads it."""
    results = Results(query=" ".join(terms), terms=list(terms))
    view = current_view()
    if view is None:
        return results
    _run(view, plain(terms), results, {}, kwargs.get("sort", "relevance"), kwargs.get("highlight", True),
         kwargs.get("rank", False), per_page=kwargs.get("per_page", 20))
    return results


def _run(view, parsed: Parsed, results: Results, filters, sort, highlight, rank, per_page=None) -> None:
    if per_page:
        results.per_page = per_page
    start = (results.page - 1) * results.per_page
    found = view.match(parsed, filters, SORTS.get(sort), start, min(start + results.per_page, SORT_LIMIT), FACETS,
                       rank=rank, phrase_check=lambda doc, phrase: _has_phrase(view, doc, phrase))
    results.total, results.facets, results.approximate = found.total, found.facets, found.approximate
    terms = results.terms
    for docnum, score in zip(found.docnums.tolist(), found.scores.tolist(), strict=True):
        fields = view.searcher.stored_fields(docnum)
        title = body = ""
        if highlight and terms:
            title = marks.whole(fields["title"], terms)
            body = (marks.fragments(fields.get("body", ""), terms) or marks.fragments(fields.get("cells", ""), terms)
                    or marks.fragments(fields.get("report", ""), terms))
        results.hits.append(Hit(ref=int(fields["ref"]), fields=fields, title=title, highlights=body, score=score))


def _has_phrase(view, docnum: int, phrase: str) -> bool:
    """The exact text, in the stored title, body, cells or report (folded, spaces ignored; only
    the title is stored as published, the others folded)."""
    fields = view.searcher.stored_fields(docnum)
    for name in TEXT_FIELDS:
        value = fields.get(name) or ""
        if name == "title":
            value = fold(value)
        if phrase in "".join(value.lower().split()):
            return True
    return False


def suggest_query(view, parsed: Parsed) -> str:
    """The query with each word the index does not know replaced by its closest indexed word
    ("" when nothing would change)."""
    vocabulary = view.vocabulary
    changed = False
    out = []
    for clause in parsed.clauses:
        words = []
        for option in clause:
            word = option.text
            known = all(any(all(vocabulary.known(t) for t in alt) for alt in view.alternatives(slot))
                        for slot in option.slots)
            if not known and not option.phrase:
                better = vocabulary.closest("".join(word.split()))
                if better:
                    word, changed = better, True
            words.append(f'"{word}"' if option.phrase else word)
        out.append(" OR ".join(words))
    out += ["-" + o.text for o in parsed.excluded]
    return " ".join(out) if changed else ""


_views = threading.local()


def current_view() -> IndexView | None:
    """This thread's view of the index, rebuilt only when a writer has committed a new generation
    (opening the index and decoding its columns is most of the work, done once per generation)."""
    directory = str(index_dir())
    try:
        stat = index_dir().stat()
    except FileNotFoundError:
        return None
    key = (directory, stat.st_ino, stat.st_ctime_ns)  # a rebuilt index is a new directory
    view = getattr(_views, "by_dir", {}).get(key)
    if view is not None and view.searcher.up_to_date():
        return view
    from portal.publishing.search import health

    if (view is None and not whoosh_index.exists_in(directory)) or not health.files_intact(index_dir()):
        return None  # missing or damaged: never mapped into memory (a truncated segment is a SIGBUS)
    load_dictionary()  # jieba's dictionaries: once per process, before the first query's clock starts
    searcher = view.searcher.refresh() if view is not None else whoosh_index.open_dir(directory).searcher()
    if searcher.doc_count_all() == 0:
        return None  # an empty index has nothing to match (and no columns to read)
    forget_views()
    view = IndexView(searcher, text_fields=TEXT_FIELDS, facets=FACETS, sorts=SORT_COLUMNS)
    _ = view.vocabulary  # single characters and "did you mean" read it: once per generation, not in a query
    _views.by_dir = {key: view}
    return view


def forget_views() -> None:
    """Let go of this thread's views (their searchers close when no longer referenced)."""
    _views.by_dir = {}


def doc_count() -> int:
    """Documents in the index, as its last commit recorded them (0 when missing or damaged)."""
    from portal.publishing.search import health

    manifest = health.read_manifest(index_dir()) if index_dir().exists() else None
    if manifest is None or not health.files_intact(index_dir()):
        return 0
    return manifest["documents"]
