"""Deterministic scale data: `python -m bench.generate --scale tiny|city|province --database-url URL --seed N`.

The schema comes from Alembic (`portal.core.migrations_check.upgrade`); the database must be
empty. Each module adds a plug-in `bench/generators/<module>.py` with `ORDER` (an int) and
`generate(ctx, conn, scale)`; plug-ins run in ORDER, each in one transaction, and share ids
through `ctx.ids` (e.g. `ctx.ids["evaluations"]`). Rows go in with bulk inserts through
`ctx.insert(conn, table, rows)`: executemany on SQLite, COPY on PostgreSQL, ids assigned by the
generator (so no RETURNING round trips), defaults filled from the models.
"""
from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import random
import sys
import time
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from bench.scales import SCALES, Scale

BATCH = 20_000
FIXED_NOW = datetime(2026, 3, 1, 9, 0, 0)  # generated data never depends on the wall clock
BENCH_PASSWORD = "Bench@2026"  # every generated account; benchmarks log in with it


class Progress:
    """A plain progress line on stderr (carriage returns on a terminal, a line per 10 % otherwise)."""

    def __init__(self, label: str, total: int | None, stream=None):
        self.label, self.total, self.done = label, total, 0
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.start = time.perf_counter()
        self._last_tenth = -1
        self._last_draw = 0.0

    def advance(self, n: int) -> None:
        self.done += n
        now = time.perf_counter()
        if self.tty:
            if now - self._last_draw > 0.2:
                self._draw("\r")
                self._last_draw = now
        elif self.total:
            tenth = int(10 * self.done / self.total)
            if tenth != self._last_tenth and tenth < 10:
                self._last_tenth = tenth
                self._draw("")

    def _draw(self, prefix: str) -> None:
        elapsed = time.perf_counter() - self.start
        if self.total:
            width = 24
            filled = int(width * min(self.done, self.total) / self.total)
            bar = "#" * filled + "." * (width - filled)
            text = f"{prefix}  {self.label:<28} [{bar}] {self.done:>10,}/{self.total:,} {elapsed:6.1f}s"
        else:
            text = f"{prefix}  {self.label:<28} {self.done:>10,} {elapsed:6.1f}s"
        self.stream.write(text + ("" if self.tty else "\n"))
        self.stream.flush()

    def close(self) -> float:
        elapsed = time.perf_counter() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0
        end = "\r" if self.tty else ""
        self.stream.write(f"{end}  {self.label:<28} {self.done:>10,} rows in {elapsed:6.1f}s ({rate:,.0f}/s)"
                          + " " * 20 + "\n")
        self.stream.flush()
        return elapsed


def _sqlite_value(kind: str):
    if kind == "decimal":
        return lambda v: None if v is None else str(v)
    if kind == "datetime":
        return lambda v: None if v is None else v.strftime("%Y-%m-%d %H:%M:%S.%f")
    if kind == "date":
        return lambda v: None if v is None else v.isoformat()
    if kind == "bool":
        return lambda v: None if v is None else int(v)
    if kind == "enum":
        return lambda v: None if v is None else str(v)
    return None


def _kind(column: sa.Column) -> str:
    t = column.type
    if isinstance(t, sa.Enum):
        return "enum"
    if isinstance(t, sa.Numeric) and not isinstance(t, sa.Float):
        return "decimal"
    if isinstance(t, sa.DateTime):
        return "datetime"
    if isinstance(t, sa.Date):
        return "date"
    if isinstance(t, sa.Boolean):
        return "bool"
    return "other"


