"""An exclusive `flock` on a file, shared by processes on one machine (the search index's
rebuild, the test run's demo city)."""
from __future__ import annotations

import fcntl
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive(path: Path, *, wait: bool = True):
    """Hold an exclusive lock on `path` (created if missing); yields whether it is held. With
    `wait` off, yields False at once when another holder has it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
