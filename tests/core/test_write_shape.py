"""The write path's shape, kept true by reading the code (no database needed):

- no module's views.py (or other *_views.py) or api.py commits, rolls back, flushes or adds to the session, or
  assigns to a loaded record's attributes: operations are the only writers;
- every POST (and PATCH/PUT/DELETE) route calls the core request shape (`perform` or `submit`
  from portal.core.writes), unless it is marked `@read_only` (it writes nothing, e.g. a preview);
- no view hands `request.form` (or a value read from it) to perform/submit or an operation:
  submitted values are read through the form classes of the module's forms.py;
- every operation takes its `actor` keyword-only (`actor=`), so a call cannot swap the actor
  with the record or the data beside it.
"""
from __future__ import annotations

import ast
import inspect
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SESSION_WRITES = {"commit", "rollback", "flush", "add", "add_all", "delete", "merge", "begin_nested"}
# Names whose attributes a view may set: forms and their fields, the response, flask.g.
ASSIGNABLE = ("form", "response", "resp", "g", "field")
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def view_files() -> list[Path]:
    return sorted([*ROOT.glob("portal/*/*views.py"), *ROOT.glob("portal/*/api.py")])


def _dotted(node) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def writes_in(source: str) -> list[str]:
    """Every session write and record assignment in `source` (line: text)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = _dotted(node.func)
            if node.func.attr in SESSION_WRITES and "session" in name.split(".")[:-1]:
                found.append(f"{node.lineno}: {name}()")
        if isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute):
                    base = _dotted(target).split(".")[0]
                    if not base.endswith(ASSIGNABLE):
                        found.append(f"{node.lineno}: {_dotted(target)} = …")
    return found


@pytest.mark.parametrize("path", view_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_views_never_write(path):
    assert writes_in(path.read_text(encoding="utf-8")) == [], f"{path.relative_to(ROOT)} writes outside an operation"


def test_the_check_finds_a_commit_added_to_a_view():
    source = textwrap.dedent('''
        @bp.post("/<int:problem_id>/edit")
        def edit(problem_id):
            problem = load_or_404(Problem, problem_id, "manage")
            problem.deadline = form.deadline.data
            db.session.commit()
    ''')
    assert writes_in(source) == ["5: problem.deadline = …", "6: db.session.commit()"]


def calls_core_shape(fn, depth: int = 1) -> bool:
    """`fn` calls perform/submit itself, or through a helper of the portal's own (one level down,
    e.g. an import page's shared job starter)."""
    fn = inspect.unwrap(fn)
    source = textwrap.dedent(inspect.getsource(fn))
    names = {_dotted(node.func).split(".")[-1] for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)}
    if names & {"perform", "submit"}:
        return True
    helpers = [fn.__globals__.get(name) for name in names] if depth else []
    return any(inspect.isfunction(helper) and helper.__module__.startswith("portal.")
               and calls_core_shape(helper, depth - 1) for helper in helpers)


def test_every_write_route_goes_through_the_core_shape():
    from portal import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    missing = []
    for rule in app.url_map.iter_rules():
        if not (rule.methods or set()) & WRITE_METHODS or rule.endpoint == "static":
            continue
        fn = app.view_functions[rule.endpoint]
        if getattr(inspect.unwrap(fn), "read_only", False) or getattr(fn, "read_only", False):
            continue
        if not calls_core_shape(fn):
            missing.append(f"{rule.endpoint} {rule.rule}")
    assert missing == [], "POST routes that bypass portal.core.writes.perform/submit:\n" + "\n".join(missing)


# ---- submitted values reach an operation through a form only --------------------------------
# `request.form` (or .get/.getlist/[…] of it) passed into perform()/submit() or an operation
# call is a value nobody parsed: the form classes of each module's forms.py are the edge. Also
# caught: a local name assigned from it, and a helper of the same file that returns it.

CORE_SHAPE = {"perform", "submit"}


def _parsed_by_a_form(node) -> bool:
    """A form built from the submitted data (`SelectionForm(request.form)`, `_selection_form(…)`):
    what comes out of it has been through its fields."""
    return isinstance(node, ast.Call) and _dotted(node.func).split(".")[-1].lower().endswith("form")


def _walk_unparsed(node):
    yield node
    for child in ast.iter_child_nodes(node):
        if not _parsed_by_a_form(child):
            yield from _walk_unparsed(child)


