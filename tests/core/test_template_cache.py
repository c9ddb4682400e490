"""Templates are compiled once per process, not once per app (portal/core/template_cache.py),
and never served to an environment that compiles differently or after their source changed."""
from __future__ import annotations

from flask import Flask
from jinja2 import DictLoader, Environment

from portal.core import template_cache


def _app(loader: DictLoader, **options) -> Flask:
    app = Flask(__name__)
    app.jinja_options = {**app.jinja_options, **options}
    app.jinja_loader = loader  # the templates of the test, not the portal's
    template_cache.share_compiled_templates(app)
    return app


def _compiles(env: Environment, calls: list) -> None:
    compile_ = env._compile
    env._compile = lambda source, filename: calls.append(filename) or compile_(source, filename)


def test_a_second_app_compiles_nothing_again_and_renders_the_same():
    loader = DictLoader({"page.html": "{% for x in xs %}<b>{{ x }}</b>{% endfor %}"})
    first, second = _app(loader), _app(loader)
    calls: list = []
    for app in (first, second):
        _compiles(app.jinja_env, calls)
    with first.app_context():
        assert first.jinja_env.get_template("page.html").render(xs=[1, "<i>"]) == "<b>1</b><b>&lt;i&gt;</b>"
    with second.app_context():
        assert second.jinja_env.get_template("page.html").render(xs=[2]) == "<b>2</b>"
    assert len(calls) == 1  # compiled by the first app only


def test_an_environment_that_compiles_differently_compiles_its_own():
    loader = DictLoader({"trim.html": "{% if true %}\n  kept\n{% endif %}\n"})
    plain, trimming = _app(loader), _app(loader, trim_blocks=True, lstrip_blocks=True)
    with plain.app_context():
        assert plain.jinja_env.get_template("trim.html").render() == "\n  kept\n"
    with trimming.app_context():
        assert trimming.jinja_env.get_template("trim.html").render() == "  kept\n"


def test_a_changed_source_is_compiled_again():
    templates = {"note.html": "old {{ x }}"}
    loader = DictLoader(templates)
    with _app(loader).app_context() as ctx:
        assert ctx.app.jinja_env.get_template("note.html").render(x=1) == "old 1"
    templates["note.html"] = "new {{ x }}"
    with _app(loader).app_context() as ctx:
        assert ctx.app.jinja_env.get_template("note.html").render(x=1) == "new 1"
