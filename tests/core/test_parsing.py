"""The edge parsers (portal/core/parsing.py): bounds, junk ignored in filters, clear refusals
for submitted values, control characters removed from every query and form value."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from werkzeug.exceptions import BadRequest

from portal.core import parsing
from portal.core.converters import DB_INTEGER_MAX


@pytest.mark.parametrize("raw, expected", [
    ("1", 1), (" 42 ", 42), (str(DB_INTEGER_MAX), DB_INTEGER_MAX), (str(DB_INTEGER_MAX + 1), None),
    (str(10**26), None), ("9" * 400, None), ("-1", None), ("0", None), ("abc", None), ("1e5", None),
    ("1.5", None), ("１２", None), ("١٢", None), ("", None), (None, None), (True, None), (7, 7),
])
def test_ids_fit_the_database_integer(raw, expected):
    assert parsing.to_id(raw) == expected


def test_id_lists_drop_junk_and_duplicates():
    assert parsing.to_ids(["3", "x", "3", str(10**26), "-2", "5"]) == [3, 5]
    assert len(parsing.to_ids([str(i) for i in range(1, 5000)])) == 1000


@pytest.mark.parametrize("raw, expected", [("1", 1), ("12", 12), ("13", None), ("0", None), ("-1", None),
                                           ("99", None), ("x", None)])
def test_months(raw, expected):
    assert parsing.to_month(raw) == expected


@pytest.mark.parametrize("raw, expected", [("2026", 2026), ("2000", 2000), ("2100", 2100), ("1999", None),
                                           ("-1", None), (str(10**26), None), ("二〇二六", None)])
def test_years_in_the_window(raw, expected):
    assert parsing.to_year(raw) == expected


def test_query_filters_ignore_junk(app):
    url = f"/?page={10**26}&year=-1&month=13&project={10**26}&per_page=100000&q=a%00b%07c&kind=nope"
    with app.test_request_context(url):
        assert parsing.arg_page() == 1
        assert parsing.arg_year() is None and parsing.arg_year(default=2026) == 2026
        assert parsing.arg_month(default=7) == 7
        assert parsing.arg_id("project") is None
        assert parsing.arg_per_page() == 20
        assert parsing.arg_text("q") == "abc"
        assert parsing.arg_choice("kind", ("a", "b"), "a") == "a"
    with app.test_request_context("/?page=3&per_page=500"):
        assert parsing.arg_page() == 3 and parsing.arg_per_page() == 20


def test_required_arguments_are_a_clear_400(app):
    for url in ("/?month=13", "/?month=-1", "/?month=99", "/?month=x"):
        with app.test_request_context(url), pytest.raises(BadRequest) as caught:
            parsing.require_month()
        assert "月份" in caught.value.description
    with app.test_request_context("/?year=-1"), pytest.raises(BadRequest):
        parsing.require_year()
    with app.test_request_context("/"):
        assert parsing.require_month(default=7) == 7


@pytest.mark.parametrize("raw, expected", [
    ("1,234.50", Decimal("1234.50")), ("100元", Decimal("100")), ("", None), ("  ", None), (5, Decimal(5)),
])
def test_amounts(raw, expected):
    assert parsing.parse_amount(raw) == expected


@pytest.mark.parametrize("raw", ["1e999", "NaN", "inf", "abc", "1.001", str(10**20), "-" + "9" * 30, "9" * 50])
def test_bad_amounts_are_refused_with_a_message(app, raw):
    with app.test_request_context("/"), pytest.raises(parsing.InvalidValue) as caught:
        parsing.parse_amount(raw, label="金额", field="amount")
    assert caught.value.field == "amount" and "金额" in caught.value.message


def test_dates(app):
    assert parsing.to_date("2026-03-31") == date(2026, 3, 31)
    for raw in ("2026-02-30", "0001-01-01", "9999-12-31", "2026/03/31", "x", "", None):
        assert parsing.to_date(raw) is None
    with app.test_request_context("/"), pytest.raises(parsing.InvalidValue):
        parsing.parse_date("2026-13-01", label="截止日期")


def test_enum_values():
    from portal.performance.models import ProjectKind

    member = next(iter(ProjectKind))
    assert parsing.to_choice(member.value, ProjectKind) is member
    assert parsing.to_choice("no-such-kind", ProjectKind) is None


def test_control_characters_never_reach_a_view(app):
    with app.test_request_context("/?q=a%00b%1bc%7f%C2%85d&k%00ey=1", method="POST",
                                  data={"text": "line1\r\nline2\tx\x00\x08y\x0b"}):
        from flask import request

        assert request.args["q"] == "abcd"
        assert "key" in request.args
        assert request.form["text"] == "line1\r\nline2\txy"


def test_every_form_text_field_has_a_length_limit_and_the_filter(app):
    from flask_wtf import FlaskForm
    from wtforms import StringField, TextAreaField
    from wtforms.validators import Length

    from portal.core.forms import TEXT_LIMITS

    class Sample(FlaskForm):
        name = StringField("名称")
        body = TextAreaField("正文")
        own = TextAreaField("自定义", validators=[Length(max=50)])

    with app.test_request_context("/", method="POST", data={"name": "x" * 201, "body": "y" * 20_001,
                                                            "own": "z" * 51}):
        form = Sample(meta={"csrf": False})
        assert not form.validate()
        assert set(form.errors) == {"name", "body", "own"}
        assert [v.max for v in form.body.validators if isinstance(v, Length)] == [TEXT_LIMITS["long"]]
    with app.test_request_context("/"):
        form = Sample(meta={"csrf": False}, data={"name": "a\x00b"})
        form.process(data={"name": "a\x00b"})
        assert form.name.data == "ab"


def test_the_400_page_shows_a_parsers_message_on_both_faces(client, db, world, login, tmp_root, app):
    """A request argument out of bounds answers 400 with what was wrong, not a generic text; a
    failed CSRF check and werkzeug's own 400 keep the generic page."""
    from flask_wtf.csrf import CSRFError
    from werkzeug.exceptions import BadRequest as Plain

    import public_site
    from portal.core import error_pages
    from tests.conftest import app_config
    from tests.factories import make_project

    project = make_project(world.department)
    db.session.commit()
    login(world.unit)
    response = client.get(f"/projects/{project.id}/monitoring?month=13")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "月份应为 1 到 12 之间的整数。" in page
    assert "页面停留太久" not in page  # not the expired-form text

    public = public_site.create_app(app_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_root,
                                               SEARCH_INDEX_DIR=app.config["SEARCH_INDEX_DIR"]))
    response = public.test_client().get("/goals?format=docx")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "不支持的下载格式" in page

    with app.test_request_context("/"):
        assert error_pages.clear_description(BadRequest(description="年度应为 2000 到 2100 之间的整数。")) \
            == "年度应为 2000 到 2100 之间的整数。"
        assert error_pages.clear_description(Plain()) is None
        assert error_pages.clear_description(CSRFError("The CSRF token is missing.")) is None
        _body, code = app.handle_user_exception(CSRFError("The CSRF token is missing."))
        assert code == 400 and "页面停留太久" in _body and "CSRF token" not in _body
