"""Excel: time and peak memory of writing 50,000 ledger-like rows with
`portal.core.excel.write_xlsx` (beside the csv module writing the same rows), and of reading a
10,000-indicator goal workbook with `portal.core.excel.read_rows`:
`python -m bench.excel_bench [--rows 50000] [--indicators 10000]`.

Each measurement runs in a fresh subprocess, whose peak resident memory is read from
/proc/self/status VmHWM (else `ru_maxrss`); the bare interpreter's own peak is printed too.

Hooks: LEDGER_COLUMNS are the problem ledger's ~30 columns (synthetic rows for now; after the
merge, `rows_for_export` can read real problems). `goal_importer()` returns the performance
module's real goal importer when it exists, else the bare reader."""
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
GOAL_COLUMNS = ["项目编码", "一级指标", "二级指标", "三级指标", "运算符", "指标值", "度量单位", "分值"]


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


def goal_importer():
    """The performance module's goal importer once merged (a callable taking the file's bytes),
    else None: the benchmark then measures `read_rows` plus a typed pass over every row."""
    try:
        from portal.performance import imports  # type: ignore[attr-defined]
    except ImportError:
        return None
    return getattr(imports, "read_goal_workbook", None)


def make_goal_workbook(path: str, indicators: int) -> None:
    from openpyxl import Workbook

    levels = [("产出指标", "数量指标", "建设高标准农田面积", "≥", 5000, "亩", 10),
              ("产出指标", "质量指标", "验收合格率", "≥", 95, "%", 10),
              ("产出指标", "时效指标", "按期完成率", "≥", 100, "%", 10),
              ("效益指标", "社会效益指标", "受益群众人数", "≥", 20000, "人", 15),
              ("满意度指标", "服务对象满意度指标", "受益群众满意度", "≥", 90, "%", 10)]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("绩效指标")
    sheet.append(GOAL_COLUMNS)
    for i in range(indicators):
        level = levels[i % len(levels)]
        sheet.append([f"00101-2026-{i // 10 + 1:04d}", *level])
    workbook.save(path)


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
    elif task == "read":
        with open(arg, "rb") as f:
            data = f.read()
        importer = goal_importer()
        from portal.core.excel import read_rows

        t0 = time.perf_counter()
        if importer is not None:
            importer(data)
            rows = count
        else:
            rows = 0
            for number, values in read_rows(data):
                if number == 1:
                    continue
                Decimal(str(values[5])), Decimal(str(values[7]))  # the typed pass an importer makes
                rows += 1
        return {"seconds": time.perf_counter() - t0, "maxrss_kb": _maxrss(), "rows": rows,
                "importer": "performance" if importer else "read_rows"}
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


def measure(rows: int = 50_000, indicators: int = 10_000) -> list[Figure]:
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
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--arg", default="", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps({**child(args.child, args.arg, args.count), "cpu_seconds": _cpu()}))
        return
    print_figures(guarded("excel", lambda: measure(args.rows, args.indicators)))


if __name__ == "__main__":
    main()
