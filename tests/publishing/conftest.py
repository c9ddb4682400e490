import pytest

from tests.publishing import corpus as corpus_module


@pytest.fixture()
def corpus(world):
    return corpus_module.build(world)


@pytest.fixture()
def public_app(app, tmp_root):
    import public_site
    from tests.conftest import FreshRequestClient, app_config

    application = public_site.create_app(app_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_root,
                                                    SEARCH_INDEX_DIR=app.config["SEARCH_INDEX_DIR"]))
    application.test_client_class = FreshRequestClient
    from public_site import live
    from public_site.data import RENDERED

    RENDERED.clear()  # test databases reuse ids; never serve a page rendered for another test
    live.forget()
    return application


@pytest.fixture()
def index_dir(app, db):
    """A fresh, empty search index (a missing one would be rebuilt in the background, and
    queued updates wait for that rebuild: portal.publishing.search.health)."""
    import shutil
    from pathlib import Path

    from portal.publishing import search

    path = Path(app.config["SEARCH_INDEX_DIR"])
    shutil.rmtree(path, ignore_errors=True)
    search.reindex()
    db.session.rollback()
    yield path
    shutil.rmtree(path, ignore_errors=True)
