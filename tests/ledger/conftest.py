"""Ledger test helpers; the problem factory (through the real operations, in any state) lives
in tests/factories.py."""
from __future__ import annotations

from datetime import date

import pytest

from portal.core import clock
from tests.factories import PDF, make_problem, pdf_file  # noqa: F401

TODAY = date(2026, 6, 1)


@pytest.fixture()
def frozen_today():
    with clock.frozen(TODAY):
        yield TODAY


def hidden(page: str, name: str) -> str:
    """The value of the hidden input `name` in an HTML page (what the browser would post back)."""
    import re

    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page) or \
        re.search(rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"', page)
    assert match, f"no hidden {name} in the page"
    return match.group(1)