class Context:
    """What plug-ins share: the seed, seeded random streams, ids, counts, and the bulk loader."""

    def __init__(self, engine: sa.Engine, scale: Scale, seed: int, *, quiet: bool = False):
        from portal.extensions import db
        from portal.models import import_all

        import_all()
        self.metadata = db.metadata
        self.engine = engine
        self.dialect = engine.dialect.name
        self.scale = scale
        self.seed = seed
        self.quiet = quiet
        self.now = FIXED_NOW
        self.ids: dict[str, list[int]] = {}  # plug-ins publish what later ones need
        self.data: dict = {}  # free-form shared data (e.g. names by org id)
        self.counts: dict[str, int] = {}
        self.timings: dict[str, float] = {}
        self._next_id: dict[str, int] = {}
        self._tables = set(sa.inspect(engine).get_table_names())

    def rng(self, name: str) -> random.Random:
        """A random stream of its own per purpose, so adding a plug-in never shifts another's data."""
        return random.Random(f"{self.seed}:{name}")

    def has_table(self, name: str) -> bool:
        return name in self._tables and name in self.metadata.tables

    def new_id(self, table: str) -> int:
        value = self._next_id.get(table, 1)
        self._next_id[table] = value + 1
        return value

    def progress(self, label: str, total: int | None = None) -> Progress:
        return Progress(label, total, stream=_Null() if self.quiet else None)

    # ---- bulk loading -----------------------------------------------------------------------
    def insert(self, conn: sa.Connection, table: str, rows: Iterable, *, columns: list[str] | None = None,
               total: int | None = None, label: str | None = None) -> int:
        """Bulk-insert `rows` (dicts, or tuples in the order of `columns`). Columns left out get
        the model's scalar default, or FIXED_NOW for timestamp defaults. Returns the row count."""
        tbl = self.metadata.tables[table]
        iterator = iter(rows)
        first = next(iterator, None)
        if first is None:
            return 0
        if isinstance(first, dict):
            columns = list(first.keys())
            as_tuple = True
        else:
            as_tuple = False
            if columns is None:
                raise ValueError("tuples need columns=")
        extra_cols, extra_vals = self._defaults(tbl, columns)
        all_cols = list(columns) + extra_cols
        converters = None
        if self.dialect == "sqlite":
            converters = [_sqlite_value(_kind(tbl.c[c])) for c in all_cols]
            if not any(converters):
                converters = None
        progress = self.progress(label or table, total)

        def tuples():
            yield from self._shape(first, columns, as_tuple, extra_vals, converters)
            for row in iterator:
                yield from self._shape(row, columns, as_tuple, extra_vals, converters)

        count = 0
        if self.dialect == "postgresql":
            col_sql = ", ".join(f'"{c}"' for c in all_cols)
            raw = conn.connection.driver_connection
            with raw.cursor() as cursor, cursor.copy(f'COPY "{table}" ({col_sql}) FROM STDIN') as copy:
                for values in tuples():
                    copy.write_row(values)
                    count += 1
                    if count % BATCH == 0:
                        progress.advance(BATCH)
            progress.advance(count % BATCH)
        else:
            sql = f'INSERT INTO "{table}" ({", ".join(all_cols)}) VALUES ({", ".join("?" * len(all_cols))})'
            cursor = conn.connection.driver_connection.cursor()
            batch: list = []
            for values in tuples():
                batch.append(values)
                if len(batch) >= BATCH:
                    cursor.executemany(sql, batch)
                    count += len(batch)
                    progress.advance(len(batch))
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
                count += len(batch)
                progress.advance(len(batch))
            cursor.close()
        self.timings[table] = self.timings.get(table, 0.0) + progress.close()
        self.counts[table] = self.counts.get(table, 0) + count
        return count

    @staticmethod
    def _shape(row, columns, as_dict, extra_vals, converters):
        values = [row[c] for c in columns] if as_dict else list(row)
        if extra_vals:
            values.extend(extra_vals)
        if converters:
            values = [f(v) if f is not None else v for f, v in zip(converters, values, strict=True)]
        yield tuple(values)

    def _defaults(self, tbl: sa.Table, given: list[str]) -> tuple[list[str], list]:
        cols, vals = [], []
        for column in tbl.columns:
            if column.name in given or column.primary_key and column.autoincrement in (True, "auto"):
                continue
            default = column.default
            if default is None:
                continue  # nullable, or the caller must give it (the database will say)
            if default.is_scalar:
                value = default.arg
                if hasattr(value, "value") and isinstance(column.type, sa.Enum):
                    value = value.value
                cols.append(column.name)
                vals.append(value)
            elif isinstance(column.type, sa.DateTime):
                cols.append(column.name)
                vals.append(self.now)
        return cols, vals

    def finish_postgres(self, conn: sa.Connection) -> None:
        """Move every id sequence past the generated ids."""
        for table in self.metadata.sorted_tables:
            if table.name not in self._tables or "id" not in table.c:
                continue
            seq = conn.execute(sa.text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}).scalar()
            if seq:
                conn.execute(sa.text(f'SELECT setval(:s, COALESCE((SELECT max(id) FROM "{table.name}"), 0) + 1, false)'),
                             {"s": seq})


