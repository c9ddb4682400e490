"""Names a user reads: the 整改率 export is named by its grouping in Chinese, and a monitoring
period reads as months in English ("January–July"), never "January–month 7"."""
from urllib.parse import unquote

import pytest

from portal.core.formatting import month_range


def test_the_rates_export_is_named_by_its_grouping(client, world, login):
    login(world.finance)
    response = client.get("/ledger/stats.xlsx?by=department")
    assert response.status_code == 200
    disposition = unquote(response.headers["Content-Disposition"])
    assert "整改率统计_主管部门.xlsx" in disposition and "department" not in disposition


@pytest.mark.parametrize(("lang", "month", "expected"), [
    ("zh", 7, "1—7月"), ("en", 7, "January–July"), ("en", 12, "January–December"), ("en", 1, "January")])
def test_a_monitoring_period_in_words(app, lang, month, expected):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale(lang):
        assert month_range(month) == expected


def test_the_monitoring_page_offers_month_names_in_english(client, world, login):
    from tests.factories import make_project

    project = make_project(world.department, name="校舍维修改造项目")
    from portal.extensions import db

    db.session.commit()
    login(world.finance)
    client.get("/lang/en?next=/")
    page = client.get(f"/projects/{project.id}/monitoring").get_data(as_text=True)
    assert "January–July" in page and "month 7" not in page
