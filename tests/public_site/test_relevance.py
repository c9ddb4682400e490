"""The relevance set that grows: the fixture corpus's queries plus one group per case of issue 19
(operators, traditional characters, full-width, single characters, typos, abbreviations,
phrases, stop words, long queries, ranking), run over the corpus among generated noise (the
bench generator's projects, goals, evaluations, problems and reports with sentences from the
source documents), so that a change that breaks one case shows up.

Add a row for every query a citizen reports: (query, keys that must be found, keys that must not).
"""
import pytest
import sqlalchemy as sa

from bench.generate import generate
from bench.scales import SCALES
from portal.performance.models import Operator
from portal.publishing import operations, search
from tests import factories
from tests.public_site.test_search import ALL, RELEVANCE
from tests.publishing import corpus as corpus_module
from tests.publishing.corpus import add_evaluation, add_goal

pytestmark = pytest.mark.commits  # the search index is written and rebuilt through connections of its own

# noise: about 200 generated projects over two years, beside the corpus's 2026 projects
NOISE = SCALES["tiny"].__class__(**{**vars(SCALES["tiny"]), "name": "relevance", "projects": 100, "reports": 8})
GE = Operator.GE


def _extra(world, corpus) -> dict:
    """Projects for the cases the fixture corpus lacks: exact names among longer ones, goals that
    name a word that other projects only list in their indicator table, abbreviations."""
    p = corpus["projects"]
    unit = corpus["housing_unit"]

    def project(key, name, goal, indicators, conclusion="", owner=None):
        p[key] = factories.make_project(owner or world.department, name=name, budget="1000000")
        add_goal(p[key], goal, indicators)
        if conclusion:
            add_evaluation(p[key], 85, conclusion=conclusion)
        return p[key]

    project("skills", "职业技能培训", "开展职业技能培训，提升劳动者就业能力。", [("培训人次", GE, "800", "人次", "")])
    for i, name in enumerate(["农民工职业技能培训补贴项目", "职业技能培训基地建设工程", "退役军人职业技能培训专项",
                              "城乡劳动者职业技能培训提升行动计划"]):
        project(f"skills{i}", name, f"{name}：组织职业技能培训，职业技能培训合格率达到90%。",
                [("职业技能培训人次", GE, "500", "人次", ""), ("职业技能培训合格率", GE, "90", "%", "")])
    project("satisfied", "群众办事便利化改革", "以提高群众满意度为目标，压缩办事时限。", [("办结时限", Operator.LE, "5", "天", "")])
    project("satisfied2", "政务服务热线整合", "热线接通率达到95%，提升市民满意度。", [("接通率", GE, "95", "%", "")])
    for i in range(5):
        project(f"table{i}", f"专项业务工作经费{i}", "保障部门正常履职。",
                [("服务对象满意度", GE, "90", "%", ""), ("社会公众满意度", GE, "85", "%", ""),
                 ("满意度调查覆盖率", GE, "80", "%", "")])
    project("metro", "城市轨道交通建设补助", "支持轨道交通一号线建设。", [("完成投资", GE, "20", "亿元", "")],
            owner=unit)
    project("rural", "巩固拓展脱贫攻坚成果同乡村振兴有效衔接项目", "巩固拓展脱贫攻坚成果同乡村振兴有效衔接，发展特色产业。",
            [("帮扶户数", GE, "300", "户", "")])
    project("official", "机关运行经费", "严控因公出国（境）费、公务接待费和公务用车购置及运行费。",
            [("公务接待费压减率", GE, "5", "%", "")])
    project("elderly", "社区养老服务中心建设", "新建社区养老服务中心10个。", [("新建中心数量", GE, "10", "个", "")])
    project("county_hospital", "县人民医院急诊楼建设", "建成县人民医院急诊楼，提升急救能力。",
            [("建筑面积", GE, "8000", "平方米", "")], owner=world.other_department)
    return p


