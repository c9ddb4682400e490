"""The demo city the tests share is kept between runs (tests/demo_city.py): seeded once for a
state of the sources, seeded again when they change (never a stale city under new code), and
never left behind on the PostgreSQL server when it is replaced or the cache is off."""
import contextlib
import sqlite3

import pytest

from tests import demo_city


class FakeServer:
    """The PostgreSQL side of demo_city: databases by name, as the test server would keep them."""

    def __init__(self):
        self.databases: set[str] = set()

    def create(self, template=None, name=None):
        name = name or f"copy{len(self.databases)}"
        assert template is None or template in self.databases
        self.databases.add(name)
        return f"postgresql+psycopg://h/{name}"

    def exists(self, url):
        return url.rsplit("/", 1)[1] in self.databases

    def drop(self, url):
        self.databases.discard(url.rsplit("/", 1)[1])

    @staticmethod
    def server():
        return "h:5432"


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setattr(demo_city, "CACHE", tmp_path / "cache")
    monkeypatch.delenv("DEMO_CITY_CACHE", raising=False)
    key = {"value": "a"}
    monkeypatch.setattr(demo_city, "sources_key", lambda *extra: key["value"])
    seeds = []

    def seed(url, root):
        seeds.append(url)
        root.mkdir(parents=True)
        (root / "key.pem").write_text("k")
        if url.startswith("sqlite"):
            with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as conn:
                conn.execute("CREATE TABLE projects (name TEXT)")
                conn.execute("INSERT INTO projects VALUES (?)", (f"seeded {len(seeds)}",))
                conn.commit()
        return {"projects": [len(seeds)]}
    return {"key": key, "seeds": seeds, "seed": seed, "shared": tmp_path / "run", "tmp": tmp_path}


def _projects(url):
    with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as conn:
        return [row[0] for row in conn.execute("SELECT name FROM projects")]


def test_a_second_run_copies_the_kept_city_without_seeding(cache):
    server = FakeServer()
    first, ids = demo_city.copy("sqlite", cache["shared"], cache["tmp"] / "w1", pg=server, seed=cache["seed"])
    again, ids_again = demo_city.copy("sqlite", cache["shared"], cache["tmp"] / "w2", pg=server, seed=cache["seed"])
    assert len(cache["seeds"]) == 1 and ids == ids_again == {"projects": [1]}
    assert _projects(first) == _projects(again) == ["seeded 1"]
    assert (cache["tmp"] / "w2" / "key.pem").read_text() == "k"  # the instance folder comes with it


def test_changed_sources_seed_a_new_city_and_remove_the_stale_one(cache):
    server = FakeServer()
    demo_city.copy("postgresql", cache["shared"], cache["tmp"] / "w1", pg=server, seed=cache["seed"])
    stale = {name for name in server.databases if name.startswith("portal_demo_")}
    assert len(stale) == 1
    cache["key"]["value"] = "b"
    demo_city.copy("postgresql", cache["shared"], cache["tmp"] / "w2", pg=server, seed=cache["seed"])
    assert len(cache["seeds"]) == 2
    kept = {name for name in server.databases if name.startswith("portal_demo_")}
    assert len(kept) == 1 and kept.isdisjoint(stale)  # the old template is dropped on the server
    assert [p.name for p in demo_city.CACHE.iterdir() if p.is_dir()] == ["postgresql-b"]


def test_a_city_whose_database_is_gone_from_the_server_is_seeded_again(cache):
    server = FakeServer()
    demo_city.copy("postgresql", cache["shared"], cache["tmp"] / "w1", pg=server, seed=cache["seed"])
    server.databases.clear()  # a new server, or someone dropped it
    url, _ids = demo_city.copy("postgresql", cache["shared"], cache["tmp"] / "w2", pg=server, seed=cache["seed"])
    assert len(cache["seeds"]) == 2 and server.exists(url)


def test_without_the_cache_the_city_lives_in_the_run_and_leaves_no_database(cache, monkeypatch):
    monkeypatch.setenv("DEMO_CITY_CACHE", "0")
    server = FakeServer()
    url, _ids = demo_city.copy("postgresql", cache["shared"], cache["tmp"] / "w1", pg=server, seed=cache["seed"])
    assert not demo_city.CACHE.exists()
    server.drop(url)  # the worker drops its own copy
    demo_city.drop_seeded(cache["shared"], server.drop)
    assert server.databases == set()
