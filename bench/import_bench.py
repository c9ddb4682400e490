"""Imports as jobs, end to end through HTTP: 10,000 ledger rows and 10,000 goal indicators posted
to the portal's own upload pages, run as background jobs to the end, beside the issue's targets:
`python -m bench.import_bench [--database-url URL] [--rows 10000] [--indicators 10000] [--profile]`.

`--database-url` names a PostgreSQL server (its database is not touched): a fresh database
`bench_import` is created on it (dropped and recreated every run), migrated, and given a finance
bureau, 40 budget units, 20 projects and a finance officer. Without it a fresh SQLite file is used.
Each import runs in a fresh subprocess (peak memory from /proc/self/status VmHWM): the Flask test
client signs in through /login, POSTs the file to /ledger/import (or /projects/import), follows
the redirect to /jobs/<id> and reads the job's state. JOBS_IMMEDIATE makes the job run in the
process that committed its start (as the worker would run it after the commit), so the time is
upload + validation + writes + commit + the job page. The baseline in the same run is openpyxl
only reading the same file (`portal.core.excel.read_rows`), the floor for any importer.
`--profile` prints both imports' top functions (cProfile, cumulative) to stderr."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.common import PROJECT_ROOT, Figure, guarded, print_figures
from bench.excel_bench import UNIT_CODE, _maxrss, make_goal_workbook

LEDGER_TARGET_S = 60  # issue 17: 10,000 ledger rows end to end through HTTP on PostgreSQL
GOAL_TARGET_S = 30  # issue 17: 10,000 indicators
PASSWORD = "Bench@2026"
UNITS = 40
CATEGORIES = ["资金管理", "预算执行", "绩效目标", "政府采购", "资产管理", "项目管理"]
PHRASES = ["专项资金未按规定用途使用", "预算执行进度缓慢，资金滞留", "绩效目标设置不够细化量化", "政府采购程序不规范",
           "固定资产未及时入账", "项目未按期完工验收", "往来款项长期挂账未清理", "超范围列支公用经费"]


def unit_name(n: int) -> str:
    return f"基准县第{n + 1}预算单位"


def make_ledger_workbook(path: str, rows: int) -> None:
    """Rows in the ledger's import template: varied units, categories and descriptions (so the
    recurrence check compares real text), one row in ten with a project code."""
    from openpyxl import Workbook

    from portal.ledger.excel_io import IMPORT_COLUMNS

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("问题台账")
    sheet.append([h for _k, h, _r in IMPORT_COLUMNS])
    for i in range(rows):
        sheet.append(["审计发现" if i % 2 else "运行监控", f"基审报〔2026〕{i % 90 + 1}号", 2026,
                      f"BP{i % 20:03d}" if i % 10 == 0 else None, unit_name(i % UNITS), CATEGORIES[i % len(CATEGORIES)],
                      f"{PHRASES[i % len(PHRASES)]}（第{i + 1}项，涉及{i % 37 + 1}笔业务）", f"{1000 + (i * 7919) % 900000}.00",
                      "《中华人民共和国预算法》第五十七条", "收回违规资金，完善审批流程", "资金已归还原渠道并提供凭证",
                      "限期整改", date(2030, 12, 31), "张丽"])
    workbook.save(path)


def _app(database_url: str, folder: str):
    from portal import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench", "INSTANCE_DIR": folder,
                       "UPLOAD_DIR": f"{folder}/uploads", "WTF_CSRF_ENABLED": False, "JOBS_IMMEDIATE": True,
                       "MAX_UPLOAD_MB": 50, "LOG_FORMAT": "text"})


def prepare_database(database_url: str) -> None:
    """Migrate and seed: a finance bureau and officer, 40 budget units, 20 projects."""
    from decimal import Decimal

    from werkzeug.security import generate_password_hash

    from portal.accounts.models import Organisation, OrgKind, Role, User
    from portal.core.migrations_check import upgrade
    from portal.extensions import db
    from portal.performance.models import BudgetType, Project, ProjectKind

    upgrade(database_url)
    app = _app(database_url, tempfile.mkdtemp(prefix="import-bench-"))
    with app.app_context():
        finance = Organisation(name="基准财政局", kind=OrgKind.FINANCE_BUREAU, code="BFIN")
        goal_unit = Organisation(name="基准人社局", kind=OrgKind.BUDGET_UNIT, code=UNIT_CODE)
        units = [Organisation(name=unit_name(n), kind=OrgKind.BUDGET_UNIT, code=f"BU{n:03d}") for n in range(UNITS)]
        user = User(username="finance", display_name="基准财政", organisation=finance,
                    password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1"))
        user.set_roles([Role.FINANCE_OFFICER])
        db.session.add_all([finance, goal_unit, *units, user])
        db.session.flush()
        for n in range(20):
            unit = units[n % UNITS]
            db.session.add(Project(code=f"BP{n:03d}", name=f"基准项目{n}", year=2026, kind=ProjectKind.PROJECT,
                                   budget_type=BudgetType.GENERAL, unit=unit, department=unit.department,
                                   initial_budget=Decimal(100000), annual_budget=Decimal(100000), executed=Decimal(0)))
        db.session.commit()


def post_import(database_url: str, path: str, url: str) -> dict:
    """Sign in, POST the file, follow to the job page; the job has run when the POST returns."""
    from portal.core.background import BackgroundJob
    from portal.extensions import db

    app = _app(database_url, tempfile.mkdtemp(prefix="import-bench-"))
    client = app.test_client()
    if client.post("/login", data={"username": "finance", "password": PASSWORD}).status_code != 302:
        raise RuntimeError("login as finance failed")
    data = Path(path).read_bytes()
    t0 = time.perf_counter()
    response = client.post(url, data={"file": (__import__("io").BytesIO(data), "import.xlsx")},
                           content_type="multipart/form-data")
    if response.status_code != 302 or "/jobs/" not in response.headers["Location"]:
        raise RuntimeError(f"upload answered {response.status_code}: {response.get_data(as_text=True)[:300]}")
    page = client.get(response.headers["Location"])
    seconds = time.perf_counter() - t0
    job_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    with app.app_context():
        job = db.session.get(BackgroundJob, job_id)
        if job.state != "done":
            raise RuntimeError(f"job {job.state}: {job.message} {job.errors[:300]}")
        done, message = job.done, job.message
    return {"seconds": seconds, "maxrss_kb": _maxrss(), "rows": done, "message": message,
            "page": page.status_code}


def child(task: str, database_url: str, path: str, profile: bool) -> dict:
    if task == "prepare":
        prepare_database(database_url)
        return {}
    if task == "read":
        from portal.core.excel import read_rows

        data = Path(path).read_bytes()
        t0 = time.perf_counter()
        rows = sum(1 for _ in read_rows(data)) - 1
        return {"seconds": time.perf_counter() - t0, "maxrss_kb": _maxrss(), "rows": rows}
    url = "/ledger/import" if task == "ledger" else "/projects/import"
    if not profile:
        return post_import(database_url, path, url)
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    result = profiler.runcall(post_import, database_url, path, url)
    stats = pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative")
    stats.print_stats(r"portal/(ledger|performance|core)", 40)
    stats.sort_stats("tottime").print_stats(15)
    return result


def _run_child(task: str, database_url: str = "", path: str = "", profile: bool = False) -> dict:
    command = [sys.executable, "-m", "bench.import_bench", "--child", task, "--child-db", database_url,
               "--child-path", path] + (["--profile"] if profile else [])
    out = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=1800)
    if profile:
        sys.stderr.write(out.stderr[-20000:])
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-800:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def fresh_database(server_url: str | None) -> str:
    if server_url and server_url.startswith("postgresql"):
        from bench.generate import create_postgres_database

        return create_postgres_database(server_url, "bench_import")
    return f"sqlite:///{tempfile.mkdtemp(prefix='import-bench-')}/bench.db"


def measure(database_url: str | None = None, rows: int = 10_000, indicators: int = 10_000,
            profile: bool = False) -> list[Figure]:
    url = fresh_database(database_url)
    kind = "postgresql" if url.startswith("postgresql") else "sqlite"
    _run_child("prepare", url)
    folder = Path(tempfile.mkdtemp(prefix="import-bench-files-"))
    ledger_file, goal_file = str(folder / "ledger.xlsx"), str(folder / "goals.xlsx")
    make_ledger_workbook(ledger_file, rows)
    make_goal_workbook(goal_file, indicators)
    read_ledger = _run_child("read", url, ledger_file)
    read_goals = _run_child("read", url, goal_file)
    ledger = _run_child("ledger", url, ledger_file, profile)
    goals = _run_child("goals", url, goal_file, profile)
    for path in (ledger_file, goal_file):
        Path(path).unlink(missing_ok=True)

    def verdict(seconds: float, target: int) -> str:
        return f"target < {target} s {'met' if seconds < target else 'NOT met'}"
    return [
        Figure(f"import ({kind})", f"ledger import {ledger['rows']:,} rows, HTTP + job", ledger["seconds"], "s",
               read_ledger["seconds"], "openpyxl reading the file",
               f"{verdict(ledger['seconds'], LEDGER_TARGET_S)}; process CPU {ledger['cpu_seconds']:.1f} s"),
        Figure(f"import ({kind})", "ledger import peak memory", ledger["maxrss_kb"] / 1024, "MiB",
               read_ledger["maxrss_kb"] / 1024, "process reading the file"),
        Figure(f"import ({kind})", f"goal import {goals['rows']:,} indicators, HTTP + job", goals["seconds"], "s",
               read_goals["seconds"], "openpyxl reading the file",
               f"{verdict(goals['seconds'], GOAL_TARGET_S)}; process CPU {goals['cpu_seconds']:.1f} s"),
        Figure(f"import ({kind})", "goal import peak memory", goals["maxrss_kb"] / 1024, "MiB",
               read_goals["maxrss_kb"] / 1024, "process reading the file"),
    ]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a PostgreSQL server URL (database bench_import is created on it)")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--indicators", type=int, default=10_000)
    parser.add_argument("--profile", action="store_true", help="cProfile the imports (stderr)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-db", default="", help=argparse.SUPPRESS)
    parser.add_argument("--child-path", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        from bench.excel_bench import _cpu

        print(json.dumps({**child(args.child, args.child_db, args.child_path, args.profile), "cpu_seconds": _cpu()}))
        return
    print_figures(guarded("import", lambda: measure(args.database_url, args.rows, args.indicators, args.profile)))


if __name__ == "__main__":
    main()
