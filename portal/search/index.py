"""The portal's search index (Whoosh, instance/portal-index or PORTAL_INDEX_DIR): add, remove,
query, rebuild — the tiny adapter the rest of the portal calls.

The analyser, the folding (traditional → simplified, full → half width), the synonyms and the
highlighter are the public site's (portal/core/search): one Chinese segmentation for both faces.
One writer at a time (a file lock). The folder is a cache: `health()` finds it missing, damaged
or built from another database, and `rebuild()` writes a new folder from the database and swaps
it in (what `flask search-portal rebuild` and the self-healing job run)."""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

from flask import current_app
from whoosh import index as whoosh_index
from whoosh.fields import ID, STORED, TEXT, Schema
from whoosh.query import And, Or, Term

from portal.core.search.analysis import ChineseAnalyzer, query_terms, synonyms_of
from portal.core.search.normalise import fold
from portal.core.search.writer_lock import index_writer_lock
from portal.publishing.search import health as public_health

log = logging.getLogger("portal.search")
BODY_LIMIT = 40_000  # characters of a document's text kept for matching and snippets
MAX_WORDS = 10
FIELDS = ("title", "body")


def schema() -> Schema:
    analyzer = ChineseAnalyzer()
    return Schema(
        ref=ID(stored=True, unique=True),  # "letter:12"
        kind=ID(stored=True),
        record_id=STORED,
        title=TEXT(analyzer=analyzer, stored=True, field_boost=3.0, phrase=False),
        body=TEXT(analyzer=analyzer, stored=True, phrase=False),
    )


def index_dir() -> Path:
    configured = current_app.config.get("PORTAL_INDEX_DIR")
    return Path(configured) if configured else Path(current_app.config["INSTANCE_DIR"]) / "portal-index"


def exists(path: Path | None = None) -> bool:
    path = path or index_dir()
    return path.is_dir() and whoosh_index.exists_in(str(path))


_identities: dict[str, str] = {}


def _database_identity() -> str:
    """The public site's database identity, asked once per process and database."""
    from portal.extensions import db

    key = str(db.engine.url)
    if key not in _identities:
        _identities[key] = public_health.database_identity()
    return _identities[key]


def health() -> str:
    """ok | missing | corrupt | foreign — read from the manifest and file sizes only."""
    path = index_dir()
    if not exists(path):
        return "missing"
    if not public_health.files_intact(path):
        return "corrupt"
    if (public_health.read_manifest(path) or {}).get("database") != _database_identity():
        return "foreign"
    return "ok"


def writer_lock(timeout: float = 30.0):
    return index_writer_lock(index_dir(), timeout, "portal index")


# ---- documents -------------------------------------------------------------------------------

def document(kind, record) -> dict:
    title, body = kind.document(record)
    return {"ref": f"{kind.name}:{record.id}", "kind": kind.name, "record_id": record.id,
            "title": fold(str(title)), "body": fold(str(body))[:BODY_LIMIT]}


def _write(writer, kind, ids) -> int:
    records = kind.load(ids)
    for record_id in ids:
        record = records.get(record_id)
        if record is None:
            writer.delete_by_term("ref", f"{kind.name}:{record_id}")
        else:
            writer.update_document(**document(kind, record))
    return len(ids)


def update(refs: dict[str, list[int]]) -> int:
    """Bring the given records' documents up to date (deleted records leave the index). A missing
    or damaged index is rebuilt whole instead: never a fresh index holding only these records."""
    from portal.extensions import db
    from portal.search.kinds import KINDS

    if health() != "ok":
        return rebuild()
    with writer_lock():
        ix = whoosh_index.open_dir(str(index_dir()))
        writer = ix.writer()
        try:
            done = sum(_write(writer, KINDS[name], sorted(set(ids))) for name, ids in refs.items() if name in KINDS)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        public_health.write_manifest(index_dir(), ix.doc_count())
    db.session.rollback()  # end the read before the next message
    return done


def rebuild(batch: int = 500, progress=None) -> int:
    """Every record of every kind into a new folder, swapped in at the end. Returns documents."""
    import sqlalchemy as sa

    from portal.extensions import db
    from portal.search.kinds import KINDS

    target = index_dir()
    fresh = target.parent / (target.name + ".new")
    with writer_lock(timeout=600):
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir(parents=True)
        ix = whoosh_index.create_in(str(fresh), schema())
        writer = ix.writer(limitmb=128)
        count = 0
        try:
            for kind in KINDS.values():
                model = kind.model()
                last = 0
                while True:
                    ids = list(db.session.scalars(sa.select(model.id).where(model.id > last)
                                                  .order_by(model.id).limit(batch)))
                    if not ids:
                        break
                    count += _write(writer, kind, ids)
                    last = ids[-1]  # rows read are let go (the identity map holds them weakly)
                    if progress:
                        progress(len(ids))
        except BaseException:
            writer.cancel()
            shutil.rmtree(fresh, ignore_errors=True)
            raise
        writer.commit()
        public_health.write_manifest(fresh, count)
        db.session.rollback()
        old = target.parent / (target.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            target.rename(old)
        fresh.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    log.warning("portal search index rebuilt: %s documents", count)
    return count


# ---- queries ---------------------------------------------------------------------------------

def words_of(text: str) -> list[str]:
    """The query's index words (the public site's segmentation), at most MAX_WORDS."""
    return query_terms((text or "")[:100])[:MAX_WORDS]


def build_query(words: list[str]):
    """Every word must match, in the title or the text; each also stands for its synonyms."""
    clauses = []
    for word in words:
        options = [Or([Term(f, word) for f in FIELDS])]
        for other in synonyms_of(word):
            parts = query_terms(other) or [other]
            options.append(And([Or([Term(f, p) for f in FIELDS]) for p in parts]))
        clauses.append(Or(options))
    return And(clauses) if clauses else None


def open_searcher():
    """One searcher for a whole search (all kinds): the index is opened once."""
    return whoosh_index.open_dir(str(index_dir())).searcher()


def candidates(searcher, query, kind: str, *, offset: int, limit: int) -> list[dict]:
    """Hits of one kind, best first: [{record_id, title, body}] from `offset`."""
    # the kind as a clause of the query, not a filter: a filter builds a set of every document
    # of the kind on each search; a clause intersects the postings
    results = searcher.search(And([Term("kind", kind), query]), limit=offset + limit)
    # scored_length(), not len(): the total would cost a second pass over every matching document
    return [{"record_id": hit["record_id"], "title": hit["title"], "body": hit["body"]}
            for hit in (results[i] for i in range(offset, results.scored_length()))]
