"""Styles and scripts under fingerprinted URLs: each loaded once per browser, never stale."""
import os
import re

import pytest
from flask import url_for

from portal.core import static_assets
from tests.publishing.conftest import public_app  # noqa: F401 (a fixture)


@pytest.mark.parametrize("face", ["portal", "public site"])
def test_page_links_fingerprinted_assets_a_browser_keeps(face, client, public_app, db):  # noqa: F811
    client = client if face == "portal" else public_app.test_client()
    page = client.get("/login" if face == "portal" else "/").get_data(as_text=True)
    links = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    assert links and all("?v=" in link for link in links), links
    response = client.get(links[0])
    assert response.status_code == 200
    assert response.cache_control.max_age == static_assets.YEAR and response.cache_control.immutable
    assert response.cache_control.public and "no-store" not in response.headers["Cache-Control"]
    # the URL without its fingerprint, or with another one, is asked again each time
    for stale in (links[0].split("?")[0], links[0].split("?")[0] + "?v=000000000000"):
        answer = client.get(stale)
        assert answer.status_code == 200 and not answer.cache_control.immutable, stale
        assert answer.cache_control.max_age is None


def test_a_changed_file_gets_a_new_url(app, tmp_path, monkeypatch):
    (tmp_path / "css").mkdir()
    style = tmp_path / "css" / "x.css"
    style.write_text("a { color: red }")
    monkeypatch.setattr(app, "static_folder", str(tmp_path))
    with app.test_request_context():
        first = url_for("static", filename="css/x.css")
        assert "?v=" in first and url_for("static", filename="css/x.css") == first
        style.write_text("a { color: blue }")
        os.utime(style, ns=(1, 1))  # a different version even within the file system's clock step
        assert url_for("static", filename="css/x.css") != first
        assert "?v=" not in url_for("static", filename="css/missing.css")
        assert "?v=" not in url_for("static", filename="../pyproject.toml")
