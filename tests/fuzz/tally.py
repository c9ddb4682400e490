"""The fuzz tally of a whole test run: every request the form, query and API fuzzers sent, by
status, printed in the terminal summary — also under `make test`'s xdist workers, whose tallies
are sent to the controller (`workeroutput`) and added up there.

    fuzz: 12,873 requests (forms and pages 11,935 · API 938) over 241 routes in 212.4 s (200×…, 400×…); 0 × 500

Loaded for every run by tests/conftest.py (`pytest_plugins`)."""
from __future__ import annotations

import collections
import time

import pytest

from tests.fuzz import harness

_TOTALS = {"requests": 0, "api": 0, "routes": 0, "seconds": 0.0, "statuses": collections.Counter()}


def count_api(status: int) -> None:
    """One request of the API fuzz (tests/api/test_fuzz.py)."""
    harness.REPORT["api"] = harness.REPORT.get("api", 0) + 1
    harness.REPORT["requests"] += 1
    harness.REPORT["statuses"][status] += 1


def _local() -> dict:
    report = harness.REPORT
    return {"requests": report["requests"], "api": report.get("api", 0), "routes": report["routes"],
            "seconds": report.get("seconds", 0.0), "statuses": {str(k): v for k, v in report["statuses"].items()}}


def _add(tally: dict) -> None:
    for key in ("requests", "api", "routes", "seconds"):
        _TOTALS[key] += tally.get(key, 0)
    _TOTALS["statuses"].update({int(k): v for k, v in tally.get("statuses", {}).items()})


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """Time spent in the fuzz tests themselves (fixtures excluded)."""
    fuzzing = "fuzz" in item.nodeid
    started = time.monotonic()
    yield
    if fuzzing:
        harness.REPORT["seconds"] = harness.REPORT.get("seconds", 0.0) + time.monotonic() - started


def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the tally to the controller
        workeroutput["fuzz_tally"] = _local()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    _add(getattr(node, "workeroutput", {}).get("fuzz_tally", {}))


def pytest_terminal_summary(terminalreporter, config):
    if getattr(config, "workeroutput", None) is not None:
        return
    if not _TOTALS["requests"]:  # no xdist: this process sent them
        _add(_local())
    if not _TOTALS["requests"]:
        return
    statuses = ", ".join(f"{code}×{n:,}" for code, n in sorted(_TOTALS["statuses"].items()))
    errors = sum(n for code, n in _TOTALS["statuses"].items() if code >= 500)
    pages = _TOTALS["requests"] - _TOTALS["api"]
    terminalreporter.write_line(
        f"fuzz: {_TOTALS['requests']:,} requests (forms and pages {pages:,} · API {_TOTALS['api']:,}) over "
        f"{_TOTALS['routes']} page routes in {_TOTALS['seconds']:.1f} s ({statuses}); {errors} × 500")
