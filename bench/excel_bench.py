"""Excel: time and peak memory of writing 50,000 ledger-like rows with
`portal.core.excel.write_xlsx` (beside the csv module writing the same rows), and of reading a
10,000-indicator goal workbook with the performance module's importer:
`python -m bench.excel_bench [--rows 50000] [--indicators 10000]`.

Each measurement runs in a fresh subprocess, whose peak resident memory is read from
/proc/self/status VmHWM (else `ru_maxrss`); the bare interpreter's own peak is printed too.

LEDGER_COLUMNS are the problem ledger's ~30 columns with synthetic rows; with --database-url the
ledger's real export (/ledger/export.xlsx) runs over the generated problems (50,000 at province). The goal import runs the performance
module's real importer (validation, all-or-nothing, writes) on a fresh SQLite database."""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal

from bench.common import PROJECT_ROOT, Figure, guarded, print_figures

LEDGER_COLUMNS = [
    "台账编号", "问题来源", "来源文号", "年度", "项目名称", "责任单位", "主管部门", "问题类别", "问题描述", "问题金额（万元）",
    "法规政策依据", "整改要求", "整改完成标准", "整改类型", "整改时限", "整改责任人", "已采取措施", "整改金额（万元）",
    "追缴资金", "归还原渠道", "统筹盘活", "加快拨付", "调整账表", "其他", "追责情况", "完善制度情况", "未完成原因及下步措施",
    "状态", "财政销号", "审计销号",
]


def ledger_rows(count: int):
    """Synthetic rows shaped like the ledger export (text, money, dates, a formula-like value)."""
    categories = ["资金使用不规范", "预算执行进度缓慢", "绩效目标设置不合理", "政府采购不规范", "资产管理不规范"]
    start = date(2026, 1, 1)
    for i in range(count):
        amount = Decimal(1000 + (i * 7919) % 900000) / 100
        yield [f"ZG-2026-{i + 1:05d}", "财政评价", f"临财绩〔2026〕{i % 90 + 1}号", 2026,
               f"清阳县{i % 40}号棚户区改造项目", f"清阳县住房保障服务中心{i % 30}", "清阳县住房和城乡建设局",
               categories[i % 5], "部分资金未按规定用途使用，存在挤占挪用项目资金的情况，需按规定整改。" * 2,
               amount, "《中华人民共和国预算法》第五十七条", "追回资金，归还原渠道", "资金全部归还并提供凭证",
               "限期整改", start + timedelta(days=i % 365), "张丽", "已追回部分资金" if i % 3 else "=SUM(A1:A9)",
               amount / 2, amount / 4, amount / 8, 0, 0, 0, 0, "无", "已修订专项资金管理办法", "",
               "整改中", "", ""]


# Six indicators per project, weights totalling 90 (the performance module's scheme: the
# 10-point budget-execution line is added at self-evaluation).
GOAL_INDICATORS = [
    ("产出指标", "数量指标", "培训人次", "≥", 1200, "人次", 30), ("产出指标", "质量指标", "培训合格率", "≥", 95, "%", 10),
    ("产出指标", "成本指标", "人均培训成本", "≤", 500, "元", 10), ("效益指标", "社会效益指标", "培训后就业率", "≥", 80, "%", 20),
    ("效益指标", "可持续影响指标", "长效培训机制", "定性", "逐步健全", "", 10),
    ("满意度指标", "服务对象满意度指标", "参训人员满意度", "≥", 90, "%", 10),
]
UNIT_CODE = "BENCH01"


def make_goal_workbook(path: str, indicators: int) -> None:
    """A workbook in the standard goal-table layout (the performance module's template), whole
    projects of six indicators each (10,000 asked → 10,002 written)."""
    from openpyxl import Workbook

    from portal.performance.excel_io import GOAL_COLUMNS

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("绩效目标表")
    sheet.append(GOAL_COLUMNS)
    projects = -(-indicators // len(GOAL_INDICATORS))
    for n in range(projects * len(GOAL_INDICATORS)):
        project, k = divmod(n, len(GOAL_INDICATORS))
        code = f"IMP{project:05d}"
        head = ([code, f"职业技能提升培训项目{project}", 2027, "项目支出", "一般公共预算", UNIT_CODE, 1000000, 1000000,
                 "全年完成职业技能培训1200人次，培训后就业率达到80%。"] if k == 0 else [code] + [None] * 8)
        sheet.append(head + list(GOAL_INDICATORS[k]))
    workbook.save(path)


def import_with_the_real_importer(data: bytes) -> int:
    """Run `portal.performance.excel_io.import_goal_workbook` (validation, all-or-nothing, writes)
    against a fresh migrated SQLite database; returns the number of indicators imported."""
    import os

    from portal import create_app
    from portal.accounts.models import Organisation, OrgKind, Role, User
    from portal.core.migrations_check import upgrade
    from portal.extensions import db
    from portal.performance.excel_io import import_goal_workbook

    folder = tempfile.mkdtemp(prefix="goal-import-")
    url = f"sqlite:///{os.path.join(folder, 'bench.db')}"
    upgrade(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "INSTANCE_DIR": folder})
    with app.app_context():
        finance = Organisation(name="基准财政局", kind=OrgKind.FINANCE_BUREAU, code="BFIN")
        unit = Organisation(name="基准人社局", kind=OrgKind.BUDGET_UNIT, code=UNIT_CODE)
        user = User(username="bench", display_name="基准", organisation=finance, password_hash="x")
        user.set_roles([Role.FINANCE_OFFICER])
        db.session.add_all([finance, unit, user])
        db.session.commit()
        report = import_goal_workbook(data, actor=user)
        if report.errors:
            raise RuntimeError(f"import refused: {report.errors[:3]}")
        db.session.commit()
        return report.indicators


