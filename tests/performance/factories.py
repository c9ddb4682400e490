"""Goals with a valid indicator table: tests/factories.py (kept here for the imports)."""
from tests.factories import GOAL_ROWS, make_goal  # noqa: F401

ROWS = GOAL_ROWS
