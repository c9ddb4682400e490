"""The English locale is complete: every Chinese string the code or templates show has an
English translation in its module's catalogue (run `python -m portal.i18n` to list gaps)."""
import pytest

from portal.i18n import catalogue_names, untranslated


@pytest.mark.parametrize("name", catalogue_names())
def test_catalogue_is_complete(name):
    assert untranslated(name) == []
