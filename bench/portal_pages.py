"""Portal pages at scale through the Flask test client, signed in through the real login form:
`python -m bench.portal_pages --database-url URL [--runs 20]`. Prints median and p95 per page.

PAGES is plain configuration: paths are the portal blueprints' routes (ledger `/ledger/`, letters
`/inquiries/`, co-review `/reviews/`), signed in as the accounts bench/generators/organisations.py
creates; a page that answers 404 is reported as not available."""
from __future__ import annotations

import tempfile

from bench.common import Figure, database_main, latency_figures, timed

# (name, path, username)
PAGES = [
    ("dashboard", "/", "finance"),
    ("organisations (admin, 1st page)", "/admin/organisations", "admin"),
    ("users (admin, 1st page)", "/admin/users", "admin"),
    ("project list (1st page)", "/projects", "finance"),
    ("project list filtered by year", "/projects?year={year}", "finance"),
    ("problem ledger filter", "/ledger/?year={year}&state=in_progress", "finance"),
    ("problem ledger, overdue bucket", "/ledger/?bucket=overdue", "finance"),
    ("letter list", "/inquiries/", "finance"),
    ("co-review list", "/reviews/", "finance"),
]


def measure(database_url: str, runs: int = 20, pages=None) -> list[Figure]:
    import sqlalchemy as sa

    from bench.generate import BENCH_PASSWORD
    from portal import create_app

    tmp = tempfile.mkdtemp(prefix="bench-portal-")
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "bench",
                      "INSTANCE_DIR": tmp, "UPLOAD_DIR": tmp + "/uploads", "SEARCH_INDEX_DIR": tmp + "/index"})
    from portal.extensions import db

    with app.app_context():
        year = db.session.execute(sa.text("SELECT max(year) FROM projects")).scalar() or 2025
        db.session.remove()
    figures: list[Figure] = []
    clients: dict[str, object] = {}
    for name, path, username in pages or PAGES:
        path = path.format(year=year)
        client = clients.get(username)
        if client is None:
            client = app.test_client()
            response = client.post("/login", data={"username": username, "password": BENCH_PASSWORD})
            if response.status_code != 302:
                raise RuntimeError(f"login as {username} failed ({response.status_code})")
            clients[username] = client
        status = client.get(path).status_code  # warm-up, and is the page there at all?
        if status == 404:
            figures.append(Figure("portal", name, None, "", note="not available (404): module not merged"))
            continue
        if status != 200:
            figures.append(Figure("portal", name, None, "", note=f"answers {status}, not measured"))
            continue

        def fetch(c=client, p=path):
            response = c.get(p)
            assert response.status_code == 200, response.status_code

        figures += latency_figures("portal", name, timed(fetch, runs), note=f"{runs} runs, test client")
    return figures


def main(argv=None) -> None:
    database_main("portal", measure, __doc__, argv)


if __name__ == "__main__":
    main()
