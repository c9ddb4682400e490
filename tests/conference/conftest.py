"""The joint-conference tests' factories live in tests/factories.py."""
from tests.factories import make_action, make_document, make_meeting, text_file  # noqa: F401