def build(db, app):
    generate(app.config["SQLALCHEMY_DATABASE_URI"], NOISE, seed=19, migrate=False, quiet=True)
    db.session.execute(sa.text("UPDATE organisations SET code = 'G' || code"))  # beside the factories' codes
    db.session.commit()
    world = factories.make_world()
    corpus = corpus_module.build(world)
    _extra(world, corpus)
    operations.publish(2026, None, ALL, actor=world.finance)
    db.session.commit()
    search.reindex()
    return world, corpus


def found(query, **kwargs):
    return search.search(query, per_page=500, **kwargs)


def refs(corpus, keys):
    return {corpus["projects"][k].id for k in keys}


# (query, must be found, must not be found)
CASES = RELEVANCE + [
    # operators (the issue's own queries first)
    ("医院 OR 养老", {"county_hospital", "elderly"}, {"shack"}),
    ("NOT 医院", {"shack", "elderly"}, {"county_hospital"}),
    ("棚户区 AND 债券", {"shack"}, {"oldtown", "vaccine"}),
    ("棚户区 债券", {"shack"}, {"oldtown"}),
    ("医疗 OR 养老", {"hospital", "elderly"}, {"shack"}),
    ("医疗 或 养老", {"hospital", "elderly"}, {"shack"}),
    ("医疗 | 养老", {"hospital", "elderly"}, {"shack"}),
    ("NOT 医疗", {"shack", "elderly", "vaccine"}, {"hospital"}),
    ("+债券 -棚户区", set(), {"shack"}),
    ("改造 -棚户区", {"canteen"}, {"shack", "oldtown"}),  # oldtown: its unit is the 棚户区改造服务中心
    ("改造 -\"棚户区改造\"", {"canteen"}, {"shack", "oldtown"}),
    ('"加装电梯60部"', {"oldtown"}, {"shack"}),
    ("“加装电梯60部”", {"oldtown"}, {"shack"}),
    ("年度:2026 棚户区", {"shack"}, set()),
    ('棚户区 "改造', {"shack"}, set()),  # a lone quote: plain words
    ("OR 棚户区 OR", {"shack"}, set()),
    # traditional characters and full width
    ("績效", {"shack", "teachers"}, set()),
    ("醫院", {"county_hospital"}, {"shack"}),
    ("績效評價", {"shack"}, set()),
    ("棚戶區改造", {"shack"}, {"vaccine"}),
    ("醫療衛生機構", {"hospital"}, {"shack"}),
    ("疫苗接種率", {"vaccine"}, set()),
    ("ＤＲ設備", {"hospital"}, set()),
    ("３２００万元", {"shack"}, set()),
    ("滿意度", {"teachers", "shack", "satisfied"}, set()),
    # single characters
    ("水", {"sewage"}, set()),
    ("债", {"shack"}, set()),
    ("医", {"hospital"}, set()),
    ("梯", {"oldtown"}, {"vaccine"}),
    # typos: the closest indexed words are searched, and said so
    ("污水处里", {"sewage"}, {"shack"}),
    ("棚户区改照", {"shack"}, {"vaccine"}),
    ("轨道交同", {"metro"}, {"shack"}),
    # abbreviations and synonyms (synonyms.txt)
    ("棚改", {"shack"}, {"vaccine", "teachers"}),
    ("专项债", {"shack"}, {"teachers"}),
    ("乡村振兴衔接", {"rural"}, {"shack"}),
    ("三公经费", {"official"}, {"shack"}),
    ("义教", {"teachers"}, {"shack"}),
]

TYPOS = {"污水处里": "污水处理", "棚户区改照": "棚户区改造", "轨道交同": "轨道交通"}
NEEDS_A_WORD = ["的", "%", "，。！", "的 和 与", "“”", "  -  "]


