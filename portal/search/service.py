"""One search over the portal: the index proposes, the permission point disposes.

Whoosh returns the best candidates of each kind; each batch is put to the kind's scope
(`visible(user, Model)`, the same SELECT its list starts from) and each survivor to
`can(user, "view", record)`; only then is a hit shown. Nothing about who may see what is kept
in the index, so a change of roles or of a record's unit is right at once."""
from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup

from portal.core.search import highlight
from portal.search import index
from portal.search.kinds import KINDS, Kind, readable

GROUP_SIZE = 5  # hits per kind on the grouped page
KIND_PAGE = 50  # hits when one kind is asked for
BATCH = 100
MAX_SCANNED = 2_000  # candidates looked at per kind, at most


@dataclass
class Hit:
    kind: Kind
    record: object
    title: Markup
    snippet: Markup

    @property
    def url(self) -> str:
        return self.kind.url(self.record)


@dataclass
class Group:
    kind: Kind
    hits: list[Hit] = field(default_factory=list)
    more: bool = False  # more visible hits than shown


@dataclass
class Results:
    text: str
    words: list[str]
    groups: list[Group]
    state: str = "ok"  # ok | rebuilding

    @property
    def total_shown(self) -> int:
        return sum(len(g.hits) for g in self.groups)


def _visible_hits(searcher, user, kind: Kind, query, words: list[str], wanted: int) -> tuple[list[Hit], bool]:
    hits: list[Hit] = []
    offset = 0
    size = max(4 * wanted, 20)  # most searches need one small batch; later ones are larger
    while offset < MAX_SCANNED:
        batch = index.candidates(searcher, query, kind.name, offset=offset, limit=size)
        if not batch:
            return hits, False
        offset += len(batch)
        ids = [c["record_id"] for c in batch]
        allowed = kind.visible_ids(user, ids)
        records = kind.load([i for i in ids if i in allowed])
        for candidate in batch:
            record = records.get(candidate["record_id"])
            if record is None or not readable(user, kind, record):
                continue
            if len(hits) == wanted:
                return hits, True
            # the title as indexed (the outbox brings it up to date after each commit)
            hits.append(Hit(kind, record, Markup(highlight.whole(candidate["title"], words)),
                            Markup(highlight.fragments(candidate["body"], words, top=1))))
        if len(batch) < size:
            return hits, False
        size = BATCH
    return hits, False


def search(user, text: str, kind: str | None = None) -> Results:
    text = (text or "").strip()[:100]
    words = index.words_of(text)
    state = index.health()
    if state != "ok":
        from portal.search.tracking import heal

        heal()
        state = index.health()
        if state != "ok":
            return Results(text, words, [], state="rebuilding")
    query = index.build_query(words)
    if query is None:
        return Results(text, words, [])
    kinds = [KINDS[kind]] if kind in KINDS else list(KINDS.values())
    wanted = KIND_PAGE if kind in KINDS else GROUP_SIZE
    groups = []
    with index.open_searcher() as searcher:
        for k in kinds:
            hits, more = _visible_hits(searcher, user, k, query, words, wanted)
            if hits:
                groups.append(Group(k, hits, more))
    return Results(text, words, groups)
