"""Where a `next=` may send the browser: a path on this site, nothing else (no open redirect).

Refused: anything that is not a plain absolute path — a scheme or host (`https://…`, `//host`),
a backslash (browsers read `/\\host` as `//host`), tabs, CR/LF and other control characters
(browsers drop them, so `/%09/evil.example/` becomes `//evil.example/`), and the same forms
percent-encoded once or twice. What is refused falls back to `default`."""
from __future__ import annotations

from urllib.parse import unquote, urlsplit

_MAX_LENGTH = 2000


def _plain_path(value: str) -> bool:
    if not value.startswith("/") or value.startswith("//"):
        return False
    if "\\" in value or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return False
    parts = urlsplit(value)
    return not parts.scheme and not parts.netloc


def is_safe_path(target: str | None) -> bool:
    if not target or len(target) > _MAX_LENGTH:
        return False
    value = target
    for _round in range(3):  # the value as given, and decoded once and twice
        if not _plain_path(value):
            return False
        decoded = unquote(value)
        if decoded == value:
            return True
        value = decoded
    return False  # still changing after three decodings: refuse rather than guess


def safe_next(target: str | None, default: str) -> str:
    """`target` when it is a path on this site, else `default`."""
    return target if is_safe_path(target) else default
