"""The portal's search and the lists' export at scale:
`python -m bench.portal_search_bench --database-url URL [--runs 20]`.

- index: `index.rebuild()` over every letter, problem, project, goal, meeting, action, library
  document and co-review (documents per second).
- search: fixed queries through `portal.search.service.search()` (the whole grouped page's work:
  Whoosh candidates, the permission scope of every kind, snippets) as a finance officer and as a
  budget unit's liaison, cold (first run) and warm. Baseline in the same run: the same words as a
  database LIKE over the same kinds' main text columns, each from the kind's scope (what a search
  without an index would do — and it cannot segment Chinese).
- export: the ledger's "导出当前列表" (`/ledger/?export=xlsx`, the shown columns, every row) beside
  the official 30-column workbook over the same rows (`/ledger/export.xlsx`), and the project
  list's export (`/projects?export=xlsx`), through the test client."""
from __future__ import annotations

import tempfile
import time

from bench.common import Figure, database_main, latency_figures, timed

QUERIES = ["资金", "专项资金未按规定用途使用", "教育", "审计报告", "绩效目标", "棚户区改造", "医院", "债券",
           "整改", "资金闲置", "农村饮水", "联席会议", "政府采购", "第一中学", "项目未按期完工", "老旧小区"]


def _like_baseline(user, words: list[str]) -> int:
    """Each kind's scope, filtered by a LIKE on its main text for every word (no index)."""
    import sqlalchemy as sa

    from portal.conference.models import Action, Meeting, SharedDocument
    from portal.core.permissions import visible
    from portal.extensions import db
    from portal.inquiries.models import Letter
    from portal.ledger.models import Problem
    from portal.performance.models import Project
    from portal.reviews.models import Report

    columns = {Letter: (Letter.title, Letter.body), Problem: (Problem.description, Problem.category),
               Project: (Project.name, Project.description), Meeting: (Meeting.agenda, Meeting.minutes),
               Action: (Action.text,), SharedDocument: (SharedDocument.title, SharedDocument.note),
               Report: (Report.title,)}
    found = 0
    for model, cols in columns.items():
        stmt = visible(user, model)
        for word in words:
            stmt = stmt.where(sa.or_(*[c.contains(word) for c in cols]))
        found += len(db.session.scalars(stmt.limit(5)).all())
    return found


def measure(database_url: str, runs: int = 20) -> list[Figure]:
    import sqlalchemy as sa

    from bench.generate import BENCH_PASSWORD
    from portal import create_app

    tmp = tempfile.mkdtemp(prefix="bench-portal-search-")
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "bench",
                      "INSTANCE_DIR": tmp, "UPLOAD_DIR": tmp + "/uploads", "SEARCH_INDEX_DIR": tmp + "/index",
                      "PORTAL_INDEX_DIR": tmp + "/portal-index", "PORTAL_INDEX_LIVE": False})
    from portal.accounts.models import User
    from portal.extensions import db
    from portal.search import index, service

    figures: list[Figure] = []
    with app.app_context():
        started = time.perf_counter()
        documents = index.rebuild()
        seconds = time.perf_counter() - started
        figures.append(Figure("portal search", "rebuild", documents / seconds, "docs/s",
                              note=f"{documents:,} documents in {seconds:.1f} s", higher_is_better=True))
        finance = db.session.scalar(sa.select(User).where(User.username == "finance"))
        unit = db.session.scalar(sa.select(User).where(User.username.like("unit%")).order_by(User.id))
        for label, user in (("finance", finance), ("unit liaison", unit)):
            cold = []
            for q in QUERIES:
                t = time.perf_counter()
                service.search(user, q)
                cold.append(time.perf_counter() - t)
            warm = [s / len(QUERIES) for s in timed(lambda u=user: [service.search(u, q) for q in QUERIES],
                                                    max(1, runs // 4))]
            like = timed(lambda u=user: [_like_baseline(u, index.words_of(q)) for q in QUERIES], max(1, runs // 4))
            like = [s / len(QUERIES) for s in like]
            figures += latency_figures("portal search", f"{label}, cold ({len(QUERIES)} queries)", cold)
            figures += latency_figures("portal search", f"{label}, warm (per query)", warm, like,
                                       "database LIKE per kind, same scopes")
        db.session.remove()

    client = app.test_client()
    if client.post("/login", data={"username": "finance", "password": BENCH_PASSWORD}).status_code != 302:
        raise RuntimeError("login as finance failed")

    def get(path):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return len(response.get_data())

    export_runs = max(1, runs // 10)
    shown = timed(lambda: get("/ledger/?export=xlsx"), export_runs)
    official = timed(lambda: get("/ledger/export.xlsx"), export_runs)
    figures += latency_figures("list export", "ledger, shown columns, every problem (xlsx)", shown, official,
                               "official 30-column workbook, same rows")
    figures += latency_figures("list export", "ledger, shown columns (csv)",
                               timed(lambda: get("/ledger/?export=csv"), export_runs))
    figures += latency_figures("list export", "project list, every project (xlsx)",
                               timed(lambda: get("/projects?export=xlsx"), export_runs))
    return figures


def main(argv=None) -> None:
    database_main("portal search", measure, __doc__, argv)


if __name__ == "__main__":
    main()
