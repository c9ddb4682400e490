"""Query evaluation over a Whoosh index, vectorised with numpy.

Whoosh writes and stores the index (segments, posting blocks, stored fields, columns); this
module reads it. Whoosh's own matchers walk posting lists one document at a time in Python,
which costs hundreds of milliseconds when a word occurs in most of 100,000 projects (满意度 is
in every indicator table). Here a term's postings are read block by block into arrays (cached
per index generation), and matching, BM25F scoring (Whoosh's formula and statistics, so the
ranking is Whoosh's), filtering, sorting and facet counting are array operations.

`IndexView(searcher)` is built once per index generation (what it caches — field lengths,
facet codes, sort keys, the live-document mask — never changes within a generation).
"""
from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.columns import NumericColumn, RefBytesColumn
from whoosh.matching.wrappers import FilterMatcher
from whoosh.util.numeric import byte_to_length

B, K1 = 0.75, 1.2  # whoosh.scoring.BM25F defaults
_LENGTH_OF_BYTE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)
POSTINGS_CACHE_BYTES = 64 * 1024 * 1024


@dataclass
class Matches:
    docnums: np.ndarray  # the page, in order
    scores: np.ndarray  # their relevance (BM25F; 0 without query words)
    total: int
    facets: dict  # facet name -> [(value, count)], most frequent first


