"""The public site: reads snapshot tables only, never shows anything unpublished, caches well,
offers downloads, feeds, an API, a sitemap and robots.txt."""
import html
import io
import re
import zipfile
from urllib.parse import urljoin, urlparse

import sqlalchemy as sa
from sqlalchemy import event

from portal.publishing import operations, search
from tests.publishing.corpus import MARKER

ALL = ["goals", "self_evaluation", "finance_evaluation", "report", "rectification"]
SNAPSHOT_TABLES = {"pub_snapshots", "pub_files", "pub_year_figures"}


def publish_all(db, world):
    operations.publish(2026, None, ALL, actor=world.finance)
    db.session.commit()
    search.apply_queue()


def body_text(response) -> str:
    data = response.get_data()
    if response.mimetype.endswith("spreadsheetml.sheet"):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return html.unescape(" ".join(z.read(n).decode("utf-8", "replace") for n in z.namelist()))
    return data.decode("utf-8", "replace")


def crawl(client, start_urls, limit=400):
    seen, queue, pages = set(), list(start_urls), {}
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        assert response.status_code in (200, 404), (url, response.status_code)
        text = body_text(response)
        pages[url] = (response, text)
        if response.mimetype in ("text/html", "application/atom+xml", "application/xml"):
            for link in re.findall(r'(?:href|src)="([^"]+)"', text) + re.findall(r"<loc>([^<]+)</loc>", text):
                link = link.replace("&amp;", "&")
                parsed = urlparse(urljoin("http://localhost" + url, link))
                if parsed.netloc not in ("localhost", "") or parsed.path.startswith(("/static", "/lang/")):
                    continue  # (the language switch only sets a cookie and redirects: tested on its own)
                if parsed.query.count("&") >= 1 and "format=" not in parsed.query:
                    continue  # combinations of facets: one level of filters is enough to reach everything
                target = parsed.path + (f"?{parsed.query}" if parsed.query else "")
                if target not in seen:
                    queue.append(target)
    return pages


def test_nothing_unpublished_ever_appears_and_only_snapshot_tables_are_read(db, world, corpus, public_app, index_dir):
    publish_all(db, world)
    secret = corpus["projects"]["secret"].id
    statements = []
    with public_app.app_context():
        from portal.extensions import db as public_db

        engine = public_db.engine

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        client = public_app.test_client()
        starts = ["/", "/goals", "/results", "/departments", "/charts", "/glossary", "/notices", "/sitemap.xml",
                  "/robots.txt", "/feeds/all.atom", "/api/v1/public/", "/api/v1/public/openapi.json",
                  "/api/v1/public/snapshots?per_page=200", f"/projects/{secret}", f"/api/v1/public/projects/{secret}",
                  "/search?q=ZQX7", "/search?q=机密标记", "/search?q=草稿", "/search?q=2026", "/api/v1/public/search?q=2026",
                  "/feeds/search.atom?q=ZQX7", "/feeds/search.atom?q=改造"]
        for listing in ("/goals", "/results", "/search?q=2026&"):
            for fmt in ("csv", "xlsx", "json"):
                starts.append(f"{listing}{'&' if '?' in listing and not listing.endswith('&') else ('' if listing.endswith('&') else '?')}format={fmt}")
        for name in ("grades", "money", "rectification", "due_rectification"):
            for fmt in ("svg", "csv", "json", "xlsx"):
                starts.append(f"/charts/{name}.{fmt}")
        pages = crawl(client, starts)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(pages) > 60
    assert any("/projects/" in url for url in pages) and any(url.startswith("/reports/") for url in pages)
    for url, (_response, text) in pages.items():
        assert MARKER not in text, url
        assert "审核意见" not in text, url
    assert pages[f"/projects/{secret}"][0].status_code == 404
    tables = set()
    for statement in statements:
        tables |= {t.strip('"').lower() for t in re.findall(r'(?:FROM|JOIN|INTO|UPDATE)\s+("?\w+"?)', statement, re.I)}
    assert tables and tables <= SNAPSHOT_TABLES, tables - SNAPSHOT_TABLES


def test_conditional_requests_answer_304_and_responses_are_public(db, world, corpus, public_app, index_dir):
    publish_all(db, world)
    client = public_app.test_client()
    url = f"/projects/{corpus['projects']['shack'].id}"
    first = client.get(url)
    assert first.status_code == 200
    assert "public" in first.headers["Cache-Control"] and first.headers["ETag"] and first.headers["Last-Modified"]
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    since = client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304
    # a new publication changes the validator
    corpus["projects"]["shack"].description = "补充说明"
    operations.publish(2026, None, ["goals"], actor=world.finance, note="补充项目说明。")
    db.session.commit()
    fresh = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert fresh.status_code == 200 and "补充说明" in fresh.get_data(as_text=True)  # the page cache follows
    assert "补充说明" in client.get(url).get_data(as_text=True)


def test_portal_pages_stay_private(db, world, login):
    response = login(world.finance).get("/publishing/")
    assert "private" in response.headers["Cache-Control"]


