"""One writer at a time per search index: an exclusive `flock` on a `<index>.writer.lock` file beside
the index folder, waited for at most a timeout (both the portal's and the public index use it)."""
from __future__ import annotations

import fcntl
import time
from contextlib import contextmanager
from pathlib import Path


class IndexBusy(Exception):
    """Another writer held the index longer than the timeout: try again later (the outbox or the
    publication queue keeps the work)."""


@contextmanager
def index_writer_lock(path: Path, timeout: float, label: str = "index"):
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    with open(path.parent / (path.name + ".writer.lock"), "w") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexBusy(f"the {label} writer lock was held for {timeout:.0f} s") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
