"""The live snapshots (current and published) held in memory as columns, one copy per process and
publication state, for what SQL answers slowly at province scale: facet counts under any
combination of filters, the order of a browse page, and the site-wide figures (headline, the
department list, charts). 100,000 projects make ~160,000 live snapshots, ~10 MB of arrays,
loaded in well under a second after each publication; a facet count is then a millisecond.

Pages read their rows from the database by id (`rows(ids)`); downloads stream from SQL."""
from __future__ import annotations

import gc
import threading
from decimal import Decimal

import numpy as np
import sqlalchemy as sa

from portal.extensions import db
from portal.publishing.models import PublicationKind, Snapshot, SnapshotState

FACETS = ("year", "department", "unit", "project_kind", "budget_type", "amount_band", "grade", "rectification")
_COLUMNS = {"year": Snapshot.year, "department": Snapshot.department_ref, "unit": Snapshot.unit_name,
            "project_kind": Snapshot.project_kind, "budget_type": Snapshot.budget_type,
            "amount_band": Snapshot.amount_band, "grade": Snapshot.grade, "rectification": Snapshot.rectification}
_NUMERIC = ("year", "department")  # filters given as text, compared as numbers
FACET_LIMIT = 50  # values listed per facet, the most frequent first
KINDS = list(PublicationKind)


