"""Letter factories live in tests/factories.py (built through the operations, so history is
real); `inq` is the world with the holidays and both bureaus' issuing codes."""
from __future__ import annotations

import pytest

from portal.inquiries.workdays import load_holidays
from tests import factories
from tests.factories import make_letter  # noqa: F401

SENT_ON, STATES = factories.LETTER_SENT_ON, factories.LETTER_STATES
setup_codes, data = factories.setup_letter_codes, factories.letter_data


@pytest.fixture()
def inq(db, world):
    load_holidays([2025, 2026])
    setup_codes(world)
    db.session.commit()
    return world
