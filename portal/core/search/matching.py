# Over 400 lines: one vectorised evaluator over Whoosh's internals (pinned version), kept in one place on purpose.
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
import re
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.columns import NumericColumn, RefBytesColumn
from whoosh.matching.wrappers import FilterMatcher
from whoosh.util.numeric import byte_to_length

B, K1 = 0.75, 1.2  # whoosh.scoring.BM25F defaults
# Ranking tiers (see IndexView.match): where a query word occurs counts before how often.
FIELD_TIERS = {"title": 4.0, "body": 3.0, "cells": 1.0, "report": 1.0}
MIXED_TIER = 0.5
TIER_WEIGHT = 10_000.0  # above any BM25 sum
EXACT_WEIGHT = 10_000_000.0  # above any tier sum
EXACT_FIELD = "exact"
PHRASE_CHECK_LIMIT = 3_000  # candidates whose stored text is read for a phrase
CHAR_EXPANSION = 60  # indexed words a single character stands for (the most frequent)
_LENGTH_OF_BYTE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)
POSTINGS_CACHE_BYTES = 64 * 1024 * 1024


@dataclass
class Matches:
    docnums: np.ndarray  # the page, in order
    scores: np.ndarray  # their relevance (BM25F; 0 without query words)
    total: int
    facets: dict  # facet name -> [(value, count)], most frequent first
    approximate: bool = False  # a phrase had too many candidates to check each one


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
        self._vocabulary: Vocabulary | None = None

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
    def presence(self, term: str, field: str | None = None) -> np.ndarray:
        """Documents containing `term` (in `field`, or in any text field)."""
        present = np.zeros(self.size, dtype=bool)
        for f in (self.text_fields if field is None else (field,)):
            ids, _weights = self.postings(f, term)
            present[ids] = True
        return present

    def _slot_mask(self, slot, field: str | None, cache: dict) -> np.ndarray:
        mask = np.zeros(self.size, dtype=bool)
        for alternative in self.alternatives(slot):
            part = np.ones(self.size, dtype=bool)
            for term in alternative:
                key = (term, field)
                if key not in cache:
                    cache[key] = self.presence(term, field)
                part &= cache[key]
            mask |= part
        return mask

    def _option_mask(self, option, field: str | None, cache: dict) -> np.ndarray:
        mask = np.ones(self.size, dtype=bool)
        for slot in option.slots:
            mask &= self._slot_mask(slot, field, cache)
        return mask

    def alternatives(self, slot) -> list[tuple[str, ...]]:
        """A slot's alternatives; a single character also stands for the indexed two-character
        words that contain it (the most frequent CHAR_EXPANSION of them)."""
        if not slot.char:
            return slot.alternatives
        return slot.alternatives + [(t,) for t in self.vocabulary.containing(slot.char)]

    def match(self, plan, filters: dict, sort: tuple[str, bool] | None, start: int, stop: int,
              facet_names, facet_limit: int = 50, rank: bool = True, phrase_check=None) -> Matches:
        """Evaluate a parsed query (query.Parsed): every clause must match (a clause: any of its
        options; an option: all its slots; a slot: any alternative; an alternative: all its terms,
        each in some text field), no excluded option may. Scores are Whoosh's BM25F summed over
        the distinct query terms a document contains; with `rank`, documents are then ordered in
        tiers — an exact project name or code first, then by where the words occur (title above
        goal and conclusion text above indicator-table cells and report text) — and by score
        within a tier."""
        mask = self.live.copy()
        cache: dict = {}
        terms: dict[str, None] = {}
        phrases = []
        for clause in plan.clauses:
            clause_mask = np.zeros(self.size, dtype=bool)
            for option in clause:
                option_mask = self._option_mask(option, None, cache)
                if option.phrase and phrase_check is not None:
                    phrases.append((option, option_mask))
                clause_mask |= option_mask
                for slot in option.slots:
                    for alternative in self.alternatives(slot):
                        terms.update(dict.fromkeys(alternative))
            mask &= clause_mask
        for option in plan.excluded:
            mask &= ~self._option_mask(option, None, cache)
        for name, value in filters.items():
            codes, values = self.facets[name]
            mask &= codes == (values.index(value) if value in values else -1)
        approximate = False
        if phrases:  # the exact text, checked in the stored text of the candidates
            approximate = self._check_phrases(plan, phrases, mask, phrase_check)
        score = np.zeros(self.size, dtype=np.float64)
        for term in terms:
            for field in self.text_fields:
                ids, weights = self.postings(field, term)
                if not len(ids):
                    continue
                lengths = self.lengths[field][ids]
                score[ids] += self.idf(field, term) * (weights * (K1 + 1)) / (
                    weights + K1 * ((1 - B) + B * lengths / self.average[field]))
        docs = np.flatnonzero(mask)
        if rank and plan.clauses and len(docs):
            score = score + self._tiers(plan, docs, cache)
        page = self._order(docs, score, bool(plan.clauses), sort, stop)[start:stop]
        facets = {}
        for name in facet_names:
            codes, values = self.facets[name]
            counts = np.bincount(codes[docs], minlength=len(values))
            facets[name] = sorted(((values[c], int(n)) for c, n in enumerate(counts) if n and values[c]),
                                  key=lambda kv: (-kv[1], kv[0]))[:facet_limit]  # the most frequent
        return Matches(docnums=page, scores=score[page], total=int(len(docs)), facets=facets,
                       approximate=approximate)

    def _check_phrases(self, plan, phrases, mask: np.ndarray, check) -> bool:
        """Keep only the documents whose stored text has each phrase they matched by; past
        PHRASE_CHECK_LIMIT candidates the words alone decide (and the total says "about")."""
        candidates = np.flatnonzero(mask)
        if len(candidates) > PHRASE_CHECK_LIMIT:
            return True
        for clause in plan.clauses:
            phrased = [(o, m) for o, m in phrases if any(o is x for x in clause)]
            if not phrased:
                continue
            keep = np.zeros(self.size, dtype=bool)
            plain = [o for o in clause if not o.phrase]
            for option in plain:
                keep |= self._option_mask(option, None, {})
            for option, option_mask in phrased:
                for doc in candidates[option_mask[candidates] & ~keep[candidates]]:
                    if check(int(doc), option.phrase):
                        keep[doc] = True
            mask &= keep
        return False

    def _tiers(self, plan, docs: np.ndarray, cache: dict) -> np.ndarray:
        """Ranking bonuses, far larger than any BM25 score so they order first."""
        bonus = np.zeros(self.size, dtype=np.float64)
        where = np.zeros(self.size, dtype=np.float64)
        for clause in plan.clauses:
            best = np.zeros(self.size, dtype=np.float64)
            for field, tier in FIELD_TIERS.items():
                if field not in self.text_fields:
                    continue
                inside = np.zeros(self.size, dtype=bool)
                for option in clause:
                    inside |= self._option_mask(option, field, cache)
                np.maximum(best, np.where(inside, tier, 0.0), out=best)
            where += np.where(best > 0, best, MIXED_TIER)  # the words spread over several fields
        bonus[docs] = where[docs] * TIER_WEIGHT
        exact = self.exact(plan)
        if exact is not None and len(exact):
            bonus[exact] += EXACT_WEIGHT
        return bonus

    def exact(self, plan) -> np.ndarray | None:
        """Documents whose project name or code is exactly the query."""
        if EXACT_FIELD not in self.searcher.schema.names() or not plan.clauses or plan.excluded:
            return None
        if any(len(clause) > 1 or clause[0].phrase for clause in plan.clauses):
            return None
        key = exact_key("".join(clause[0].text for clause in plan.clauses))
        if not key:
            return None
        ids, _weights = self.postings(EXACT_FIELD, key)
        return ids

    @property
    def vocabulary(self) -> Vocabulary:
        if self._vocabulary is None:
            self._vocabulary = Vocabulary(self)
        return self._vocabulary

    def _order(self, docs: np.ndarray, score: np.ndarray, terms: bool, sort, stop: int) -> np.ndarray:
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