def ledger_export(database_url: str) -> dict:
    """The portal's own ledger export (/ledger/export.xlsx, every problem) over a generated
    database, through the real login and view, streamed to the end."""
    from bench.generate import BENCH_PASSWORD
    from portal import create_app

    folder = tempfile.mkdtemp(prefix="ledger-export-")
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench", "INSTANCE_DIR": folder,
                      "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    if client.post("/login", data={"username": "finance", "password": BENCH_PASSWORD}).status_code != 302:
        raise RuntimeError("login as finance failed")
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        problems = conn.execute(sa.text("SELECT count(*) FROM problems")).scalar()
    engine.dispose()
    t0 = time.perf_counter()
    response = client.get("/ledger/export.xlsx")
    size = sum(len(chunk) for chunk in response.response)
    if response.status_code != 200:
        raise RuntimeError(f"export answered {response.status_code}")
    return {"seconds": time.perf_counter() - t0, "maxrss_kb": _maxrss(), "bytes": size, "rows": problems}


# ---- children (run in their own process) -----------------------------------------------------

def child(task: str, arg: str, count: int) -> dict:
    t0 = time.perf_counter()
    if task == "baseline":
        pass
    elif task == "write":
        import os

        from portal.core.excel import write_xlsx

        t0 = time.perf_counter()  # imports are not the export's work
        path = write_xlsx(LEDGER_COLUMNS, ledger_rows(count), "问题台账")
        size = os.path.getsize(path)
        os.unlink(path)
        return {"seconds": time.perf_counter() - t0, "maxrss_kb": _maxrss(), "bytes": size}
    elif task == "csv":
        import csv
        import os

        t0 = time.perf_counter()
        with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(LEDGER_COLUMNS)
            writer.writerows(ledger_rows(count))
        size = os.path.getsize(f.name)
        os.unlink(f.name)
        return {"seconds": time.perf_counter() - t0, "maxrss_kb": _maxrss(), "bytes": size}
    elif task == "ledger":
        return ledger_export(arg)
    elif task == "read":
        with open(arg, "rb") as f:
            data = f.read()
        t0 = time.perf_counter()
        rows = import_with_the_real_importer(data)
        return {"seconds": time.perf_counter() - t0, "maxrss_kb": _maxrss(), "rows": rows,
                "importer": "performance.excel_io.import_goal_workbook"}
    return {"seconds": time.perf_counter() - t0, "maxrss_kb": _maxrss()}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _maxrss() -> int:
    """Peak resident memory of this process in KiB. VmHWM, because ru_maxrss survives exec and
    would report a big parent's size (bench.run) instead of the child's own."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _run_child(task: str, arg: str = "", count: int = 0) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.excel_bench", "--child", task, "--arg", arg,
                          "--count", str(count)], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-500:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(rows: int = 50_000, indicators: int = 10_000, database_url: str | None = None) -> list[Figure]:
    base = _run_child("baseline")
    # the baseline process imports what the write child imports, so the memory delta is the work's
    write = _run_child("write", count=rows)
    csv_ = _run_child("csv", count=rows)
    figures = [
        Figure("excel", f"export {rows:,} ledger rows (30 cols) time", write["seconds"], "s", csv_["seconds"],
               "csv module", f"{write['bytes'] / 1e6:.1f} MB xlsx; process CPU {write['cpu_seconds']:.1f} s "
               f"(csv {csv_['cpu_seconds']:.1f} s)"),
        Figure("excel", f"export {rows:,} rows peak memory", write["maxrss_kb"] / 1024, "MiB",
               csv_["maxrss_kb"] / 1024, "csv module", f"bare interpreter {base['maxrss_kb'] / 1024:.0f} MiB"),
    ]
    if database_url:
        real = _run_child("ledger", database_url)
        figures += [
            Figure("excel", f"ledger export, real ({real['rows']:,} problems) time", real["seconds"], "s",
                   csv_["seconds"], f"csv module, {rows:,} rows",
                   f"/ledger/export.xlsx as finance; {real['bytes'] / 1e6:.1f} MB"),
            Figure("excel", "ledger export, real, peak memory", real["maxrss_kb"] / 1024, "MiB",
                   base["maxrss_kb"] / 1024, "bare interpreter"),
        ]
    with tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False) as f:
        path = f.name
    make_goal_workbook(path, indicators)
    read = _run_child("read", path, indicators)
    figures += [
        Figure("excel", f"goal import {indicators:,} indicators time", read["seconds"], "s",
               note=f"{read['importer']}, {read['rows']:,} rows; process CPU {read['cpu_seconds']:.1f} s"),
        Figure("excel", f"goal import {indicators:,} indicators peak memory", read["maxrss_kb"] / 1024, "MiB",
               base["maxrss_kb"] / 1024, "bare interpreter"),
    ]
    import os

    os.unlink(path)
    return figures


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--indicators", type=int, default=10_000)
    parser.add_argument("--database-url", help="also export the ledger of this generated database")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--arg", default="", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps({**child(args.child, args.arg, args.count), "cpu_seconds": _cpu()}))
        return
    print_figures(guarded("excel", lambda: measure(args.rows, args.indicators, args.database_url)))


if __name__ == "__main__":
    main()
