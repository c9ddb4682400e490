"""The public site's tests use the publishing fixtures (the corpus, the public app, the index)."""
from tests.publishing.conftest import corpus, index_dir, public_app  # noqa: F401
