"""The portal index, kept live for these tests, starting from an empty folder."""
from __future__ import annotations

import shutil

import pytest


@pytest.fixture()
def live_index(app, db, monkeypatch):
    from portal.search import index

    monkeypatch.setitem(app.config, "PORTAL_INDEX_LIVE", True)
    shutil.rmtree(index.index_dir(), ignore_errors=True)
    index.rebuild()  # an empty index of this database (the folder is shared across tests)
    return index