class LiveTable:
    def __init__(self, rows: list[tuple]):
        """rows: (id, project_ref, kind, published_at, amount, score, project_code, department_name,
        *FACETS) as the database driver returns them (no type conversion: this is 160,000 rows)."""
        columns = list(zip(*rows, strict=True)) if rows else [()] * (8 + len(FACETS))
        (ids, refs, kinds, published, amounts, scores, codes, department_names, *facets) = columns
        self.size = len(rows)
        self.ids = np.array(ids, dtype=np.int64)
        self.refs = np.array(refs, dtype=np.int64)
        kind_index = {k.value: i for i, k in enumerate(KINDS)}
        self.kind = np.array([kind_index[k] for k in kinds], dtype=np.int8)
        # text on SQLite, datetimes on PostgreSQL: numpy reads both
        self.published = np.array(published, dtype="datetime64[us]").astype(np.int64)
        self.cents = np.rint(np.array(amounts, dtype=np.float64) * 100).astype(np.int64)  # exact sums
        self.score = np.array([np.nan if s is None else s for s in scores], dtype=np.float64)
        self.code_rank = np.unique(np.array(codes, dtype=str), return_inverse=True)[1].reshape(-1)
        self.facets = {name: _encode(values) for name, values in zip(FACETS, facets, strict=True)}
        self.department_names = dict(zip(facets[1], department_names, strict=True))
        # filter text → the codes of the values it names, per facet (values compare as text)
        self._codes_of: dict[str, dict[str, list[int]]] = {}
        for name, (_codes, values) in self.facets.items():
            index: dict[str, list[int]] = {}
            for i, v in enumerate(values):
                if v is not None:
                    index.setdefault(str(v), []).append(i)
            self._codes_of[name] = index
        # each value's place in text order: ties in a facet's counts list alphabetically
        self._text_rank = {name: np.argsort(np.argsort(np.array([str(v) for v in values], dtype=str), kind="stable"))
                           for name, (_codes, values) in self.facets.items()}
        self._kind_masks: dict[tuple, np.ndarray] = {}

    # ---- selections ----------------------------------------------------------------------------
    def mask(self, kinds, filters: dict, skip: str | None = None) -> np.ndarray:
        selected = self._kind_mask(kinds).copy()
        for name, wanted in filters.items():
            if name != skip:
                selected &= self._equals(name, wanted)
        return selected

    def _kind_mask(self, kinds) -> np.ndarray:
        key = tuple(kinds)
        if key not in self._kind_masks:  # a handful of kind sets: computed once per table
            self._kind_masks[key] = _lookup(self.kind, len(KINDS), [KINDS.index(PublicationKind(k)) for k in kinds])
        return self._kind_masks[key]

    def _equals(self, name: str, wanted: str) -> np.ndarray:
        codes, values = self.facets[name]
        if name in _NUMERIC:
            try:
                wanted = str(int(wanted))
            except ValueError:
                return np.zeros(self.size, dtype=bool)
        return _lookup(codes, len(values), self._codes_of[name].get(wanted, []))

    def facet_counts(self, kinds, filters: dict) -> dict[str, list[tuple]]:
        """Each facet counted under every filter but its own, the most frequent values first."""
        out = {}
        for name in FACETS:
            codes, values = self.facets[name]
            counts = np.bincount(codes[self.mask(kinds, filters, skip=name)], minlength=len(values))
            present = np.flatnonzero(counts)
            ranked = present[np.lexsort((self._text_rank[name][present], -counts[present]))][:FACET_LIMIT]
            out[name] = [(values[i], int(counts[i])) for i in ranked.tolist()]
        return out

    def page(self, kinds, filters: dict, sort: str, page: int, per_page: int) -> tuple[list[int], int]:
        """(snapshot ids of the page, in order; total)."""
        rows = np.flatnonzero(self.mask(kinds, filters))
        ids = self.ids[rows]
        keys = {"amount": (ids, -self.cents[rows]),
                "score": (ids, -np.nan_to_num(self.score[rows]), np.isnan(self.score[rows])),  # nulls last
                "name": (ids, self.code_rank[rows])}.get(sort) or (-ids, -self.published[rows])
        order = np.lexsort(keys)
        start = (page - 1) * per_page
        return ids[order[start:start + per_page]].tolist(), int(len(rows))

    # ---- site-wide figures ---------------------------------------------------------------------
    def headline(self) -> dict:
        goals = self.kind == KINDS.index(PublicationKind.GOALS)
        results = _lookup(self.kind, len(KINDS), [KINDS.index(k) for k in (PublicationKind.SELF_EVALUATION,
                                                                            PublicationKind.FINANCE_EVALUATION)])
        finance = self.kind == KINDS.index(PublicationKind.FINANCE_EVALUATION)
        return {"projects": int(len(np.unique(self.refs))), "goals": int(goals.sum()),
                "results": int(results.sum()), "money": _yuan(self.cents[finance].sum()),
                "departments": len(self.department_names)}

    def sums(self, kinds, by: str, department: int | None = None) -> dict:
        """count and amount per value of a facet (charts)."""
        selected = self.mask(kinds, {"department": str(department)} if department else {})
        codes, values = self.facets[by]
        counts = np.bincount(codes[selected], minlength=len(values))
        money = np.bincount(codes[selected], weights=self.cents[selected], minlength=len(values))
        return {values[i]: (int(counts[i]), _yuan(money[i])) for i in range(len(values)) if counts[i]}

    def projects_by(self, kinds, first: str, second: str) -> dict[tuple, int]:
        """Distinct projects per pair of facet values (e.g. department name × rectification)."""
        selected = self.mask(kinds, {})
        a_codes, a_values = self.facets[first]
        b_codes, b_values = self.facets[second]
        pair = a_codes[selected].astype(np.int64) * len(b_values) + b_codes[selected]
        span = int(self.refs.max(initial=0)) + 1
        distinct = np.unique(pair * span + self.refs[selected]) // span  # one per (pair, project)
        pairs, counts = np.unique(distinct, return_counts=True)
        return {(a_values[p // len(b_values)], b_values[p % len(b_values)]): int(n)
                for p, n in zip(pairs.tolist(), counts.tolist(), strict=True)}


def _lookup(codes: np.ndarray, n_values: int, wanted: list[int]) -> np.ndarray:
    """Rows whose code is one of `wanted`: a table lookup per row (np.isin sorts, 5× slower)."""
    table = np.zeros(n_values, dtype=bool)
    table[wanted] = True
    return table[codes]


def _yuan(cents) -> Decimal:
    return Decimal(int(round(cents))) / 100


def _encode(values) -> tuple[np.ndarray, list]:
    """Codes per row and the distinct values they stand for."""
    distinct = list(dict.fromkeys(values))
    index = {v: i for i, v in enumerate(distinct)}
    return np.fromiter(map(index.__getitem__, values), dtype=np.int32, count=len(values)), distinct


# ---- one table per process and publication state ---------------------------------------------

_cached: dict = {}
_lock = threading.Lock()


def table() -> LiveTable:
    from flask import current_app

    from public_site.data import publication_state

    state = (*publication_state(), current_app.config["SQLALCHEMY_DATABASE_URI"])
    found = _cached.get("table")
    if found is not None and found[0] == state:
        return found[1]
    with _lock:
        found = _cached.get("table")
        if found is None or found[0] != state:
            gc.disable()  # millions of short-lived objects: collecting meanwhile only costs time
            try:
                found = (state, LiveTable(_load()))
            finally:
                gc.enable()
            _cached["table"] = found
    return found[1]


def forget() -> None:
    """Drop the table (tests reuse ids and times in fresh databases)."""
    _cached.clear()


def _load() -> list[tuple]:
    columns = (Snapshot.id, Snapshot.project_ref, Snapshot.kind, Snapshot.published_at, Snapshot.amount,
               Snapshot.score, Snapshot.project_code, Snapshot.department_name, *_COLUMNS.values())
    stmt = sa.select(*columns).where(Snapshot.current.is_(True), Snapshot.state == SnapshotState.PUBLISHED)
    # The index ix_pub_snapshots_live covers every column, so the wide rows with their JSON are
    # never read; the driver's own tuples skip per-value conversion (this is 160,000 rows).
    connection = db.session.connection()
    sql = str(stmt.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    return connection.connection.driver_connection.execute(sql).fetchall()


def rows(ids: list[int]) -> list[Snapshot]:
    """The snapshots of a page, in the page's order."""
    found = {s.id: s for s in db.session.scalars(sa.select(Snapshot).where(Snapshot.id.in_(ids)))} if ids else {}
    return [found[i] for i in ids if i in found]