def test_downloads_honour_filters_and_csv_has_a_bom(db, world, corpus, public_app, index_dir):
    publish_all(db, world)
    client = public_app.test_client()
    dept = corpus["housing"].id
    csv_response = client.get(f"/results?department={dept}&format=csv")
    raw = csv_response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf") and "text/csv" in csv_response.headers["Content-Type"]
    text = raw.decode("utf-8-sig")
    assert "城东片区棚户区改造项目" in text and "乡村教师培训计划" not in text
    data = client.get(f"/results?department={dept}&grade=excellent&format=json").get_json()
    assert [i["project_name"] for i in data["items"]] == ["老旧小区改造提升工程"]
    xlsx = client.get(f"/goals?department={dept}&format=xlsx")
    assert xlsx.status_code == 200 and "老旧小区改造提升工程" in body_text(xlsx)
    page = client.get(f"/results?department={dept}").get_data(as_text=True)
    assert f"department={dept}" in page and "format=csv" in page  # the download keeps the filters
    assert "评价等级" in page and "(1)" in page  # facet counts


def test_the_search_feed_lists_a_correction_of_the_same_second_first(db, world, corpus, public_app, index_dir):
    """Publication times have whole seconds: a correction made in the second of the first
    publication is still the newest entry of a search's feed (the feed's order had no tiebreak,
    so a reader subscribed to a search could see the superseded version on top)."""
    from portal.core import clock

    shack = corpus["projects"]["shack"]
    with clock.frozen(clock.now()):
        operations.publish(2026, None, ALL, actor=world.finance)
        db.session.commit()
        shack.description = "新增说明：保障性安居工程复核完成"
        operations.publish(2026, None, ["goals"], actor=world.finance, note="补充说明。")
        db.session.commit()
    search.apply_queue()
    feed = public_app.test_client().get(f"/feeds/search.atom?q={shack.name}").get_data(as_text=True)
    first = re.search(r"<entry>.*?<title>(.*?)</title>", feed, re.S).group(1)
    assert first == f"{shack.name} · {operations.PublicationKind.GOALS.label}（更正）", feed[:2000]


def test_feeds_api_sitemap_and_robots(db, world, corpus, public_app, index_dir):
    publish_all(db, world)
    client = public_app.test_client()
    dept = corpus["housing"].id
    feed = client.get(f"/feeds/departments/{dept}.atom")
    assert feed.mimetype == "application/atom+xml"
    text = feed.get_data(as_text=True)
    assert "城东片区棚户区改造项目" in text and "乡村教师培训计划" not in text
    assert "乡村教师培训计划" in client.get("/feeds/search.atom?q=教师").get_data(as_text=True)
    api = client.get("/api/v1/public/snapshots?per_page=2&page=2").get_json()
    assert api["page"] == 2 and len(api["items"]) == 2 and api["total"] > 10
    one = client.get(f"/api/v1/public/projects/{corpus['projects']['shack'].id}").get_json()
    assert {s["kind"] for s in one["current"]} >= {"goals", "finance_evaluation", "report"}
    assert client.get("/api/v1/public/openapi.json").get_json()["openapi"].startswith("3.")
    assert "Sitemap:" in client.get("/robots.txt").get_data(as_text=True)
    chunk = client.get("/sitemap-0.xml").get_data(as_text=True)
    assert f"/projects/{corpus['projects']['shack'].id}</loc>" in chunk


def test_report_pdf_is_served_from_the_snapshot_copy_only_once_published(db, world, corpus, public_app, index_dir):
    from portal.core.attachments import attachments_of

    shack = corpus["projects"]["shack"]
    evaluation = [e for e in shack.evaluations if e.mode.value == "finance"][0]
    sha = attachments_of(evaluation)[0].sha256
    client = public_app.test_client()
    assert client.get(f"/reports/{sha}.pdf").status_code == 404
    operations.publish(2026, None, ["report"], actor=world.finance)
    db.session.commit()
    pdf = client.get(f"/reports/{sha}.pdf")
    assert pdf.status_code == 200 and pdf.get_data().startswith(b"%PDF")
    assert "交付率仅为百分之六十二" in client.get(f"/reports/{sha}").get_data(as_text=True)


def test_a_separate_public_database_receives_snapshots_by_sync(db, world, corpus, app, tmp_root, index_dir):
    if db.engine.dialect.name != "sqlite":
        return  # the copy mechanism is the same; one backend is enough
    import public_site
    from portal.core.migrations_check import upgrade
    from portal.publishing.cli import sync
    from tests.conftest import app_config

    target_url = f"sqlite:///{tmp_root / 'public-copy.db'}"
    upgrade(target_url)
    operations.publish(2026, None, ALL, actor=world.finance)
    db.session.commit()
    engine = sa.create_engine(target_url)
    copied = sync(engine)
    assert copied > 10 and sync(engine) == 0
    shack = corpus["projects"]["shack"]
    shack.description = "新说明"
    operations.publish(2026, None, ["goals"], actor=world.finance, note="补充说明。")
    db.session.commit()
    assert sync(engine) == 1
    public = public_site.create_app(app_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_root,
                                               PUBLIC_DATABASE_URL=target_url,
                                               SEARCH_INDEX_DIR=str(tmp_root / "public-copy-index")))
    with public.app_context():
        assert search.reindex() > 0  # the public copy builds its own index (later copies queue their projects)
        assert search.doc_count() > 0
    page = public.test_client().get(f"/projects/{shack.id}").get_data(as_text=True)
    assert "新说明" in page and "补充说明" in page
    engine.dispose()


def test_the_public_app_has_no_login_and_no_portal_routes(db, public_app):
    client = public_app.test_client()
    for url in ("/login", "/portal/", "/publishing/", "/admin/users", "/api/v1/projects"):
        assert client.get(url).status_code == 404, url
    rules = {r.rule for r in public_app.url_map.iter_rules()}
    assert not any(r.startswith(("/login", "/publishing", "/portal")) for r in rules)
    assert "login_manager" not in public_app.extensions
