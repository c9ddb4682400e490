"""The goal editor's helpers (issue 18, item 7): 二级指标 offered by the chosen 一级指标 (and a
mismatched pair refused by the server), the indicator library searched with the unit's sector
first, and last year's table copied into the draft once."""
import re

import sqlalchemy as sa

from portal.core.audit import AuditEntry
from portal.extensions import db
from portal.performance.library import generate_library, seed_library
from portal.performance.models import LEVEL2_OF, GoalState, Level1, Level2, PerformanceGoal
from tests.factories import make_project
from tests.performance.conftest import with_version
from tests.performance.factories import ROWS, make_goal

HX = {"HX-Request": "true"}


def _options(html: str) -> list[str]:
    return re.findall(r'<option value="([^"]+)"', html)


def _level2_select(html: str, form_id: str) -> str:
    return re.search(rf'<select name="level2" form="{form_id}"[^>]*>(.*?)</select>', html, re.S).group(1)


def _rows(goal_id: int) -> list[tuple]:
    db.session.expire_all()
    return [(i.level1, i.level2, i.name, i.operator, i.target_value, i.target_text, i.unit, i.weight)
            for i in db.session.get(PerformanceGoal, goal_id).indicators]


def _draft(db, world, **fields):
    project = make_project(world.department, **fields)
    goal = make_goal(project, rows=[])
    db.session.commit()
    return project, goal


# ---- 二级指标 under the chosen 一级指标 -------------------------------------------------------

def test_level2_options_are_the_chosen_level1s_children(client, db, world, login):
    login(world.unit)
    for level1, children in LEVEL2_OF.items():
        html = client.get(f"/indicators/level2-options?level1={level1.value}", headers=HX).get_data(as_text=True)
        assert _options(html) == [c.value for c in children]
        assert "<optgroup" not in html
    # an unknown first level: every group, as the page without JavaScript offers them
    html = client.get("/indicators/level2-options?level1=nonsense", headers=HX).get_data(as_text=True)
    assert _options(html) == [c.value for c in Level2]
    assert html.count("<optgroup") == len(Level1)