def test_the_relevance_set_over_noise(db, app, index_dir):
    _world, corpus = build(db, app)
    assert search.doc_count() >= 100
    assert len(CASES) >= 70
    failures = []
    for query, must, must_not in CASES:
        result = found(query)
        hits = {h.ref for h in result.hits}
        if not refs(corpus, must) <= hits or refs(corpus, must_not) & hits:
            failures.append((query, sorted(refs(corpus, must) - hits), sorted(refs(corpus, must_not) & hits)))
    assert not failures, failures


def test_operators_typos_and_words_are_explained(db, app, index_dir):
    _world, corpus = build(db, app)
    everything = found("改造").total
    assert found("医疗 OR 养老").total >= found("医疗").total + 1
    assert found("NOT 医疗").total == search.doc_count() - found("医疗").total
    assert found("+债券 -棚户区").total == found("债券").total - found("债券 棚户区").total
    assert found('"电梯60部加装"').total == 0  # every word is there, not the text
    assert found("電梯").total == found("电梯").total and found("ＤＲ").total == found("DR").total
    assert found("醫院").total == found("医院").total > 0 and found("績效評價").total == found("绩效评价").total
    assert found("医院 OR 养老").total > max(found("医院").total, found("养老").total)
    for typo, right in TYPOS.items():
        result = found(typo)
        assert result.corrected and result.suggestion == right, typo
    no_hits = found("核电站")
    assert no_hits.total == 0 and not no_hits.corrected
    for query in NEEDS_A_WORD:
        result = found(query)
        assert result.needs_word and result.total == 0, query
    long_query = " ".join(["棚户区", "改造"] + [f"词{i}词" for i in range(20)])
    result = found(long_query)
    assert result.truncated and result.kept.startswith("棚户区 改造")
    assert 0 < everything


def test_ranking_title_and_exact_names_first(db, app, index_dir):
    _world, corpus = build(db, app)
    p = corpus["projects"]
    skills = found("职业技能培训")
    assert skills.hits[0].ref == p["skills"].id  # the exact name, above longer titles that repeat it
    assert {h.ref for h in skills.hits[1:5]} == refs(corpus, [f"skills{i}" for i in range(4)])
    # 满意度: records that say it in their goal or conclusion above tables that merely list it
    satisfied = found("满意度")
    order = [h.ref for h in satisfied.hits]
    in_text = [i for i, h in enumerate(satisfied.hits) if "满意度" in h.fields.get("body", "")]
    only_cells = [i for i, h in enumerate(satisfied.hits) if "满意度" not in h.fields.get("body", "")
                  and "满意度" not in h.fields["title"]]
    assert in_text and only_cells and max(in_text) < min(only_cells)
    assert order.index(p["satisfied"].id) < order.index(p["table0"].id)
    assert order.index(p["satisfied2"].id) < order.index(p["table4"].id)
    # a title match above a mention in the text
    elevators = [h.ref for h in found("电梯").hits]
    assert elevators[0] == p["oldtown"].id


def test_the_search_page_explains_the_language(db, app, public_app, index_dir):
    build(db, app)
    client = public_app.test_client()
    page = client.get("/search?q=%E6%A3%9A%E6%94%B9").get_data(as_text=True)  # 棚改
    assert 'id="search-syntax"' in page and "城东片区" in page
    page = client.get("/search?q=的").get_data(as_text=True)
    assert 'id="search-needs-word"' in page and "请输入要查找的词语" in page and "找到" not in page
    page = client.get("/search?q=污水处里").get_data(as_text=True)
    assert 'id="search-corrected"' in page and "污水处理" in page
    page = client.get("/search?q=" + "棚户区 " * 30).get_data(as_text=True)
    assert 'id="search-truncated"' in page
    data = client.get("/api/v1/public/search?q=轨道交同").get_json()
    assert data["corrected"] and data["suggestion"] == "轨道交通" and data["total"] >= 1
    assert client.get("/api/v1/public/search?q=%25").get_json()["needs_word"] is True
