"""The module template (docs/architecture.md), checked so that the next module cannot drift:
the same files in every workflow module, the optional files under the same names with the same
exports, seeders, panels and reminder checks registered from them, and no file over 400 lines
without its reason at the top."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from portal.config import PROJECT_ROOT

REQUIRED = ("__init__.py", "models.py", "policies.py", "operations.py", "queries.py", "forms.py", "views.py")
# Optional files: their name, and the functions each must export when present.
OPTIONAL_EXPORTS = {"demo.py": {"seed"}, "reminders.py": {"check"}, "panels.py": set(), "api.py": set()}
FORBIDDEN = {"seed.py", "seeds.py", "seeder.py", "utils.py", "helpers.py", "misc.py"}
MAX_LINES = 400
# Packages under portal/ that are not workflow modules, each with its reason.
NOT_MODULES = {
    "core": "the house every module builds on",
    "search": "the portal-wide search: one index over every module's records, no records of its own",
}
REASON = "Over 400 lines:"


def modules(root: Path = PROJECT_ROOT / "portal") -> list[Path]:
    return sorted(p for p in root.iterdir() if (p / "__init__.py").is_file() and p.name not in NOT_MODULES)


def functions(path: Path) -> set[str]:
    return {n.name for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef)}


def layout_problems(root: Path = PROJECT_ROOT / "portal") -> list[str]:
    problems = []
    for module in modules(root):
        problems += [f"{module.name}: missing {name}" for name in REQUIRED if not (module / name).is_file()]
        problems += [f"{module.name}: {p.name} is not a template name (demo.py, reminders.py, panels.py …)"
                     for p in module.glob("*.py") if p.name in FORBIDDEN]
        for name, exports in OPTIONAL_EXPORTS.items():
            if (module / name).is_file():
                problems += [f"{module.name}/{name}: does not define {e}()" for e in sorted(exports - functions(module / name))]
    return problems


def test_every_module_follows_the_template():
    assert layout_problems() == []


def test_the_layout_check_fails_on_a_drifting_module(tmp_path):
    root = tmp_path / "portal"
    module = root / "newmodule"
    module.mkdir(parents=True)
    for name in REQUIRED:
        if name != "queries.py":
            (module / name).write_text("")
    (module / "seed.py").write_text("def seed_newmodule(ctx):\n    pass\n")
    (module / "demo.py").write_text("def seed_newmodule(ctx):\n    pass\n")
    assert layout_problems(root) == ["newmodule: missing queries.py",
                                     "newmodule: seed.py is not a template name (demo.py, reminders.py, panels.py …)",
                                     "newmodule/demo.py: does not define seed()"]


@pytest.fixture()
def registered(app):
    from portal.core import registry

    return registry


def test_seeders_panels_and_reminders_come_from_their_files(registered):
    wrong = [f"seeder {s.name}: {s.run.__module__}.{s.run.__name__}" for s in registered.SEEDERS
             if s.name != "organisations" and (not s.run.__module__.endswith(".demo") or s.run.__name__ != "seed")]
    wrong += [f"reminder {name}: {check.__module__}" for name, check in registered.REMINDER_CHECKS.items()
              if not check.__module__.endswith(".reminders")]
    wrong += [f"panel {p.render.__module__}.{p.render.__name__}" for p in registered.DASHBOARD + registered.OVERVIEW_SECTIONS
              if not p.render.__module__.endswith(".panels")]
    assert wrong == []


def _long_files_without_reason() -> list[str]:
    wrong = []
    for root in ("portal", "public_site"):
        for path in sorted((PROJECT_ROOT / root).rglob("*.py")):
            lines = path.read_text().splitlines()
            if len(lines) > MAX_LINES and not any(REASON in line for line in lines[:20]):
                wrong.append(f"{path.relative_to(PROJECT_ROOT)}: {len(lines)} lines")
    return wrong


def test_no_file_over_400_lines_without_its_reason():
    assert _long_files_without_reason() == []