class _Null:
    def write(self, _text):
        pass

    def flush(self):
        pass

    def isatty(self):
        return False


def plugins() -> list:
    """Every module in bench/generators with a `generate` function, in ORDER."""
    import bench.generators as package

    found = []
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"bench.generators.{info.name}")
        if hasattr(module, "generate"):
            found.append(module)
    return sorted(found, key=lambda m: (getattr(m, "ORDER", 500), m.__name__))


def generate(url: str, scale: str | Scale, seed: int = 1, *, migrate: bool = True, quiet: bool = False) -> dict:
    """Create the schema (Alembic) and load generated data; returns counts and timings."""
    from portal.core.migrations_check import upgrade

    scale = SCALES[scale] if isinstance(scale, str) else scale
    started = time.perf_counter()
    if migrate:
        upgrade(url)
    schema_seconds = time.perf_counter() - started
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if conn.execute(sa.text("SELECT count(*) FROM organisations")).scalar():
                raise SystemExit(f"{_safe(url)} is not empty: generate into a fresh database")
        ctx = load(engine, scale, seed, quiet=quiet)
    finally:
        engine.dispose()
    total = time.perf_counter() - started
    return {"scale": scale.name, "seed": seed, "database": engine.dialect.name, "counts": ctx.counts,
            "schema_seconds": round(schema_seconds, 1), "load_seconds": round(total - schema_seconds, 1),
            "total_seconds": round(total, 1),
            "timings": {k: round(v, 2) for k, v in ctx.timings.items()}}


def load(engine: sa.Engine, scale: Scale, seed: int = 1, *, quiet: bool = False) -> Context:
    """Run every plug-in into the (migrated, empty) database behind `engine`; returns the context
    the plug-ins shared (ids, data such as ctx.data["public_problems"], counts, timings)."""
    ctx = Context(engine, scale, seed, quiet=quiet)
    for plugin in plugins():
        name = plugin.__name__.rsplit(".", 1)[-1]
        if not quiet:
            print(f"[{name}]", file=sys.stderr)
        t0 = time.perf_counter()
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":  # a bulk load needs no per-commit durability
                conn.connection.driver_connection.execute("PRAGMA synchronous=OFF")
            with conn.begin():
                plugin.generate(ctx, conn, scale)
        ctx.timings[f"plugin:{name}"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            ctx.finish_postgres(conn)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    ctx.timings["analyze"] = time.perf_counter() - t0
    return ctx


def _safe(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def create_postgres_database(server_url: str, name: str) -> str:
    """CREATE DATABASE `name` on the server of `server_url`; returns the new database's URL."""
    server = sa.engine.make_url(server_url)
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="tiny")
    parser.add_argument("--database-url", required=True,
                        help="sqlite:////path/file.db or postgresql+psycopg://postgres@127.0.0.1:5432/<db>")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--create-database", action="store_true",
                        help="PostgreSQL: (re)create the database named in the URL first")
    parser.add_argument("--json", help="also write the counts and timings to this file")
    args = parser.parse_args(argv)
    url = args.database_url
    if url.startswith("sqlite:///"):
        Path(sa.engine.make_url(url).database).parent.mkdir(parents=True, exist_ok=True)
    if args.create_database and url.startswith("postgresql"):
        made = sa.engine.make_url(url)
        url = create_postgres_database(made.set(database="postgres").render_as_string(hide_password=False),
                                       made.database)
    result = generate(url, args.scale, args.seed)
    text = json.dumps(result, ensure_ascii=False, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text)


if __name__ == "__main__":
    main()

__all__ = ["Context", "generate", "load", "plugins", "BENCH_PASSWORD", "FIXED_NOW", "Decimal", "date"]
