"""Every list the same: sortable columns, filters kept in the URL, a count, and an export of
exactly what is shown — one list of each module. What a user loses when this is wrong: a
spreadsheet that does not match the screen they filtered, or a sort that forgets the filter."""
from __future__ import annotations

from datetime import date

import pytest

from portal.conference.models import DocumentKind
from portal.extensions import db
from portal.ledger.models import ProblemState
from tests.conference.conftest import make_action, make_document, make_meeting
from tests.factories import make_evaluation, make_project
from tests.inquiries.conftest import load_holidays, make_letter, setup_codes
from tests.ledger.conftest import make_problem
from tests.lists.helpers import assert_export_is_what_is_shown, column, table


def _names(client, url, key):
    return column(*table(client.get(url).get_data(as_text=True)), key)


def test_letters_sort_filter_export(world, client, login):
    load_holidays([2025, 2026])
    setup_codes(world)
    make_letter(world, "sent", title="乙：关于核实专项资金的函")
    make_letter(world, "sent", title="甲：关于提供审计报告的函")
    make_letter(world, "draft", title="丙：草稿函")
    login(world.finance)
    assert _names(client, "/inquiries/?sort=title", "标题") == ["丙：草稿函", "乙：关于核实专项资金的函", "甲：关于提供审计报告的函"]
    assert _names(client, "/inquiries/?sort=-title", "标题")[0] == "甲：关于提供审计报告的函"
    page = client.get("/inquiries/?state=sent&sort=-title").get_data(as_text=True)
    assert "丙：草稿函" not in page
    assert "state=sent" in page.split('data-listing')[1].split("</thead>")[0]  # sorting keeps the filter
    assert_export_is_what_is_shown(client, "/inquiries/?state=sent&sort=-title", "标题", text_columns=("发文字号",))


def test_ledger_sort_filter_export_and_bulk_box(world, client, login):
    make_problem(world, amount="300000", category="资金管理", description="=HYPERLINK(\"x\")资金滞留")
    make_problem(world, amount="100000", category="资产管理")
    make_problem(world, amount="200000", category="资金管理", state=ProblemState.IN_PROGRESS)
    login(world.finance)
    headers, rows = assert_export_is_what_is_shown(client, "/ledger/?category=资金管理&sort=-amount", "台账编号",
                                                   text_columns=("问题类别", "责任单位"))
    assert column(headers, rows, "问题金额") == ["30.00万元", "20.00万元"]
    from tests.lists.helpers import xlsx

    exported_headers, exported = xlsx(client.get("/ledger/?category=资金管理&sort=-amount&export=xlsx").data)
    assert column(exported_headers, exported, "问题金额") == [300000, 200000]  # numbers, not text
    assert column(exported_headers, exported, "问题描述")[0].startswith("'=")  # never a formula
    assert 'name="ids"' in client.get("/ledger/").get_data(as_text=True)  # bulk actions kept


def test_projects_sort_filter_export(world, client, login):
    make_project(world.department, name="乙项目", budget="500000")
    make_project(world.department, name="甲项目", budget="2000000")
    make_project(world.other_department, name="丙项目", budget="900000")
    db.session.commit()
    login(world.finance)
    assert _names(client, "/projects?sort=-budget", "项目名称") == ["甲项目", "丙项目", "乙项目"]
    url = f"/projects?department={world.department.id}&sort=budget"
    assert _names(client, url, "项目名称") == ["乙项目", "甲项目"]
    assert_export_is_what_is_shown(client, url, "项目名称", text_columns=("项目编码", "责任单位"))


def test_evaluations_and_co_reviews_sort_filter_export(world, client, login):
    from portal.reviews import operations as review_ops

    for name, year in (("乙评价项目", 2025), ("甲评价项目", 2026)):
        evaluation = make_evaluation(make_project(world.department, name=name, year=year), agency=world.agency_org)
        review_ops.commission_report(evaluation, actor=world.finance)
    make_evaluation(make_project(world.department, name="丙未抽签项目"))
    db.session.commit()
    login(world.finance)
    assert _names(client, "/reviews/evaluations?sort=project", "项目") == ["丙未抽签项目", "乙评价项目", "甲评价项目"]
    assert _names(client, "/reviews/evaluations?agency=none", "项目") == ["丙未抽签项目"]
    assert_export_is_what_is_shown(client, "/reviews/evaluations?agency=some&sort=-year", "项目",
                                   text_columns=("第三方机构", "评价报告"))
    assert _names(client, "/reviews/?sort=year", "年度") == ["2025", "2026"]
    assert_export_is_what_is_shown(client, "/reviews/?year=2026", "评价报告", text_columns=("第三方机构",))


