"""The co-review tests' factories live in tests/factories.py; `setup` is a commissioned report."""
from __future__ import annotations

from datetime import date  # noqa: F401  (imported from here by the review tests)

import pytest

from tests.factories import PDF, ReviewSetup, docx_bytes, full_scores  # noqa: F401

Setup = ReviewSetup


@pytest.fixture()
def setup(db, world):
    return ReviewSetup(world)


def declared_round(setup):
    """The report uploaded, its round opened, and the finance reviewer's assignment declared free
    of conflicts: (round, assignment)."""
    from portal.reviews import operations

    setup.upload()
    review_round = setup.open_round()
    mine = next(a for a in review_round.assignments if a.reviewer_id == setup.world.finance.id)
    operations.declare(mine, actor=setup.world.finance, conflict=None)
    return review_round, mine


__all__ = ["Setup", "declared_round", "docx_bytes", "full_scores", "PDF", "date"]
