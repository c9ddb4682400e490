"""The public site reads only what is currently published (issue 15): a crawl of every public
route, download, feed and API never shows a superseded version or withdrawn content.

Markers: WITHDRAWN in content that was published and then withdrawn (a whole project, and one
kind of another), SUPERSEDED in versions replaced by a correction (the project's name, its
description and an evaluation's conclusion, over two corrections)."""
import re
from decimal import Decimal
from urllib.parse import parse_qs, quote, urlparse

import sqlalchemy as sa

from portal.assessments import operations as assessments
from portal.publishing import operations, search
from portal.publishing.models import PublicationKind, Snapshot
from tests.assessments.conftest import application, assessed
from tests.factories import make_project
from tests.public_site.test_public_site import ALL, crawl
from tests.publishing.corpus import MARKER

WITHDRAWN = "撤回标记WQ3"
SUPERSEDED = "旧版标记SV9"
WITHDRAWN_BUDGET = "76543210"  # the withdrawn project's budget: 7654.32 万元
WITHDRAWN_FIGURE = "86421357"  # requested in the year whose ex-ante figures are withdrawn: 8642.14 万元


def _finance_evaluation(project):
    return [e for e in project.evaluations if e.mode.value == "finance"][0]


def _publish(db, world, note=""):
    operations.publish(2026, None, ALL, actor=world.finance, note=note)
    db.session.commit()


def build_history(db, world, corpus) -> dict:
    p = corpus["projects"]
    hospital, oldtown, shack = p["hospital"], p["oldtown"], p["shack"]
    hospital.description = f"撤回前的项目说明{WITHDRAWN}"
    hospital.annual_budget = Decimal(WITHDRAWN_BUDGET)
    _finance_evaluation(hospital).conclusion = f"撤回前的结论{WITHDRAWN}"
    _finance_evaluation(oldtown).conclusion = f"复核中的结论{WITHDRAWN}"
    shack.name = f"旧项目名称{SUPERSEDED}"
    shack.description = f"旧的项目说明{SUPERSEDED}"
    _finance_evaluation(shack).conclusion = f"旧的结论{SUPERSEDED}"
    db.session.flush()
    _publish(db, world)
    # first correction: still superseded material (it is corrected once more below)
    shack.name = f"更正中的名称{SUPERSEDED}"
    shack.description = f"第二版说明{SUPERSEDED}"
    _finance_evaluation(shack).conclusion = f"第二版结论{SUPERSEDED}"
    _publish(db, world, note="第一次更正。")
    shack.name = "城东片区棚户区改造项目"
    shack.description = "利用专项债券资金实施城东片区棚户区改造。"
    _finance_evaluation(shack).conclusion = "更正后的结论：安置房交付率为百分之六十五。"
    _publish(db, world, note="第二次更正。")
    # the whole hospital project, and one kind of the old-town project, are withdrawn
    for row in db.session.scalars(sa.select(Snapshot).where(Snapshot.project_ref == hospital.id,
                                                            Snapshot.current.is_(True))):
        operations.withdraw(row, actor=world.finance, note="数据正在核实，暂时撤回。")
    row = db.session.scalar(sa.select(Snapshot).where(Snapshot.project_ref == oldtown.id, Snapshot.current.is_(True),
                                                      Snapshot.kind == PublicationKind.FINANCE_EVALUATION))
    operations.withdraw(row, actor=world.finance, note="评价报告正在复核。")
    db.session.commit()
    search.apply_queue()
    _figures_history(db, world)
    return {"hospital": hospital.id, "oldtown": oldtown.id, "shack": shack.id}


def _figures_history(db, world):
    """事前绩效评估情况 of 2027 published; those of 2028 published and then withdrawn."""
    for year, amount in ((2027, "9000000.00"), (2028, WITHDRAWN_FIGURE)):
        project = make_project(world.department, year=year, budget=amount, name=f"{year}年新增项目")
        assessment = assessments.apply_for(project, application(amount=amount), actor=world.unit)
        assessed(world, assessment, 88)
        operations.publish_figures("ex_ante", year, actor=world.finance)
    db.session.commit()
    operations.withdraw_figures(operations.current_figures("ex_ante", 2028), actor=world.finance,
                                note="统计口径调整，暂时撤回。")
    db.session.commit()


