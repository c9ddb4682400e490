"""Issue 18, the public site: a project's tables as officials write them (Chinese or English
headers, 万元, state labels), self-evaluation lines, downloads beside every table with numbers as
numbers, trends over the published years, HTTP dates in UTC, one CSV charset, and the site's
own language switch that leaves the portal alone."""
import io
import json
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from email.utils import parsedate_to_datetime

import sqlalchemy as sa
from openpyxl import load_workbook

from portal.core import clock
from portal.ledger.models import ProblemState
from portal.performance.models import EvaluationLine, EvaluationMode, Operator, QualitativeTier
from portal.publishing import operations, search
from portal.publishing.models import PublicationKind, Snapshot, SnapshotState
from tests import factories
from tests.ledger.conftest import make_problem
from tests.public_site.test_public_site import ALL, publish_all
from tests.publishing.corpus import add_evaluation, add_goal


def _self_lines(db, corpus):
    canteen = corpus["projects"]["canteen"]
    evaluation = next(e for e in canteen.evaluations if e.mode == EvaluationMode.SELF)
    indicator = canteen.goals[0].indicators[0]
    evaluation.lines.append(EvaluationLine(position=0, indicator=indicator, label="改造食堂数量", operator=Operator.GE,
                                           target=Decimal(3), actual=Decimal(2), weight=Decimal(40), score=Decimal("26.67")))
    evaluation.lines.append(EvaluationLine(position=1, label="食品安全管理", operator=Operator.QUALITATIVE,
                                           target_text="达到预期", tier=QualitativeTier.PARTIAL, weight=Decimal(20),
                                           score=Decimal(12)))
    db.session.flush()
    return canteen


def _problems(db, world, corpus):
    shack = corpus["projects"]["shack"]
    make_problem(world, project=shack, amount="362610", category="资金管理",
                 description="专项债券资金闲置", state=ProblemState.IN_PROGRESS)
    make_problem(world, project=shack, amount="120000", category="项目管理", description="验收资料不全",
                 state=ProblemState.CLOSED, rectified="120000")
    return shack


def _an_earlier_year(db, world):
    """A 2025 project in the education department, evaluated 优 by finance."""
    old = factories.make_project(world.subunit, year=2025, name="二〇二五年校舍维修项目", budget="5000000")
    add_goal(old, "维修校舍10处。", [("维修校舍数量", Operator.GE, "10", "处", "")])
    add_evaluation(old, 95, conclusion="按期完成。")
    db.session.commit()
    operations.publish(2025, None, ALL, actor=world.finance)
    db.session.commit()
    return old


def _setup(db, world, corpus):
    _self_lines(db, corpus)
    db.session.commit()
    shack = _problems(db, world, corpus)
    publish_all(db, world)
    return shack


def test_the_rectification_table_has_headers_money_and_state_labels(db, world, corpus, public_app, index_dir):
    shack = _setup(db, world, corpus)
    client = public_app.test_client()
    page = client.get(f"/projects/{shack.id}").get_data(as_text=True)
    table = page[page.index('id="table-problems"'):]
    table = table[:table.index("</table>")]
    for header in ("问题编号", "问题类别", "问题描述", "涉及金额", "整改类型", "整改状态", "已整改金额", "整改期限", "销号日期"):
        assert f">{header}</th>" in table, header
    for raw in ("amount_rectified", "rect_type", "closed_on", ">amount<", ">state<", "362610.00", "362610"):
        assert raw not in table, raw
    assert "36.26万元" in table and "12.00万元" in table and "整改中" in table and "已销号" in table
    english = client.get(f"/projects/{shack.id}?lang=en").get_data(as_text=True)
    table = english[english.index('id="table-problems"'):]
    assert ">Amount involved</th>" in table and ">Rectification</th>" in table and "36.26 万元" in table
    assert ProblemState.IN_PROGRESS.en in table and "问题编号" not in table


def test_a_self_evaluation_shows_each_indicator_target_and_actual(db, world, corpus, public_app, index_dir):
    _setup(db, world, corpus)
    canteen = corpus["projects"]["canteen"]
    page = public_app.test_client().get(f"/projects/{canteen.id}").get_data(as_text=True)
    lines = page[page.index('id="self-evaluation-lines"'):]
    lines = lines[:lines.index("</table>")]
    assert "改造食堂数量" in lines and "≥3处" in lines and ">2处<" in lines and "26.67" in lines
    assert "食品安全管理" in lines and "达到预期" in lines and "部分达成" in lines


def _sheet(response):
    assert response.status_code == 200, response.status_code
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows())
    return rows[0], rows[1:]


