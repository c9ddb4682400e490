"""The import contract (docs/architecture.md): core knows no module, the portal never imports
the public site, the public site reads only publications, and no import cycles between
packages. Read from the source with grimp (function-local imports count too)."""
from __future__ import annotations

import grimp
import pytest

from portal.config import PROJECT_ROOT

CORE_MAY_IMPORT = ("portal.core", "portal.extensions", "portal.config")
# The public site: publications, the shared search package, core and the configuration. The
# remaining entries are the rectification-rate rule and the published vocabularies it still
# takes from the modules that own them (listed so that the list can only shrink).
PUBLIC_MAY_IMPORT = ("public_site", "portal.publishing", "portal.core", "portal.extensions", "portal.config")
PUBLIC_EXCEPTIONS = {"portal.ledger.models", "portal.ledger.queries", "portal.performance.models"}


@pytest.fixture(scope="module")
def graph():
    import sys

    sys.path.insert(0, str(PROJECT_ROOT))
    return grimp.build_graph("portal", "public_site", include_external_packages=False, cache_dir=None)


def _imports(graph, prefix: str) -> set[tuple[str, str]]:
    return {(m, i) for m in graph.modules if m == prefix or m.startswith(prefix + ".")
            for i in graph.find_modules_directly_imported_by(m)}


def _under(module: str, prefixes) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def test_core_imports_no_module_and_not_the_public_site(graph):
    wrong = sorted(f"{m} -> {i}" for m, i in _imports(graph, "portal.core") if not _under(i, CORE_MAY_IMPORT))
    assert wrong == []


def test_the_portal_never_imports_the_public_site(graph):
    wrong = sorted(f"{m} -> {i}" for m, i in _imports(graph, "portal")
                   if i.startswith("public_site") and m != "portal.devserver")  # the dev server serves both faces
    assert wrong == []


def test_the_public_site_reads_publications_only(graph):
    wrong = sorted(f"{m} -> {i}" for m, i in _imports(graph, "public_site")
                   if not _under(i, PUBLIC_MAY_IMPORT) and i not in PUBLIC_EXCEPTIONS)
    assert wrong == []


def _package(module: str) -> str:
    """portal.extensions and portal.config belong to the core layer (the app's shared objects)."""
    if module in ("portal.extensions", "portal.config"):
        return "portal.core"
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "portal" and len(parts) > 1 else parts[0]


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan)."""
    index, low, stack, on_stack, result, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return result


# Package pairs that still import each other (each one a known debt, listed so it can only shrink).
KNOWN_CYCLES: list[list[str]] = []


def test_no_import_cycles_between_packages(graph):
    edges: dict[str, set[str]] = {}
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            a, b = _package(module), _package(imported)
            if a != b and a != "portal" and b != "portal":  # `portal` itself is the app factory
                edges.setdefault(a, set()).add(b)
    assert [c for c in _cycles(edges) if c not in KNOWN_CYCLES] == []


def test_the_contract_catches_core_importing_a_module(graph):
    """The first test fails on a core file that imports a module (on a copy of the graph)."""
    graph.add_module("portal.core.leak")
    graph.add_import(importer="portal.core.leak", imported="portal.ledger.models")
    try:
        with pytest.raises(AssertionError):
            test_core_imports_no_module_and_not_the_public_site(graph)
    finally:
        graph.remove_module("portal.core.leak")
    test_core_imports_no_module_and_not_the_public_site(graph)