def every_public_url(db, public_app, refs: dict) -> list[str]:
    """A start for every route of the public app, and every snapshot, version and notice by id."""
    rows = db.session.execute(sa.select(Snapshot.id, Snapshot.project_ref, Snapshot.kind, Snapshot.version,
                                        Snapshot.department_ref)).all()
    urls = ["/", "/goals", "/results", "/departments", "/charts", "/trends", "/trends?lang=en", "/?lang=en",
            "/latest.csv", "/latest.xlsx", "/latest.json", "/trends.csv", "/trends.xlsx", "/trends.json",
            "/glossary", "/notices", "/sitemap.xml",
            "/sitemap-0.xml", "/robots.txt", "/feeds/all.atom", "/api/v1/public/", "/api/v1/public/openapi.json",
            "/api/v1/public/snapshots?per_page=200", "/api/v1/public/snapshots?per_page=200&page=2",
            "/healthz", "/readyz", "/metrics", "/figures/ex_ante/",
            *(f"/figures/ex_ante/{year}{ext}" for year in (2027, 2028) for ext in ("", ".csv", ".xlsx", ".json"))]
    for word in (SUPERSEDED, WITHDRAWN, "旧项目名称", "更正中的名称", "撤回前", "医疗", "基层医疗卫生机构能力提升",
                 "棚户区", "复核中的结论", "2026"):
        urls += [f"/search?q={word}", f"/api/v1/public/search?q={word}", f"/feeds/search.atom?q={word}"]
        for fmt in ("csv", "xlsx", "json"):
            urls.append(f"/search?q={word}&format={fmt}")
    for listing in ("/goals", "/results"):
        for fmt in ("csv", "xlsx", "json"):
            urls.append(f"{listing}?format={fmt}")
    for name in ("grades", "money", "rectification"):
        for fmt in ("svg", "csv", "json", "xlsx"):
            urls.append(f"/charts/{name}.{fmt}")
    for snapshot_id, ref, kind, version, department in rows:
        urls += [f"/api/v1/public/snapshots/{snapshot_id}", f"/notices/{snapshot_id}", f"/projects/{ref}",
                 f"/api/v1/public/projects/{ref}", f"/projects/{ref}/{kind.value}/v{version}",
                 f"/departments/{department}", f"/feeds/departments/{department}.atom",
                 f"/departments/{department}/trends", f"/departments/{department}.xlsx",
                 f"/departments/{department}.csv", f"/departments/{department}/trends.xlsx",
                 f"/departments/{department}/trends.csv", f"/projects/{ref}?lang=en",
                 *(f"/projects/{ref}/{table}.{fmt}" for table in ("indicators", "self_evaluation", "problems")
                   for fmt in ("csv", "xlsx")),
                 f"/results?department={department}&format=csv", f"/goals?department={department}&format=xlsx"]
    return list(dict.fromkeys(urls))


def _rule_of(public_app, url: str) -> str | None:
    adapter = public_app.url_map.bind("localhost")
    try:
        endpoint, _args = adapter.match(url.split("?", 1)[0])
    except Exception:
        return None
    return endpoint