def _reads_form(node, tainted: set[str]) -> bool:
    if _parsed_by_a_form(node):
        return False
    for inner in _walk_unparsed(node):
        if isinstance(inner, ast.Attribute) and inner.attr == "form" and _dotted(inner) == "request.form":
            return True
        if isinstance(inner, ast.Name) and inner.id in tainted:
            return True
        if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id in tainted:
            return True
    return False


def _operation_names(tree) -> set[str]:
    """Names imported from an operations module (`from portal.x.operations import close`)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[-1] in ("operations", "ops"):
            names |= {alias.asname or alias.name for alias in node.names}
    return names


def _is_operation_call(call: ast.Call, imported: set[str]) -> bool:
    name = _dotted(call.func)
    first, last = name.split(".")[0], name.split(".")[-1]
    return (last in CORE_SHAPE or first in imported or first in ("ops", "operations")
            or first.endswith("_operations") or first.endswith("_ops"))


def raw_form_into_operations(source: str) -> list[str]:
    """Every perform/submit/operation call in `source` given a raw request.form value (line: call)."""
    tree = ast.parse(source)
    imported = _operation_names(tree)
    functions = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]
    helpers: set[str] = set()  # functions of the file that return a raw form value

    def tainted_in(fn) -> set[str]:
        names = set(helpers)
        for _round in range(3):  # names assigned from the raw form (or from such names)
            for node in ast.walk(fn):
                if isinstance(node, ast.Assign | ast.AnnAssign | ast.NamedExpr) and node.value is not None \
                        and _reads_form(node.value, names):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        return names

    for _round in range(3):
        for fn in functions:
            names = tainted_in(fn)
            if any(isinstance(n, ast.Return) and n.value is not None and _reads_form(n.value, names)
                   for n in ast.walk(fn)):
                helpers.add(fn.name)
    found = []
    for fn in functions:
        tainted = tainted_in(fn)
        for node in ast.walk(fn):
            if isinstance(node, ast.Call) and _is_operation_call(node, imported):
                arguments = [*node.args, *(k.value for k in node.keywords)]
                if any(_reads_form(a, tainted) for a in arguments):
                    found.append(f"{node.lineno}: {_dotted(node.func)}()")
    return sorted(set(found), key=lambda line: int(line.split(":")[0]))


@pytest.mark.parametrize("path", view_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_views_hand_operations_parsed_values_only(path):
    assert raw_form_into_operations(path.read_text(encoding="utf-8")) == [], \
        f"{path.relative_to(ROOT)} passes request.form into an operation: read it through a form class"


def test_the_check_finds_raw_form_values_handed_to_an_operation():
    source = textwrap.dedent('''
        from portal.ledger.operations import close

        def _then_submit():
            return request.form.get("then") == "submit"

        def _rows():
            columns = [request.form.getlist(f"ind_{k}") for k in ("name", "weight")]
            return [dict(zip(("name", "weight"), values)) for values in zip(*columns)]

        @bp.post("/<int:problem_id>/bulk")
        def bulk(problem_id):
            back = request.form.get("back", "")
            done = submit(ops.bulk_action, actor=current_user, ids=to_ids(request.form.getlist("ids")),
                          redirect_to=back)
            perform(ops.save, request.form, and_submit=_then_submit())
            ops.LetterData(marking=request.form["marking"])
            close(problem_id, comment=request.form.get("comment", ""))
            ops.Application(indicators=_rows())
            form = BulkForm(request.form)
            return render_template("x.html", typed=request.form) or submit(ops.remind, form.ids.data)
    ''')
    assert raw_form_into_operations(source) == ["14: submit()", "16: perform()", "17: ops.LetterData()",
                                                "18: close()", "19: ops.Application()"]


# Public functions of an operations file that take an actor but are not user actions.
ACTOR_POSITIONAL_ALLOWED = {"portal/accounts/operations.py": {"authorise"}}  # shaped like can(user, action, record)


def test_every_operation_takes_its_actor_keyword_only():
    positional = []
    for path in sorted([*ROOT.glob("portal/*/operations.py"), ROOT / "portal/inquiries/answering.py"]):
        name = str(path.relative_to(ROOT))
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if (isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
                    and node.name not in ACTOR_POSITIONAL_ALLOWED.get(name, set())
                    and "actor" in [a.arg for a in node.args.posonlyargs + node.args.args]):
                positional.append(f"{name}: {node.name}")
    assert positional == []