def test_conference_actions_and_library_sort_filter_export(world, client, login):
    meeting = make_meeting(world)
    make_action(world, meeting, text="乙：落实资金清理", due_date=date(2026, 5, 1))
    make_action(world, meeting, text="甲：建立共享机制", due_date=date(2026, 4, 1), owner_org=world.audit_bureau)
    make_document(world, title="乙审计报告", text="资金闲置", year=2025)
    make_document(world, title="甲评价报告", text="资金闲置问题", kind=DocumentKind.EVALUATION_RESULT)
    db.session.commit()
    login(world.conference)
    assert _names(client, "/conference/actions?sort=due", "事项") == ["甲：建立共享机制", "乙：落实资金清理"]
    url = f"/conference/actions?owner={world.finance_bureau.id}&sort=-due"
    assert _names(client, url, "事项") == ["乙：落实资金清理"]
    assert_export_is_what_is_shown(client, url, "事项", text_columns=("牵头单位", "会议"))
    client.post("/logout")
    login(world.audit)
    assert _names(client, "/conference/library?sort=year", "标题") == ["乙审计报告", "甲评价报告"]
    assert_export_is_what_is_shown(client, "/conference/library?q=资金闲置&sort=-year", "标题",
                                   text_columns=("共享单位", "检索摘录"))


@pytest.mark.commits  # publishing starts the search index's rebuild thread (its own connection)
def test_publication_log_sort_filter_export(world, client, login):
    from portal.publishing import operations
    from tests.publishing import corpus as corpus_module

    corpus_module.build(world)
    operations.publish(2026, None, ["goals", "finance_evaluation"], actor=world.finance)
    db.session.commit()
    login(world.finance)
    names = _names(client, "/publishing/log?sort=project", "项目")
    assert names == sorted(names) and len(names) >= 2
    url = "/publishing/log?kind=goals&sort=-project"
    shown = _names(client, url, "公开内容")
    assert shown and set(shown) == {"绩效目标"}
    assert_export_is_what_is_shown(client, url, "项目", text_columns=("操作人", "操作"))


@pytest.mark.commits  # starts the search index's rebuild thread (its own connection)
def test_evaluations_bulk_commission_names_the_refused(world, client, login):
    from portal.reviews.models import Report

    ready = [make_evaluation(make_project(world.department, name=f"待建报告项目{i}"), agency=world.agency_org)
             for i in range(2)]
    undrawn = make_evaluation(make_project(world.department, name="未抽签项目"))
    db.session.commit()
    login(world.finance)
    page = client.get("/reviews/evaluations").get_data(as_text=True)
    assert 'name="ids"' in page and "建立报告" in page
    page = client.post("/reviews/evaluations/bulk", data={"action": "commission", "ids": [ready[0].id, undrawn.id]},
                       follow_redirects=True).get_data(as_text=True)
    assert "已办理 1 项。" in page and "未抽签项目 未办理：该评价尚未确定第三方机构，请先抽签。" in page
    assert {r.evaluation_id for r in db.session.query(Report)} == {ready[0].id}  # the refused one has none
    page = client.post("/reviews/evaluations/bulk", data={"action": "commission", "ids": [e.id for e in ready]},
                       follow_redirects=True).get_data(as_text=True)
    assert "已办理 1 项。" in page and "待建报告项目0 未办理：该评价已有评价报告。" in page
    assert {r.evaluation_id for r in db.session.query(Report)} == {e.id for e in ready}
    client.post("/logout")
    login(world.audit)  # only finance commissions reports: refused, nothing written
    other = make_evaluation(make_project(world.department, name="审计局不能建报告"), agency=world.agency_org)
    db.session.commit()
    assert client.post("/reviews/evaluations/bulk", data={"ids": [other.id]}).status_code == 403
    assert db.session.query(Report).filter_by(evaluation_id=other.id).count() == 0
