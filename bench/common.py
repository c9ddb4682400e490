"""Shared helpers for the benchmarks: figures, percentiles, the machine's description, and a
guard so that a benchmark prints what went wrong instead of failing a build."""
from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import sqlalchemy as sa

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / "data"
RESULTS_DIR = BENCH_DIR / "results"


@dataclass
class Figure:
    """One measured figure, with the baseline measured in the same run where there is one."""
    benchmark: str
    measure: str
    value: float | None
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    note: str = ""
    higher_is_better: bool = False

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    def row(self) -> list[str]:
        ratio = f"{self.ratio:.2f}×" if self.ratio is not None else ""
        base = f"{fmt(self.baseline)} {self.unit} ({self.baseline_label})" if self.baseline is not None else ""
        return [self.benchmark, self.measure, f"{fmt(self.value)} {self.unit}" if self.value is not None else "—",
                base, ratio, self.note]

    def as_dict(self) -> dict:
        return {**asdict(self), "ratio": self.ratio}


def fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, int) or (isinstance(value, float) and value >= 100):
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0–100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(round(pct / 100 * len(ordered) + 0.5))))
    return ordered[rank - 1]


def latency_figures(benchmark: str, name: str, samples_s: list[float], baseline_s: list[float] | None = None,
                    baseline_label: str = "", note: str = "") -> list[Figure]:
    """Median and p95 in milliseconds."""
    ms = [s * 1000 for s in samples_s]
    base = [s * 1000 for s in baseline_s] if baseline_s else None
    return [
        Figure(benchmark, f"{name} median", statistics.median(ms), "ms",
               statistics.median(base) if base else None, baseline_label, note),
        Figure(benchmark, f"{name} p95", percentile(ms, 95), "ms",
               percentile(base, 95) if base else None, baseline_label),
    ]


def timed(fn: Callable, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return samples


def guarded(benchmark: str, fn: Callable[[], list[Figure]]) -> list[Figure]:
    """Run a benchmark; an error becomes a figure-less row with the reason (never an exit code)."""
    try:
        return fn()
    except Exception as error:  # a benchmark never fails the build
        traceback.print_exc(file=sys.stderr)
        return [Figure(benchmark, "(not measured)", None, "", note=f"{type(error).__name__}: {error}"[:200])]


def database_main(benchmark: str, measure: Callable[[str, int], list[Figure]], description: str,
                  argv=None) -> None:
    """The command line of a benchmark over one database: `--database-url URL [--runs 20]`, then
    `measure(url, runs)`'s figures printed (guarded)."""
    parser = argparse.ArgumentParser(description=description.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    print_figures(guarded(benchmark, lambda: measure(args.database_url, args.runs)))


def print_figures(figures: list[Figure], stream=None) -> None:
    stream = stream or sys.stdout
    for f in figures:
        line = f"{f.benchmark:<14} {f.measure:<46} {fmt(f.value):>12} {f.unit:<6}"
        if f.baseline is not None:
            line += f"  baseline {fmt(f.baseline)} ({f.baseline_label}), ratio {f.ratio:.2f}×" if f.ratio else ""
        if f.note:
            line += f"  [{f.note}]"
        print(line, file=stream)
    stream.flush()


def markdown_table(figures: list[Figure]) -> str:
    head = ["benchmark", "measure", "value", "baseline (same run)", "ratio", "notes"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for f in figures:
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in f.row()) + " |")
    return "\n".join(lines)


def machine(database_urls: list[str] = ()) -> dict:
    """Cores, memory, CPU, load, Python, SQLite and PostgreSQL versions."""
    info = {"cores": os.cpu_count(), "python": sys.version.split()[0], "sqlite": sqlite3.sqlite_version,
            "platform": platform.platform()}
    try:
        meminfo = Path("/proc/meminfo").read_text()
        kb = int(next(line for line in meminfo.splitlines() if line.startswith("MemTotal")).split()[1])
        info["memory"] = f"{kb / 1024 / 1024:.1f} GiB"
        cpu = Path("/proc/cpuinfo").read_text()
        info["cpu"] = next((line.split(":", 1)[1].strip() for line in cpu.splitlines() if line.startswith("model name")),
                           platform.processor())
    except (OSError, StopIteration):
        pass
    try:
        info["load average"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        pass
    for url in database_urls:
        if url.startswith("postgresql"):
            try:
                engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
                with engine.connect() as conn:
                    info["postgresql"] = conn.execute(sa.text("SHOW server_version")).scalar()
                engine.dispose()
            except Exception as error:
                info["postgresql"] = f"unreachable ({type(error).__name__})"
    return info


def default_sqlite_url(scale: str, seed: int = 1) -> str:
    return f"sqlite:///{DATA_DIR / f'{scale}-s{seed}.db'}"
