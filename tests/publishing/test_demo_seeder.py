"""The demo seeder (order 900) publishes the demo city's goals and results and builds the index."""
import sqlalchemy as sa

from portal.core.registry import SEEDERS
from portal.publishing import search
from portal.publishing.models import Snapshot


def test_the_seeder_publishes_everything_publishable_and_indexes_it(db, world, corpus, index_dir):
    seeder = next(s for s in SEEDERS if s.name == "publishing")
    assert seeder.order == 900
    ctx = {"projects": list(corpus["projects"].values()), "users": {"finance": world.finance}}
    seeder.run(ctx)
    published = set(db.session.scalars(sa.select(Snapshot.project_ref).distinct()))
    assert published == {p.id for k, p in corpus["projects"].items() if k != "secret"}
    assert search.doc_count() == len(published)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Snapshot))
    seeder.run(ctx)  # running again publishes nothing new and does not fail
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Snapshot)) == before


def test_the_seeder_does_nothing_without_projects(db, world, index_dir):
    seeder = next(s for s in SEEDERS if s.name == "publishing")
    seeder.run({"users": {"finance": world.finance}})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Snapshot)) == 0