def test_downloads_beside_every_table_hold_numbers_as_numbers(db, world, corpus, public_app, index_dir):
    shack = _setup(db, world, corpus)
    client = public_app.test_client()
    header, rows = _sheet(client.get(f"/projects/{shack.id}/problems.xlsx"))
    titles = [c.value for c in header]
    assert titles[:4] == ["问题编号", "问题类别", "问题描述", "涉及金额（元）"]
    amounts = sorted(r[3].value for r in rows)
    assert amounts == [120000, 362610] and all(r[3].data_type == "n" and r[3].number_format == "#,##0.00" for r in rows)
    closed = next(r for r in rows if r[3].value == 120000)
    assert closed[titles.index("整改状态")].value == "已销号" and closed[titles.index("销号日期")].is_date
    # the project's indicator table and its self-evaluation lines
    header, indicators = _sheet(client.get(f"/projects/{shack.id}/indicators.xlsx"))
    assert [c.value for c in header] == ["一级指标", "二级指标", "三级指标", "指标值", "分值"]
    assert [r[4].value for r in indicators] == [10, 10] and indicators[0][4].data_type == "n"
    canteen = corpus["projects"]["canteen"]
    header, lines = _sheet(client.get(f"/projects/{canteen.id}/self_evaluation.xlsx"))
    by_title = {c.value: i for i, c in enumerate(header)}
    assert lines[0][by_title["实际完成值"]].value == 2 and lines[0][by_title["得分"]].value == 26.67
    assert lines[1][by_title["完成情况"]].value == "部分达成"
    csv_text = client.get(f"/projects/{shack.id}/problems.csv").get_data(as_text=True)
    assert csv_text.startswith("\ufeff问题编号") and ",362610.00," in csv_text
    # the home page's 最新公开 and a department's list, with a link beside each table
    home = client.get("/").get_data(as_text=True)
    assert 'href="/latest.xlsx"' in home and 'href="/latest.csv"' in home
    header, latest = _sheet(client.get("/latest.xlsx"))
    budget = [c.value for c in header].index("全年预算数（元）")
    assert latest and all(r[budget].data_type == "n" and r[budget].number_format == "#,##0.00" for r in latest)
    assert all(r[[c.value for c in header].index("公开时间")].is_date for r in latest)
    department = world.department.id
    assert f'href="/departments/{department}.xlsx"' in client.get(f"/departments/{department}").get_data(as_text=True)
    _h, listed = _sheet(client.get(f"/departments/{department}.xlsx"))
    live = db.session.scalar(sa.select(sa.func.count()).where(
        Snapshot.department_ref == department, Snapshot.current.is_(True), Snapshot.state == SnapshotState.PUBLISHED,
        Snapshot.kind.in_([PublicationKind.GOALS, PublicationKind.SELF_EVALUATION, PublicationKind.FINANCE_EVALUATION])))
    assert len(listed) == live > 0
    # a withdrawn or missing table is no download
    assert client.get(f"/projects/{shack.id}/nothing.csv").status_code == 404
    assert client.get(f"/projects/{corpus['projects']['library'].id}/problems.csv").status_code == 404


def _expected_trends(db, department=None):
    """The trends computed again, straight from the current published snapshots."""
    out = defaultdict(lambda: {"projects": set(), "grades": defaultdict(int), "finance": [], "budget": Decimal(0),
                               "problems": 0, "closed": 0})
    stmt = sa.select(Snapshot).where(Snapshot.current.is_(True), Snapshot.state == SnapshotState.PUBLISHED)
    for s in db.session.scalars(stmt):
        if department and s.department_ref != department:
            continue
        year = out[s.year]
        year["projects"].add(s.project_ref)
        if s.kind == PublicationKind.GOALS:
            year["budget"] += Decimal(s.amount)
        if s.kind in (PublicationKind.SELF_EVALUATION, PublicationKind.FINANCE_EVALUATION):
            year["grades"][s.grade] += 1
        if s.kind == PublicationKind.FINANCE_EVALUATION:
            year["finance"].append(Decimal(s.score))
        if s.kind == PublicationKind.RECTIFICATION:
            problems = json.loads(s.data)["sections"]["problems"]
            year["problems"] += len(problems)
            year["closed"] += sum(1 for p in problems if p["state"] == ProblemState.CLOSED.zh)
    return out


