"""Ledger benchmark: 50,000 problems; a filtered ledger page (target < 150 ms) and the full
Excel export (target < 15 s, memory bounded).

    .venv/bin/python bench/ledger_bench.py                      # SQLite in a temp dir
    .venv/bin/python bench/ledger_bench.py --postgres postgresql+psycopg://postgres@127.0.0.1/bench_ledger
"""
from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

N = 50_000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", help="URL of an EMPTY PostgreSQL database to use")
    parser.add_argument("-n", type=int, default=N)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
    url = args.postgres or f"sqlite:///{tmp / 'bench.db'}"

    from portal import create_app
    from portal.core.migrations_check import upgrade

    upgrade(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True,
                      "WTF_CSRF_ENABLED": False, "INSTANCE_DIR": str(tmp), "UPLOAD_DIR": str(tmp / "up")})
    with app.app_context():
        dept_id, finance = fill(args.n)
        client = app.test_client()
        client.post("/login", data={"username": finance, "password": "Bench-pass-1"})
        urls = [f"/ledger/?year=2026&department={dept_id}&state=in_progress",
                "/ledger/?bucket=overdue&sort=-amount",
                "/ledger/?source=audit&category=资金管理&page=40",
                "/ledger/?q=挤占&sort=deadline"]
        for u in urls:
            client.get(u)  # warm up
        for u in urls:
            times, cpu = [], []
            for _ in range(10):
                t0, c0 = time.perf_counter(), time.process_time()
                r = client.get(u)
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
                assert r.status_code == 200
            print(f"ledger page {u}: median {statistics.median(times):.0f} ms wall "
                  f"({statistics.median(cpu):.0f} ms CPU), max {max(times):.0f} ms")
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0, c0 = time.perf_counter(), time.process_time()
        r = client.get("/ledger/export.xlsx")
        size = sum(len(chunk) for chunk in r.response)
        print(f"full export of {args.n} problems: {time.perf_counter() - t0:.1f} s wall "
              f"({time.process_time() - c0:.1f} s CPU), {size / 1e6:.1f} MB, "
              f"peak RSS {rss0 / 1024:.0f} → {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def fill(n: int):
    import sqlalchemy as sa

    from portal.accounts.models import Organisation, OrgKind, Role, User
    from portal.core import counters
    from portal.extensions import db
    from portal.ledger.models import Problem, ProblemSource, ProblemState, RectificationType

    rng = random.Random(1)
    finance_org = Organisation(name="基准财政局", kind=OrgKind.FINANCE_BUREAU, code="BF")
    db.session.add(finance_org)
    depts = [Organisation(name=f"基准部门{i}", kind=OrgKind.BUDGET_UNIT, code=f"BD{i}") for i in range(100)]
    db.session.add_all(depts)
    db.session.flush()
    units = [Organisation(name=f"基准单位{i}", kind=OrgKind.BUDGET_UNIT, code=f"BU{i}", parent_id=depts[i % 100].id)
             for i in range(200)]
    db.session.add_all(units)
    user = User(username="bench_finance", display_name="基准", organisation=finance_org)
    user.set_password("Bench-pass-1")
    user.set_roles([Role.FINANCE_OFFICER])
    db.session.add(user)
    db.session.flush()
    all_units = depts + units
    categories = ["资金管理", "预算执行", "绩效目标", "项目管理", "政府采购", "资产管理"]
    states = list(ProblemState)
    rows, seqs = [], {}
    today = date(2026, 11, 22)
    t0 = time.perf_counter()
    for i in range(n):
        year = 2024 + i % 3
        seqs[year] = seqs.get(year, 0) + 1
        unit = all_units[rng.randrange(len(all_units))]
        listed = date(year, 1 + i % 12, 1 + i % 28)
        state = states[i % len(states)]
        amount = Decimal(rng.randrange(0, 5_000_000))
        row = {"number": f"ZG-{year}-{seqs[year]:05d}", "year": year, "seq": seqs[year],
               "source": rng.choice(list(ProblemSource)).value, "source_ref": "", "unit_id": unit.id,
               "department_id": unit.parent_id or unit.id, "category": rng.choice(categories),
               "description": f"专项资金被挤占挪用 {i}" if i % 7 == 0 else f"项目执行进度滞后 {i}", "amount": amount,
               "policy_basis": "", "requirement": "按期整改", "completion_standard": "", "rect_type": "deadline",
               "listed_on": listed, "deadline": listed + timedelta(days=rng.randrange(10, 400)),
               "person_responsible": "", "measures": "", "accountability": "", "rules_improved": "",
               "not_done_reason": "", "state": state.value, "created_at": today, "updated_at": today,
               "rect_recovered": amount / 2 if state == ProblemState.CLOSED else 0, "rect_returned": 0,
               "rect_reallocated": 0, "rect_disbursed": 0, "rect_adjusted": 0, "rect_other": 0}
        if state == ProblemState.CLOSED:
            row.update(closed_on=listed + timedelta(days=30), finance_signed_at=today, audit_signed_at=today)
        else:
            row.update(closed_on=None, finance_signed_at=None, audit_signed_at=None)
        rows.append(row)
        if len(rows) == 5000:
            db.session.execute(sa.insert(Problem), rows)
            rows = []
    if rows:
        db.session.execute(sa.insert(Problem), rows)
    for year, last in seqs.items():
        counters.ensure_at_least("ledger", year, last)
    db.session.commit()
    db.session.execute(sa.text("ANALYZE"))
    db.session.commit()
    print(f"load average {' '.join(f'{x:.1f}' for x in __import__('os').getloadavg())}")
    print(f"inserted {n} problems in {time.perf_counter() - t0:.1f} s ({db.engine.dialect.name})")
    _ = RectificationType
    return depts[3].id, "bench_finance"


if __name__ == "__main__":
    main()
