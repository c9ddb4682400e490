"""`make bench SCALE=city|province`: generate (or reuse) the data, run every benchmark, print the
figures and write a Markdown table with the machine's description to bench/results/<scale>-<date>.md.

    python -m bench.run --scale city [--databases sqlite,postgresql] [--fresh] [--only http,search]

Generated databases are kept for reuse: SQLite in bench/data/<scale>-s<seed>.db, PostgreSQL as
database bench_<scale>_s<seed> on BENCH_POSTGRES_URL (default the local server, user postgres).
A benchmark that cannot run prints why; nothing here exits non-zero because of a figure."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from bench import excel_bench, http_load, import_bench, portal_pages, search_bench
from bench.common import DATA_DIR, RESULTS_DIR, Figure, guarded, machine, markdown_table, print_figures

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BENCHMARKS = ("generate", "portal", "http", "search", "excel", "import")
LOAD_TARGET_S = 600  # the province loads in under 10 minutes on either database
LOADS: dict[str, dict] = {}  # the generator's result per database kind, for the breakdown


def _pg_server() -> str:
    return os.environ.get("BENCH_POSTGRES_URL", DEFAULT_PG)


def pg_reachable() -> bool:
    try:
        engine = sa.create_engine(_pg_server(), connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


def database_url(kind: str, scale: str, seed: int) -> str:
    if kind == "sqlite":
        return f"sqlite:///{DATA_DIR / f'{scale}-s{seed}.db'}"
    return sa.engine.make_url(_pg_server()).set(database=f"bench_{scale}_s{seed}").render_as_string(hide_password=False)


def _populated(url: str) -> bool:
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3} if url.startswith("postgresql") else {})
        with engine.connect() as conn:
            populated = bool(conn.execute(sa.text("SELECT count(*) FROM projects")).scalar())
        engine.dispose()
        return populated
    except Exception:
        return False


def prepare(kind: str, scale: str, seed: int, fresh: bool) -> tuple[str, list[Figure]]:
    """Generate the data unless a previous run's data (same scale and seed) is there."""
    from bench.generate import create_postgres_database, generate

    url = database_url(kind, scale, seed)
    marker = DATA_DIR / f"{scale}-s{seed}.{kind}.json"
    if not fresh and marker.exists() and _populated(url):
        result = json.loads(marker.read_text())
        note = f"reused data generated {result.get('generated_at', '?')}"
    else:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        if kind == "sqlite":
            path = Path(sa.engine.make_url(url).database)
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        else:
            url = create_postgres_database(_pg_server(), sa.engine.make_url(url).database)
        print(f"generating {scale} (seed {seed}) into {kind} …", file=sys.stderr)
        result = generate(url, scale, seed)
        result["generated_at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        marker.write_text(json.dumps(result, ensure_ascii=False, indent=2))
        note = "generated in this run"
    LOADS[kind] = result
    counts = result["counts"]
    rows = sum(counts.values())
    summary = ", ".join(f"{counts.get(t, 0):,} {t}" for t in (
        "projects", "indicators", "evaluations", "evaluation_findings", "attachments", "problems", "inquiry_letters",
        "review_reports", "pub_snapshots"))
    return url, [
        Figure("generate", f"{kind}: load {scale} (schema + data + ANALYZE)", result["total_seconds"], "s",
               note=f"{note}; {summary}" + ("" if scale != "province" else
                                            f"; target < {LOAD_TARGET_S} s "
                                            f"{'met' if result['total_seconds'] < LOAD_TARGET_S else 'NOT met'}")),
        Figure("generate", f"{kind}: load rate", rows / max(result["load_seconds"], 0.001), "rows/s",
               note=f"{rows:,} rows", higher_is_better=True),
    ]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="city", choices=("tiny", "city", "province"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--databases", default="", help="comma list of sqlite,postgresql (default: both if reachable)")
    parser.add_argument("--fresh", action="store_true", help="regenerate even if data from an earlier run exists")
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma list of " + ",".join(BENCHMARKS))
    parser.add_argument("--http-duration", type=int, default=5)
    parser.add_argument("--runs", type=int, default=20, help="runs per portal page")
    args = parser.parse_args(argv)
    only = set(args.only.split(","))
    kinds = [k for k in args.databases.split(",") if k] or (["sqlite", "postgresql"] if pg_reachable() else ["sqlite"])
    started = time.perf_counter()
    load_before = machine()["load average"] if hasattr(os, "getloadavg") else ""

    figures: list[Figure] = []
    urls: dict[str, str] = {}
    for kind in kinds:
        result = guarded("generate", lambda kind=kind: _prepare_into(kind, args, urls))
        figures += result
        print_figures(result)
    # the public site's own index of every published project, kept for the HTTP benchmark
    index_dir = str(DATA_DIR / f"{args.scale}-s{args.seed}.index")
    first = next(iter(urls.values()), None)
    if "search" in only and first:
        part = guarded("search", lambda: search_bench.measure(first, index_dir=index_dir))
        figures += part
        print_figures(part)
    for kind, url in urls.items():
        if "portal" in only:
            part = guarded("portal", lambda url=url: portal_pages.measure(url, args.runs))
            for f in part:
                f.benchmark = f"portal ({kind})"
            figures += part
            print_figures(part)
        if "http" in only:
            part = guarded("http", lambda url=url: http_load.measure(url, duration=args.http_duration,
                                                                     index_dir=index_dir))
            for f in part:
                f.benchmark = f"http ({kind})"
            figures += part
            print_figures(part)
    if "excel" in only:
        part = guarded("excel", lambda: excel_bench.measure(database_url=first))
        figures += part
        print_figures(part)
    if "import" in only:  # 10,000 ledger rows and 10,000 indicators through HTTP as jobs, on PostgreSQL
        part = guarded("import", lambda: import_bench.measure(_pg_server()))
        figures += part
        print_figures(part)

    info = machine(list(urls.values()))
    info["load average"] = f"{load_before} at start, {info.get('load average', '')} at end"
    stamp = datetime.now(UTC)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"{args.scale}-{stamp:%Y-%m-%d}.md"
    lines = [f"# Benchmarks: {args.scale} scale, {stamp:%Y-%m-%d %H:%M} UTC", "",
             f"Command: `python -m bench.run {' '.join(argv if argv is not None else sys.argv[1:])}` "
             f"(seed {args.seed}, databases: {', '.join(kinds)}; whole run {time.perf_counter() - started:.0f} s)", "",
             "## Machine", ""]
    lines += [f"- {k}: {v}" for k, v in info.items()]
    lines += ["", "## Figures", "",
              "Latencies are median and p95 in ms; rates are per second. The ratio is value ÷ baseline, the "
              "baseline being measured in the same run (a static file from the same gunicorn; SQLite FTS5 for search; "
              "the csv module for the export).", "", markdown_table(figures), ""]
    if LOADS:
        lines += ["## Load breakdown (seconds per table, rows)", ""]
        for kind, result in LOADS.items():
            parts = [f"{table} {seconds:.1f} s ({result['counts'].get(table, 0):,})"
                     for table, seconds in result["timings"].items() if not table.startswith("plugin:")]
            lines.append(f"- {kind} ({result.get('generated_at', '')}): schema {result['schema_seconds']} s, "
                         + ", ".join(parts))
        lines.append("")
    out.write_text("\n".join(lines), encoding="utf-8")
    print(f"\nwritten {out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out}")


def _prepare_into(kind: str, args, urls: dict) -> list[Figure]:
    url, figs = prepare(kind, args.scale, args.seed, args.fresh)
    urls[kind] = url
    return figs


if __name__ == "__main__":
    main()
