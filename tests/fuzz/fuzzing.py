"""The loop both fuzz tests run: for each route, `examples` hypothesis examples, each one
request as a random demo role with malformed path words, query and form values."""
from __future__ import annotations

import os
import time

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz import harness

VERBOSE = os.environ.get("FUZZ_VERBOSE") == "1"


class Findings:
    def __init__(self):
        self.errors: list[str] = []
        self.changed: list[str] = []

    def check(self):
        message = []
        if self.errors:
            message.append(f"{len(self.errors)} × 5xx:\n" + "\n".join(sorted(set(self.errors))[:40]))
        if self.changed:
            message.append(f"{len(self.changed)} refused requests changed the database:\n"
                           + "\n".join(sorted(set(self.changed))[:40]))
        assert not message, "\n\n".join(message)


def fuzz_route(world, route: harness.Route, *, method: str, examples: int, names: list[str],
               findings: Findings, app=None, clients=None, check_rows: bool = True) -> None:
    app = app or world["app"]
    clients = clients or world["clients"]
    pools, catcher = world["pools"], world["catcher"]
    ids = sorted({i for pool in pools.values() for i in pool})[:20]
    role_names = sorted(clients)
    harness.REPORT["routes"] += 1

    @harness.fuzz_settings(examples)
    @given(st.data())
    def run(data):
        role = data.draw(st.sampled_from(role_names), label="role")
        client = clients[role]
        path = harness.path_for(route, pools, lambda xs: data.draw(st.sampled_from(xs)))
        pairs = data.draw(harness.pairs_strategy(names, ids), label="pairs")
        headers = {"HX-Request": "true"} if data.draw(st.booleans(), label="htmx") else {}
        before = world["row_counts"]() if check_rows else None
        start = len(catcher.records)
        body = harness.encode(pairs)
        if method == "GET":
            response = client.get(path, query_string=body.decode("ascii"), headers=headers)
        else:
            response = client.post(path, data=body, headers=headers,
                                   content_type="application/x-www-form-urlencoded")
        response.close()
        harness.REPORT["requests"] += 1
        harness.REPORT["statuses"][response.status_code] += 1
        where = f"{method} {path} as {role} {pairs!r}"[:400]
        if response.status_code >= 500:
            causes = harness.describe(catcher.records[start:]) or ["(no traceback logged)"]
            findings.errors.extend(f"{c}\n    ← {where}" for c in causes)
        if before is not None and (method == "GET" or response.status_code >= 400):
            after = world["row_counts"]()
            recorded = harness.RECORDS_ITS_REFUSAL.get(path, set())
            diff = {t: (before[t], after[t]) for t in before
                    if before[t] != after[t] and t not in harness.NOT_CHECKED_TABLES and t not in recorded}
            if diff:
                findings.changed.append(f"{response.status_code} {where}: {diff}")

    started = time.monotonic()
    run()
    if VERBOSE:
        print(f"{method} {route.rule}: {time.monotonic() - started:.1f} s", flush=True)
