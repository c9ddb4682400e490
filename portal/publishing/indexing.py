"""After a publication commits, the search index is brought up to date by the outbox worker,
never by the request: `publish`/`withdraw` queue the touched projects in `pub_search_queue` and
enqueue one "search.apply" message in the same transaction; its handler applies the queue as
the single index writer (what `flask search apply` does). A failed apply is retried by the
outbox with backoff; the queue rows stay until the index holds them, so nothing is lost."""
from __future__ import annotations

from portal.core import outbox
from portal.extensions import db
from portal.publishing.models import SearchQueueItem

KIND = "search.apply"


def queue(project_refs) -> None:
    """Queue the projects' search documents for rebuilding (in the caller's transaction)."""
    refs = sorted(set(project_refs))
    if not refs:
        return
    db.session.add_all(SearchQueueItem(project_ref=ref) for ref in refs)
    outbox.enqueue(KIND, {"project_refs": refs})


@outbox.handler(KIND)
def apply_pending(_payload: dict, _run) -> None:
    """Apply every pending index change (not only this message's projects: one apply covers
    whatever is queued, so a burst of publications is indexed in one pass)."""
    from portal.publishing.search import apply_queue

    apply_queue()
