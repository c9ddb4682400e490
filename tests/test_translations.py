"""The English locale is complete: every Chinese string the code or templates show has an
English translation in its module's catalogue (`make translations` merges new strings in with
pybabel; the gaps are the empty msgstr it leaves).

Extraction is pybabel's, with the project's babel.cfg and the Makefile's keywords and sources:
catalogue X reads portal/X and templates/portal/X unless the Makefile's
`TRANSLATION_SOURCES_X := …` line says otherwise (as portal/accounts goes to core). Every portal
module with Chinese strings must have a catalogue of its own: a module whose translations folder
is missing would otherwise not be checked at all."""
from __future__ import annotations

import importlib
import re
from functools import cache
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir, extract_from_file
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from babel.util import pathmatch

from portal.config import PROJECT_ROOT

ROOT = PROJECT_ROOT / "translations"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}  # the Makefile's -k _l -k lazy_gettext


def _makefile_sources() -> dict[str, list[str]]:
    text = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    return {name: paths.split() for name, paths in re.findall(r"^TRANSLATION_SOURCES_(\w+) := (.+)$", text, re.M)}


SOURCES = _makefile_sources()
# portal/<name>/ packages whose strings another catalogue already covers (see SOURCES)
COVERED_ELSEWHERE = {p.split("/", 1)[1] for paths in SOURCES.values() for p in paths
                     if p.startswith("portal/") and p.count("/") == 1}


def sources(name: str) -> list[Path]:
    listed = SOURCES.get(name, [f"portal/{name}", f"templates/portal/{name}"])
    return [PROJECT_ROOT / p for p in listed if (PROJECT_ROOT / p).exists()]


@cache
def _method_map():
    with (PROJECT_ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        return parse_mapping_cfg(handle)


def _is_chinese(msgid: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in msgid)


@cache
def extract(name: str) -> frozenset[str]:
    """The Chinese msgids `pybabel extract -F babel.cfg` finds in catalogue `name`'s sources."""
    method_map, options_map = _method_map()
    found = []
    for path in sources(name):
        if path.is_dir():
            found.extend(m[2] for m in extract_from_dir(str(path), method_map, options_map, keywords=KEYWORDS))
        else:
            method = next(method for pattern, method in method_map if pathmatch(pattern, path.name))
            found.extend(m[1] for m in extract_from_file(method, str(path), keywords=KEYWORDS))
    return frozenset(msgid for message in found for msgid in (message if isinstance(message, tuple) else (message,))
                     if msgid and _is_chinese(msgid))


def po_path(name: str) -> Path:
    return ROOT / name / "en" / "LC_MESSAGES" / "messages.po"


def translated(name: str) -> set[str]:
    path = po_path(name)
    if not path.exists():
        return set()
    with path.open("rb") as handle:
        return {m.id for m in read_po(handle, locale="en") if m.id and m.string and not m.fuzzy}


def catalogue_names() -> list[str]:
    return sorted({p.name for p in ROOT.iterdir() if p.is_dir()} | set(SOURCES))


def portal_modules() -> list[str]:
    return sorted(p.name for p in (PROJECT_ROOT / "portal").iterdir()
                  if p.is_dir() and (p / "__init__.py").exists() and p.name not in SOURCES
                  and p.name not in COVERED_ELSEWHERE)


@pytest.mark.parametrize("name", sorted(set(catalogue_names()) | set(portal_modules())))
def test_catalogue_is_complete(name):
    assert sorted(extract(name) - translated(name)) == []


@pytest.mark.parametrize("name", portal_modules())
def test_every_module_with_chinese_strings_has_a_catalogue(name):
    if extract(name):
        assert po_path(name).exists(), f"translations/{name}/en/LC_MESSAGES/messages.po is missing"


def test_every_transition_label_is_marked_for_extraction():
    """A state machine's labels are shown translated (`_(t.label)`: buttons, audit entries,
    refusals); one written without N_() is not extracted, so `make translations` would drop its
    English and the button would turn Chinese on the English pages."""
    from portal.core.states import MACHINES

    for module in portal_modules() + ["core"]:
        for part in ("operations", "policies", "packages"):
            try:
                importlib.import_module(f"portal.{module}.{part}")
            except ModuleNotFoundError as missing:
                if missing.name != f"portal.{module}.{part}":
                    raise
    extracted = frozenset().union(*(extract(name) for name in catalogue_names()))
    labels = {t.label for machine in MACHINES.values() for t in machine.transitions if _is_chinese(t.label)}
    assert len(MACHINES) >= 8 and sorted(labels - extracted) == []
