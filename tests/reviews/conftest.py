"""The co-review tests' factories live in tests/factories.py; `setup` is a commissioned report."""
from __future__ import annotations

from datetime import date  # noqa: F401  (imported from here by the review tests)

import pytest

from tests.factories import PDF, ReviewSetup, docx_bytes, full_scores  # noqa: F401

Setup = ReviewSetup


@pytest.fixture()
def setup(db, world):
    return ReviewSetup(world)


__all__ = ["Setup", "docx_bytes", "full_scores", "PDF", "date"]