class IndexView:
    """Arrays over one generation of the index (global document numbers)."""

    def __init__(self, searcher, *, text_fields, facets, sorts):
        self.searcher = searcher
        self.text_fields = tuple(text_fields)
        self.size = searcher.doc_count_all()
        self.leaves = [(s.reader(), offset) for s, offset in searcher.leaf_searchers()]
        self.live = np.ones(self.size, dtype=bool)
        for reader, offset in self.leaves:
            if reader.has_deletions():
                deleted = getattr(reader, "deleted_docs_set", None)  # a segment's, as a set
                if deleted is None:
                    deleted = [d for d in range(reader.doc_count_all()) if reader.is_deleted(d)]
                self.live[[offset + d for d in deleted]] = False
        self.lengths = {f: self._concat(lambda r, f=f: _lengths(r, f)) for f in self.text_fields}
        self.average = {f: searcher.avg_field_length(f) or 1 for f in self.text_fields}
        self.facets = {name: self._codes(name) for name in facets}
        self.sort_keys = {name: self._concat(lambda r, name=name: _numbers(r, name)) for name in sorts}
        self._postings: OrderedDict = OrderedDict()
        self._cached_bytes = 0

    def _concat(self, per_leaf) -> np.ndarray:
        parts = [per_leaf(reader) for reader, _offset in self.leaves]
        return np.concatenate(parts) if parts else np.zeros(0)

    def _codes(self, name: str) -> tuple[np.ndarray, list[str]]:
        """One facet as integer codes per document and the code → value list."""
        values: dict[str, int] = {}
        parts = []
        for reader, _offset in self.leaves:
            codes, uniques = _refs(reader, name)
            mapping = np.array([values.setdefault(u, len(values)) for u in uniques] or [0], dtype=np.int32)
            parts.append(mapping[codes] if len(codes) else codes.astype(np.int32))
        return (np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)), list(values)

    # ---- postings ------------------------------------------------------------------------------
    def postings(self, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(global docnums, weights) of a term in a field, deleted documents included."""
        key = (field, text)
        if key in self._postings:
            self._postings.move_to_end(key)
            return self._postings[key]
        ids, weights = [], []
        for reader, offset in self.leaves:
            if (field, text) not in reader:
                continue
            leaf_ids, leaf_weights = _read_postings(reader.postings(field, text))
            ids.append(leaf_ids + offset)
            weights.append(leaf_weights)
        found = (np.concatenate(ids), np.concatenate(weights)) if ids else (np.zeros(0, np.int64), np.zeros(0))
        self._remember(key, found)
        return found

    def _remember(self, key, value) -> None:
        self._postings[key] = value
        self._cached_bytes += value[0].nbytes + value[1].nbytes
        while self._cached_bytes > POSTINGS_CACHE_BYTES and len(self._postings) > 1:
            _key, (ids, weights) = self._postings.popitem(last=False)
            self._cached_bytes -= ids.nbytes + weights.nbytes

    def idf(self, field: str, text: str) -> float:
        # whoosh.scoring.WeightingModel.idf: over every document, deleted ones included
        return math.log(self.size / (self.searcher.doc_frequency(field, text) + 1)) + 1

    # ---- a query ---------------------------------------------------------------------------------
    def match(self, terms: list[str], filters: dict, sort: tuple[str, bool] | None, start: int, stop: int,
              facet_names, facet_limit: int = 50) -> Matches:
        """Every term must occur in some text field (AND of ORs); BM25F scores summed as Whoosh does."""
        mask = self.live.copy()
        score = np.zeros(self.size, dtype=np.float64)
        for term in terms:
            present = np.zeros(self.size, dtype=bool)
            for field in self.text_fields:
                ids, weights = self.postings(field, term)
                if not len(ids):
                    continue
                lengths = self.lengths[field][ids]
                score[ids] += self.idf(field, term) * (weights * (K1 + 1)) / (
                    weights + K1 * ((1 - B) + B * lengths / self.average[field]))
                present[ids] = True
            mask &= present
        for name, value in filters.items():
            codes, values = self.facets[name]
            mask &= codes == (values.index(value) if value in values else -1)
        docs = np.flatnonzero(mask)
        page = self._order(docs, score, terms, sort, stop)[start:stop]
        facets = {}
        for name in facet_names:
            codes, values = self.facets[name]
            counts = np.bincount(codes[docs], minlength=len(values))
            facets[name] = sorted(((values[c], int(n)) for c, n in enumerate(counts) if n and values[c]),
                                  key=lambda kv: (-kv[1], kv[0]))[:facet_limit]  # the most frequent
        return Matches(docnums=page, scores=score[page], total=int(len(docs)), facets=facets)

    def _order(self, docs: np.ndarray, score: np.ndarray, terms, sort, stop: int) -> np.ndarray:
        """The first `stop` documents: by score (ties by document number) or by a sort column."""
        if sort is not None:
            name, reverse = sort
            keys = self.sort_keys[name][docs]
            order = np.lexsort((docs, -keys if reverse else keys))
            return docs[order[:stop]]
        if not terms:
            return docs[:stop]
        scores = score[docs]
        if len(docs) > stop:
            top = np.argpartition(-scores, stop - 1)[:stop]
            docs, scores = docs[top], scores[top]
        return docs[np.lexsort((docs, -scores))]


# ---- reading Whoosh's structures ---------------------------------------------------------------

def _read_postings(matcher) -> tuple[np.ndarray, np.ndarray]:
    """All of a term's postings in one segment, block by block (W3 codec), else one by one."""
    if isinstance(matcher, FilterMatcher):  # deletions: handled by the live mask instead
        matcher = matcher.child
    if not isinstance(matcher, W3LeafMatcher):
        ids, weights = [], []
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
        return np.array(ids, dtype=np.int64), np.array(weights, dtype=np.float64)
    deltas: list[int] = []
    weights: list[float] = []
    previous_max = 0
    while matcher.is_active():
        matcher._read_data()
        block_deltas, block_weights, _values = matcher._data
        count = matcher._blocklength
        # ids are delta-coded from 0 within each block: chain the blocks for one cumsum
        deltas.append(block_deltas[0] - previous_max)
        deltas.extend(block_deltas[1:])
        if block_weights is None:
            weights.extend([1.0] * count)
        elif isinstance(block_weights, float):
            weights.extend([block_weights] * count)
        else:
            weights.extend(block_weights)
        previous_max = matcher._maxid
        matcher._next_block()
    return np.cumsum(np.array(deltas, dtype=np.int64)), np.array(weights, dtype=np.float64)


def _column(reader, name: str, column=None):
    perdoc = reader._perdoc
    if not perdoc.has_column(name):
        return None
    return perdoc.column_reader(name, column or reader.schema[name].column_type)


def _lengths(reader, field: str) -> np.ndarray:
    """Each document's length of `field` (Whoosh's one-byte approximation, as its scorer uses)."""
    column = _column(reader, _lenfield(field), LENGTHS_COLUMN)
    if column is None:
        return np.zeros(reader.doc_count_all())
    return _LENGTH_OF_BYTE[_fixed_array(column, "B", reader.doc_count_all())]


def _numbers(reader, name: str) -> np.ndarray:
    column = _column(reader, name)
    if column is None:
        return np.zeros(reader.doc_count_all(), dtype=np.int64)
    if isinstance(column, NumericColumn.Reader):
        return _fixed_array(column, column._typecode, reader.doc_count_all()).astype(np.int64)
    return np.array(list(column), dtype=np.int64)


def _fixed_array(column, typecode: str, count: int) -> np.ndarray:
    """A fixed-width column's values at once (big-endian on disk), the default past its end."""
    dtype = np.dtype(typecode).newbyteorder(">")
    stored = min(column._count, count)
    values = np.frombuffer(column._dbfile.get(column._basepos, stored * dtype.itemsize), dtype=dtype)
    if stored < count:
        values = np.concatenate([values, np.full(count - stored, column._default, dtype=dtype)])
    return values.astype(dtype.newbyteorder("="))


def _refs(reader, name: str) -> tuple[np.ndarray, list[str]]:
    """An ID column (Whoosh stores unique values once and a reference per document)."""
    column = _column(reader, name)
    count = reader.doc_count_all()
    if column is None:
        return np.zeros(count, dtype=np.int64), [""]
    if isinstance(column, RefBytesColumn.Reader):
        dtype = np.dtype(column._typecode).newbyteorder(">")
        codes = np.frombuffer(column._dbfile.get(column._basepos, count * dtype.itemsize), dtype=dtype)
        return codes.astype(np.int64), [u.decode() for u in column._uniques]
    values = [v.decode() if isinstance(v, bytes) else str(v) for v in column]
    uniques = sorted(set(values))
    position = {u: i for i, u in enumerate(uniques)}
    return np.array([position[v] for v in values], dtype=np.int64), uniques
