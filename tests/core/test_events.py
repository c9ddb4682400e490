"""Every audit event the code writes reads as words (操作记录 / 我的最近操作 / 操作日志), never as
its code: the test walks the source for every event name and asks the one registry."""
import ast
import re
from pathlib import Path

import pytest

from portal.core import events

ROOT = Path(__file__).resolve().parents[2] / "portal"
EVENT = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")
# Functions that write an audit entry (or hand their `action` to one that does).
WRITERS = {"record_change", "append", "append_many", "_changed", "_created", "_audited", "_password_entry",
           "replace_goal_table", "_publish_row", "_log"}


def _strings(node):
    """String constants an argument can evaluate to (a literal, either branch of `a if c else b`)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _strings(node.body)
        yield from _strings(node.orelse)


def events_in_code() -> set[str]:
    found = set()
    for path in ROOT.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in WRITERS:
                    args = list(node.args) + [k.value for k in node.keywords if k.arg == "action"]
                    found |= {s for a in args for s in _strings(a) if EVENT.match(s)}
            # `action = "x.y"` (or `… if … else …`) handed to a writer below
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "action" for t in node.targets):
                found |= {s for s in _strings(node.value) if EVENT.match(s)}
    return found


def dynamic_events() -> set[str]:
    """Names built at run time: `publishing.<action>`, `settings.<key>`, `problem.extension_<decision>`,
    `goal.<decision>` (the goal review's own transitions) and every state machine's transitions."""
    from portal.performance import settings
    from portal.publishing.models import PublicationAction

    names = {f"publishing.{a.value}" for a in PublicationAction}
    names |= {f"settings.{k}" for k in (settings.THRESHOLDS, settings.FRAMEWORK, settings.RESULT_RULES)}
    names |= {"problem.extension_approve", "problem.extension_refuse"}
    return names | set(events.machine_labels())


def test_the_walk_finds_the_events_of_every_module(app):
    found = events_in_code()
    assert len(found) > 90
    for sample in ("problem.list", "goal.indicator_add", "review_report.create", "conference.action.progress",
                   "inquiry.create", "user.login", "user.deactivate", "evaluation.score"):
        assert sample in found


def test_every_event_the_code_writes_has_a_label(app):
    with app.test_request_context():
        missing = sorted(name for name in events_in_code() | dynamic_events()
                         if name not in events.all_labels())
    assert missing == []


def test_the_state_machines_label_their_own_transitions(app):
    labels = events.machine_labels()
    assert labels["inquiry.approve"] == "签发"
    assert labels["review_report.open_round"] == "开启评审"
    assert labels["problem.close"] == "销号"


def test_every_label_reads_in_english(app):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):
        untranslated = [name for name, text in events.all_labels().items()
                        if events.label(name) == text]
    assert untranslated == []


@pytest.mark.parametrize("record_type", sorted(events.KINDS))
def test_every_kind_names_a_table(app, record_type):
    assert events._model_of(record_type) is not None


def test_my_recent_actions_read_as_words_with_a_link_to_the_record(client, world, login, db):
    from portal.core.audit import record_change
    from tests.factories import make_project

    project = make_project(world.department, name="校舍维修改造项目")
    record_change(world.finance, "goal.indicator_add", project)
    record_change(world.finance, "problem.list", project)
    db.session.commit()
    login(world.finance)
    page = client.get("/").get_data(as_text=True)
    section = page[page.index("我的最近操作"):]
    assert "新增指标" in section and "挂账" in section
    assert f'<a href="/projects/{project.id}">项目“校舍维修改造项目”</a>' in section
    assert "goal.indicator_add" not in section and "problem.list" not in section and "projects #" not in section


def test_a_records_history_reads_as_words_in_english_too(client, world, login, db):
    from portal.core.audit import record_change
    from tests.factories import make_project

    project = make_project(world.department, name="校舍维修改造项目")
    record_change(world.finance, "project.create", project)
    db.session.commit()
    login(world.finance)
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "新建项目" in page and "project.create" not in page
    client.get("/lang/en?next=/")
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    history = page[page.index('class="history"'):]
    assert "New project" in history or "Project created" in history  # the catalogues merge: one wording per msgid
    assert "project.create" not in history and "新建项目" not in history