def test_the_editor_offers_the_rows_own_children_and_refuses_a_mismatched_pair(client, db, world, login):
    project, goal = _draft(db, world)
    login(world.unit)
    page = client.get(f"/projects/{project.id}/goal").get_data(as_text=True)
    new_row = _level2_select(page, "row-new")  # the new row starts on 产出指标
    assert _options(new_row) == [c.value for c in LEVEL2_OF[Level1.OUTPUT]]
    assert 'data-level2-options="/indicators/level2-options"' in page and "js/goal.js" in page

    # without JavaScript the second level still shows the old first level's children: the pair
    # posted does not belong together and is refused, nothing saved
    response = client.post(f"/goals/{goal.id}/rows", data=with_version(db, goal, ROWS[0], level1="satisfaction"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "二级指标“数量指标”不属于一级指标“满意度指标”" in html
    assert _rows(goal.id) == []
    # the refused row now offers the new first level's children: the second post goes through
    assert _options(_level2_select(html, "row-new")) == ["service_satisfaction"]
    response = client.post(f"/goals/{goal.id}/rows", data=with_version(
        db, goal, ROWS[0], level1="satisfaction", level2="service_satisfaction"))
    assert response.status_code == 200
    assert [(r[0], r[1]) for r in _rows(goal.id)] == [(Level1.SATISFACTION, Level2.SERVICE_SATISFACTION)]


# ---- the indicator library, the unit's sector first -------------------------------------------

def _results(html: str) -> list[tuple[str, str]]:
    """(sector, name) of each library result in the order shown."""
    body = re.search(r'<div id="library-results".*?</div>', html, re.S).group(0)
    return [(m[0], m[1]) for m in re.findall(
        r"<tr[^>]*><td>([^<]*)</td><td>[^<]*</td><td>[^<]*</td><td>[^<]*</td><td>([^<]*)</td>", body)]


def test_library_search_lists_the_units_sector_first(client, db, world, login):
    seed_library()
    project, goal = _draft(db, world)  # 测试市教育局 → 教育
    login(world.unit)
    html = client.get(f"/goals/{goal.id}/library?lq=满意度", headers=HX).get_data(as_text=True)
    assert "<html" not in html  # htmx gets the results only
    shown = _results(html)
    expected = [i for i in generate_library() if "满意度" in i["name"] or i["level1"] == Level1.SATISFACTION
                or i["level2"] == Level2.SERVICE_SATISFACTION]
    own = [i["name"] for i in expected if i["sector"] == "教育"]
    assert f"共 {len(expected)} 条" in html
    assert own and sorted(name for _s, name in shown[:len(own)]) == sorted(own)  # every 教育 result first
    assert all(sector != "教育" for sector, _n in shown[len(own):])
    assert {sector for sector, _n in shown[len(own):]} > {"卫生健康"}  # the other sectors follow

    # another department's project: its own sector (卫生健康委员会 → 卫生健康) first
    health = make_project(world.other_department)
    health_goal = make_goal(health, rows=[])
    db.session.commit()
    client.post("/logout")
    login(world.other_unit)
    shown = _results(client.get(f"/goals/{health_goal.id}/library?lq=满意度", headers=HX).get_data(as_text=True))
    assert shown[0][0] == "卫生健康" and shown[len([i for i in expected if i["sector"] == "卫生健康"])][0] != "卫生健康"


def test_a_department_named_for_no_sector_gets_the_sector_its_goals_use(db, world):
    from portal.accounts.models import OrgKind
    from portal.performance import queries
    from tests.factories import make_org

    seed_library()
    office = make_org(OrgKind.BUDGET_UNIT, "测试市机关事务管理局")
    water = [dict(ROWS[0], name=i["name"]) for i in generate_library() if i["sector"] == "水利"][:3]
    make_goal(make_project(office, year=2025), rows=water)
    assert queries.project_sector(make_project(office)) == "水利"
    assert queries.project_sector(make_project(make_org(OrgKind.BUDGET_UNIT, "测试市档案馆"))) is None


def test_library_search_by_level_and_words_without_javascript(client, db, world, login):
    seed_library()
    project, goal = _draft(db, world)
    login(world.unit)
    # a level: no name says 时效, every 时效指标 row matches by its second level
    html = client.get(f"/goals/{goal.id}/library?lq=时效").get_data(as_text=True)
    assert "<html" in html and 'id="indicator-table"' in html  # the whole goal page, no JavaScript needed
    timely = [i for i in generate_library() if i["level2"] == Level2.TIMELINESS]
    assert f"共 {len(timely)} 条" in html
    # every word must match: a sector and a word of the name
    shown = _results(client.get(f"/goals/{goal.id}/library?lq=水利 满意度", headers=HX).get_data(as_text=True))
    assert shown and all(sector == "水利" and "满意度" in name for sector, name in shown)
    assert len(shown) == len([i for i in generate_library() if i["sector"] == "水利" and "满意度" in i["name"]])


def test_a_library_result_joins_the_table_and_the_search_stays(client, db, world, login):
    seed_library()
    project, goal = _draft(db, world)
    login(world.unit)
    html = client.get(f"/goals/{goal.id}/library?lq=教师培训", headers=HX).get_data(as_text=True)
    library_id = re.search(r'name="library_id" value="(\d+)"', html).group(1)
    response = client.post(f"/goals/{goal.id}/rows?lq=教师培训", headers=HX,
                           data=with_version(db, goal, library_id=library_id, weight="15"))
    assert response.status_code == 200
    rows = _rows(goal.id)
    assert len(rows) == 1 and rows[0][2].startswith("教师培训") and rows[0][7] == 15
    assert 'value="教师培训"' in response.get_data(as_text=True)  # the table comes back with the search kept


# ---- copy last year's table ---------------------------------------------------------------------

def _last_year(db, world, *, code="P2025COPY", state=GoalState.APPROVED, **fields):
    before = make_project(world.department, year=2025, code=code, name="教师培训项目")
    old = make_goal(before, state=state)
    project = make_project(world.department, year=2026, code=fields.pop("new_code", code), name="教师培训项目")
    goal = make_goal(project, rows=[])
    db.session.commit()
    return old, project, goal


def test_copy_last_year_copies_exactly_its_indicators_once(client, db, world, login):
    old, project, goal = _last_year(db, world)
    expected = _rows(old.id)
    login(world.unit)
    page = client.get(f"/projects/{project.id}/goal").get_data(as_text=True)
    assert "复制上年指标" in page and "2025 年“教师培训项目”第 1 版" in page
    data = with_version(db, goal, form_key="copy-once")
    response = client.post(f"/goals/{goal.id}/copy-last-year", data=data, headers=HX)
    assert response.status_code == 200
    assert f"已复制上年指标 {len(expected)} 项" in response.get_data(as_text=True)
    assert _rows(goal.id) == expected
    assert [i.position for i in db.session.get(PerformanceGoal, goal.id).indicators] == list(range(len(expected)))
    assert _rows(old.id) == expected  # last year's table untouched
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "goal.copy_last_year")).one()
    assert entry.record_id == str(goal.id) and "2025" in entry.comment and "培训人次" in str(entry.after_dict)

    # the same form again (double click, back button): nothing written twice
    again = client.post(f"/goals/{goal.id}/copy-last-year", data=data, headers=HX)
    assert again.status_code == 200
    assert _rows(goal.id) == expected
    # a fresh form: every row is in the table already, so nothing is copied
    fresh = client.post(f"/goals/{goal.id}/copy-last-year", data=with_version(db, goal), headers=HX)
    assert fresh.status_code == 422 and "已全部在指标表中" in fresh.get_data(as_text=True)
    assert _rows(goal.id) == expected
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "goal.copy_last_year")) == 1


def test_copy_last_year_is_refused_on_a_submitted_goal(client, db, world, login):
    old, project, goal = _last_year(db, world)
    goal.state = GoalState.SUBMITTED
    db.session.commit()
    login(world.unit)
    assert "复制上年指标" not in client.get(f"/projects/{project.id}/goal").get_data(as_text=True)
    response = client.post(f"/goals/{goal.id}/copy-last-year", data=with_version(db, goal), headers=HX)
    assert response.status_code == 422 and "不能修改" in response.get_data(as_text=True)
    assert _rows(goal.id) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "goal.copy_last_year")) == 0


def test_copy_last_year_finds_a_renumbered_project_and_refuses_without_one(client, db, world, login):
    old, project, goal = _last_year(db, world, new_code="P2026RENUM")  # same unit and name, new code
    login(world.unit)
    client.post(f"/goals/{goal.id}/copy-last-year", data=with_version(db, goal), headers=HX)
    assert _rows(goal.id) == _rows(old.id)

    lonely = make_project(world.department, name="新设项目")
    lonely_goal = make_goal(lonely, rows=[])
    db.session.commit()
    assert "复制上年指标" not in client.get(f"/projects/{lonely.id}/goal").get_data(as_text=True)
    response = client.post(f"/goals/{lonely_goal.id}/copy-last-year", data=with_version(db, lonely_goal), headers=HX)
    assert response.status_code == 422 and "上年没有可复制的绩效指标" in response.get_data(as_text=True)
    assert _rows(lonely_goal.id) == []
