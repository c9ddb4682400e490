"""Highlighting query words in stored text: one regular expression over the raw text, so a hit
costs microseconds (re-segmenting a 30,000-character report with jieba for every hit did not).

Chinese words match anywhere (the index has the same pieces: 教育 inside 教育局); Latin letters
and digits only as whole runs (2024 not inside 20245). Output is escaped HTML with each word in
<mark class="hl tN">, N being the word's position in the query. Words are found in folded
text (traditional → simplified, full-width → half-width: the same length): titles are folded
here, the body, cells and report text were folded when indexed, so 績效 in a report is marked
for the query 绩效."""
from __future__ import annotations

import re
from html import escape

from portal.core.search.normalise import fold

MAX_CHARS = 160  # a fragment's length
SURROUND = 40  # context before the first word of a fragment
SEPARATOR = " … "


def pattern(terms: list[str]) -> re.Pattern | None:
    parts = []
    for term in sorted(set(terms), key=len, reverse=True):
        piece = re.escape(term)
        if term[:1].isascii() and term[:1].isalnum():
            piece = r"(?<![0-9A-Za-z])" + piece
        if term[-1:].isascii() and term[-1:].isalnum():
            piece += r"(?![0-9A-Za-z])"
        parts.append(piece)
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def mark(text: str, spans: list[tuple[int, int, int]], start: int = 0, end: int | None = None) -> str:
    end = len(text) if end is None else end
    out, position = [], start
    for a, b, number in spans:
        if a < start or b > end:
            continue
        out += [escape(text[position:a]), f'<mark class="hl t{number}">', escape(text[a:b]), "</mark>"]
        position = b
    out.append(escape(text[position:end]))
    return "".join(out)


def _spans(text: str, terms: list[str], compiled: re.Pattern) -> list[tuple[int, int, int]]:
    numbers = {t.lower(): i for i, t in enumerate(terms)}
    return [(m.start(), m.end(), numbers.get(m.group().lower(), 0)) for m in compiled.finditer(text)]


def whole(text: str, terms: list[str]) -> str:
    """All of `text` with every query word marked (titles)."""
    compiled = pattern(terms)
    return mark(text, _spans(fold(text), terms, compiled)) if compiled and text else escape(text or "")


def fragments(text: str, terms: list[str], top: int = 2) -> str:
    """Up to `top` passages of `text` around the query words, the richest first chosen, shown in
    text order; "" when no word occurs."""
    compiled = pattern(terms)
    if not compiled or not text:
        return ""
    spans = _spans(text, terms, compiled)  # stored text is folded when indexed (see build_document)
    windows = []
    i = 0
    while i < len(spans):
        start = max(0, spans[i][0] - SURROUND)
        end = min(len(text), start + MAX_CHARS)
        inside = [s for s in spans[i:] if s[1] <= end]
        windows.append((len({s[2] for s in inside}), len(inside), start, end))
        i += max(1, len(inside))
    best = sorted(windows, key=lambda w: (-w[0], -w[1], w[2]))[:top]
    return SEPARATOR.join(mark(text, spans, start, end) for _n, _k, start, end in sorted(best, key=lambda w: w[2]))