def test_trends_match_the_published_snapshots(db, world, corpus, public_app, index_dir):
    _setup(db, world, corpus)
    _an_earlier_year(db, world)
    search.apply_queue()
    client = public_app.test_client()
    for url, department in (("/trends", None), (f"/departments/{world.department.id}/trends", world.department.id)):
        page = client.get(url)
        assert page.status_code == 200 and "<svg" in page.get_data(as_text=True)
        header, rows = _sheet(client.get(url + ".xlsx"))
        titles = [c.value for c in header]
        expected = _expected_trends(db, department)
        assert [r[0].value for r in rows] == sorted(expected) == [2025, 2026]
        for row in rows:
            e = expected[row[0].value]
            cell = {t: row[i] for i, t in enumerate(titles)}
            assert cell["公开项目数"].value == len(e["projects"])
            assert [cell[g].value for g in ("优", "良", "中", "差")] == [
                e["grades"].get(g, 0) for g in ("excellent", "good", "fair", "poor")]
            assert cell["公开目标的项目预算（元）"].value == e["budget"]
            assert cell["公开目标的项目预算（元）"].number_format == "#,##0.00"
            mean = (sum(e["finance"]) / len(e["finance"])).quantize(Decimal("0.01")) if e["finance"] else None
            assert cell["财政评价平均分"].value == (None if mean is None else float(mean))
            assert cell["问题数"].value == e["problems"] and cell["已销号"].value == e["closed"]
            if e["problems"]:
                assert abs(cell["整改率（按数量）"].value - e["closed"] / e["problems"]) < 1e-4
                assert cell["整改率（按数量）"].number_format == "0.0%"
    city = _expected_trends(db)
    assert city[2026]["problems"] == 2 and city[2026]["closed"] == 1 and city[2025]["grades"]["excellent"] == 1
    text = client.get("/trends").get_data(as_text=True)
    assert "50.0%" in text and 'href="/trends.csv"' in text
    csv_text = client.get("/trends.csv").get_data(as_text=True)
    assert csv_text.startswith("\ufeff年度,公开项目数")


def test_last_modified_is_the_publication_time_in_utc(db, world, corpus, public_app, index_dir):
    with clock.frozen(clock.now().replace(hour=9, minute=30, second=0)):
        publish_all(db, world)
        published = clock.now()
    response = public_app.test_client().get("/")
    stamp = parsedate_to_datetime(response.headers["Last-Modified"])
    assert response.headers["Last-Modified"].endswith("GMT")
    assert stamp.replace(tzinfo=None) == published - timedelta(hours=8)  # 09:30 in 临州 is 01:30 GMT
    again = public_app.test_client().get("/", headers={"If-Modified-Since": response.headers["Last-Modified"]})
    assert again.status_code == 304


def test_chart_csv_names_its_charset_once(db, world, corpus, public_app, index_dir):
    publish_all(db, world)
    client = public_app.test_client()
    for url in ("/charts/grades.csv", "/charts/grades.csv", "/goals?format=csv", "/trends.csv"):
        assert client.get(url).headers["Content-Type"] == "text/csv; charset=utf-8", url


def test_the_language_switch_works_both_ways_and_leaves_the_portal_alone(db, world, corpus, public_app, index_dir,
                                                                         app):
    publish_all(db, world)
    client = public_app.test_client()
    assert 'lang="zh-CN"' in client.get("/trends").get_data(as_text=True)
    switched = client.get("/lang/en?next=/trends")
    assert switched.status_code == 302 and switched.headers["Location"].endswith("/trends")
    cookie = switched.headers["Set-Cookie"]
    assert cookie.startswith("site_lang=en") and "Path=/;" in cookie
    english = client.get("/trends").get_data(as_text=True)
    assert '<html lang="en">' in english and "Trends" in english and 'href="/lang/zh?next=/trends"' in english
    back = client.get("/lang/zh?next=/trends")
    assert back.status_code == 302
    assert 'lang="zh-CN"' in client.get("/trends").get_data(as_text=True)
    # nowhere else: an outside address or the portal is refused as the next page
    assert client.get("/lang/en?next=//evil.example/").headers["Location"].endswith("/")
    assert not client.get("/lang/en?next=/portal/login").headers["Location"].endswith("/portal/login")
    # the public cookie does not turn the portal English, and the portal's does not turn the public site
    portal = app.test_client()
    portal.set_cookie("site_lang", "en")
    assert "登录" in portal.get("/login").get_data(as_text=True)
    public = public_app.test_client()
    public.set_cookie("lang", "en")
    assert '<html lang="zh-CN">' in public.get("/").get_data(as_text=True)


def test_search_filters_fold_behind_a_button(db, world, corpus, public_app, index_dir):
    publish_all(db, world)
    page = public_app.test_client().get("/search?q=改造").get_data(as_text=True)
    fold = page.index('<details class="facet-fold"')
    assert fold < page.index('class="hits"') and '<summary class="fold-button">' in page[fold:]
    assert "js/public.js" in page
