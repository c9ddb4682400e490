"""The suite's order (tests/conftest.py): the tests that took longest in the last run go first,
a heavy test never run before next, then the rest in file order; each run's durations are kept
for the next. Wrong, a worker is left running a long test alone while the other waits."""
import json
from types import SimpleNamespace

from tests import conftest


def _item(nodeid: str, *fixtures: str):
    return SimpleNamespace(nodeid=nodeid, fixturenames=list(fixtures), path=f"tests/x/{nodeid}.py", function=None)


def test_longest_known_first_then_unknown_heavy_then_file_order(tmp_path, monkeypatch):
    monkeypatch.setattr(conftest, "DURATIONS", tmp_path / "durations.json")
    conftest.DURATIONS.write_text(json.dumps({"short": 0.2, "long": 30.0, "medium": 1.0}))
    items = [_item("short"), _item("new"), _item("medium"), _item("new_journey", "page"), _item("long")]
    conftest.pytest_collection_modifyitems(items)
    assert [item.nodeid for item in items] == ["long", "new_journey", "medium", "short", "new"]


def test_without_durations_the_heavy_tests_go_first(tmp_path, monkeypatch):
    monkeypatch.setattr(conftest, "DURATIONS", tmp_path / "missing.json")
    items = [_item("a"), _item("fuzzed", "fuzz_world"), _item("b"), _item("on_the_city", "demo_app")]
    conftest.pytest_collection_modifyitems(items)
    assert [item.nodeid for item in items] == ["fuzzed", "on_the_city", "a", "b"]


def test_a_run_adds_its_durations_to_the_last_ones(tmp_path, monkeypatch):
    monkeypatch.setattr(conftest, "DURATIONS", tmp_path / "durations.json")
    conftest.DURATIONS.write_text(json.dumps({"kept": 1.0, "again": 9.0}))
    monkeypatch.setattr(conftest, "_timed", {})
    for phase in (0.5, 2.0, 0.25):  # setup, call, teardown
        conftest.pytest_runtest_logreport(SimpleNamespace(nodeid="again", duration=phase))
    conftest._save_durations()
    assert json.loads(conftest.DURATIONS.read_text()) == {"kept": 1.0, "again": 2.75}