def test_no_withdrawn_or_superseded_content_in_any_public_response(db, world, corpus, public_app, index_dir):
    refs = build_history(db, world, corpus)
    client = public_app.test_client()
    starts = every_public_url(db, public_app, refs)
    pages = crawl(client, starts, limit=1500)
    # every route of the public app was visited, with a 200 answer somewhere
    # (the language switch answers a redirect: tests/public_site/test_public_pages.py)
    endpoints = {r.endpoint for r in public_app.url_map.iter_rules() if r.endpoint not in ("static", "public.set_language")}
    answered = {_rule_of(public_app, url) for url, (response, _t) in pages.items() if response.status_code == 200}
    assert endpoints <= answered, endpoints - answered
    leaks = {}
    for url, (_response, text) in pages.items():
        query = parse_qs(urlparse(url).query).get("q", [""])[0]
        if query:  # a search page repeats its query: the words searched for are not a leak
            text = text.replace(query, "").replace(quote(query), "")
        for marker in (WITHDRAWN, SUPERSEDED, MARKER, "旧项目名称", "更正中的名称", "第二版说明", "第二版结论",
                       "第一次更正", WITHDRAWN_BUDGET, "7654.32", "7,654.32",
                       WITHDRAWN_FIGURE, "8642.14", "8,642.14"):
            if marker in text:
                leaks.setdefault(marker, []).append(url)
    assert not leaks, leaks
    for word in (SUPERSEDED, WITHDRAWN, "旧项目名称", "更正中的名称", "撤回前", "复核中的结论"):
        assert pages[f"/api/v1/public/search?q={word}"][0].get_json()["total"] == 0, word
    # what is current is still public
    shack = pages[f"/projects/{refs['shack']}"][1]
    assert "城东片区棚户区改造项目" in shack and "百分之六十五" in shack and "第二次更正" in shack


def test_a_withdrawn_project_shows_its_name_date_and_note_only(db, world, corpus, public_app, index_dir):
    refs = build_history(db, world, corpus)
    client = public_app.test_client()
    page = client.get(f"/projects/{refs['hospital']}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "基层医疗卫生机构能力提升" in text and "数据正在核实" in text and "该内容已撤回" in text
    for hidden in (WITHDRAWN, "项目编码", "全年预算数", "实施单位", "医院"):
        assert hidden not in text.split("<main", 1)[-1], hidden
    api = client.get(f"/api/v1/public/projects/{refs['hospital']}").get_json()
    assert api["current"] == []
    assert {tuple(sorted(w)) for w in api["withdrawn"]} == {
        ("id", "kind", "note", "project_name", "project_ref", "state", "withdrawn_at")}
    snapshot_ids = db.session.scalars(sa.select(Snapshot.id).where(Snapshot.project_ref == refs["hospital"])).all()
    for snapshot_id in snapshot_ids:
        assert client.get(f"/api/v1/public/snapshots/{snapshot_id}").status_code == 404
    # the withdrawal row itself holds no content: the name, the date and the note
    withdrawn = db.session.scalars(sa.select(Snapshot).where(Snapshot.project_ref == refs["hospital"],
                                                             Snapshot.current.is_(True))).all()
    for row in withdrawn:
        assert row.payload == {"project": {"name": "基层医疗卫生机构能力提升"}, "kind": row.kind.value}
        assert row.amount == 0 and row.unit_name == "" and row.score is None
    # the partly withdrawn project keeps its published goals
    oldtown = client.get(f"/projects/{refs['oldtown']}").get_data(as_text=True)
    assert "加装电梯" in oldtown and "评价报告正在复核" in oldtown and WITHDRAWN not in oldtown


def test_only_the_current_version_has_a_permalink(db, world, corpus, public_app, index_dir):
    refs = build_history(db, world, corpus)
    client = public_app.test_client()
    versions = db.session.execute(sa.select(Snapshot.id, Snapshot.version, Snapshot.current).where(
        Snapshot.project_ref == refs["shack"], Snapshot.kind == PublicationKind.FINANCE_EVALUATION)
        .order_by(Snapshot.version)).all()
    assert [(v, c) for _i, v, c in versions] == [(1, False), (2, False), (3, True)]
    for snapshot_id, version, current in versions:
        page = client.get(f"/projects/{refs['shack']}/finance_evaluation/v{version}")
        api = client.get(f"/api/v1/public/snapshots/{snapshot_id}")
        notice = client.get(f"/notices/{snapshot_id}")
        assert (page.status_code, api.status_code) == ((200, 200) if current else (404, 404))
        assert notice.status_code == (200 if current else 404)
    feed = client.get("/feeds/all.atom").get_data(as_text=True)
    base = f"/projects/{refs['shack']}/finance_evaluation/v"
    assert f"{base}3" in feed and not re.search(re.escape(base) + r"[12]\b", feed)