# ---- the index's own vocabulary (single characters, "did you mean") ------------------------------

def exact_key(text: str) -> str:
    """A project name or code as compared for an exact match: folded, lower case, no spaces."""
    from portal.core.search.normalise import fold

    return re.sub(r"[\s,]+", "", fold(text or "")).lower()  # (commas separate the field's terms)


def _is_cjk(word: str) -> bool:
    return bool(word) and all("\u4e00" <= ch <= "\u9fff" for ch in word)


class Vocabulary:
    """Chinese words of the index by character, read once per generation when first needed:
    two-character words (what a single character stands for) and longer ones (spelling)."""

    SPELLING_FIELDS = ("title", "body", "cells")

    def __init__(self, view: IndexView):
        self.view = view
        self.two: dict[str, list[str]] = {}
        self.long_by_char: dict[str, list[str]] = {}
        two, long = set(), set()
        for reader, _offset in view.leaves:  # each segment's sorted lexicon (no merging needed)
            for field in view.text_fields:
                if field not in reader.schema.names():
                    continue
                for raw in reader.lexicon(field):
                    if len(raw) < 6 or len(raw) > 30:  # UTF-8: Chinese words of 2–10 characters
                        continue
                    word = raw.decode("utf-8")
                    if not _is_cjk(word):
                        continue
                    if len(word) == 2:
                        two.add(word)
                    elif len(word) >= 3 and field in self.SPELLING_FIELDS:
                        long.add(word)
        for word in two:
            for ch in set(word):
                self.two.setdefault(ch, []).append(word)
        for word in long:
            for ch in set(word):
                self.long_by_char.setdefault(ch, []).append(word)
        self._containing: dict[str, list[str]] = {}

    def frequency(self, word: str) -> int:
        searcher = self.view.searcher
        return sum(searcher.doc_frequency(f, word) for f in self.view.text_fields)

    def containing(self, ch: str) -> list[str]:
        if ch not in self._containing:
            words = sorted(set(self.two.get(ch, [])))
            ranked = sorted(words, key=lambda w: (-self.frequency(w), w))
            self._containing[ch] = ranked[:CHAR_EXPANSION]
        return self._containing[ch]

    def known(self, word: str) -> bool:
        return self.frequency(word) > 0

    def closest(self, word: str) -> str | None:
        """The indexed word nearest to `word` (one edit for up to five characters, two beyond),
        the most frequent among equals; None when nothing is near."""
        if len(word) < 3 or not _is_cjk(word):
            return None
        limit = 1 if len(word) <= 5 else 2
        shared: dict[str, int] = {}
        for ch in set(word):
            for candidate in self.long_by_char.get(ch, ()):
                if abs(len(candidate) - len(word)) <= limit:
                    shared[candidate] = shared.get(candidate, 0) + 1
        need = len(set(word)) - limit
        best = None
        for candidate, count in shared.items():
            if count < need or candidate == word:
                continue
            distance = _edit_distance(word, candidate, limit)
            if distance <= limit:
                key = (distance, -self.frequency(candidate), candidate)
                if best is None or key < best[0]:
                    best = (key, candidate)
        return best[1] if best else None


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, giving up (limit + 1) once it must exceed `limit`."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]
