"""Chinese tokenizer for Whoosh: jieba in search mode plus the project's domain dictionary.

jieba's own ChineseAnalyzer works, but ours folds the text first (full-width → half-width,
traditional → simplified, `normalise.fold`, which keeps the length), keeps character offsets
exact (for highlighting), drops punctuation and a few stop words, and loads the dictionaries
once: the domain dictionary and the words of the synonym list (`synonyms.txt`), so an
abbreviation such as 棚改 or 专项债 is one word in a query."""
from __future__ import annotations

import logging
import threading
from functools import lru_cache
from pathlib import Path

import jieba
from whoosh.analysis import LowercaseFilter, Token, Tokenizer

from portal.core.search.normalise import fold

DICTIONARY = Path(__file__).with_name("dictionary.txt")
SYNONYMS = Path(__file__).with_name("synonyms.txt")
STOP = frozenset("的 了 和 与 及 或 在 是 对 为 等 中 之 其 于 并 由 将 把 被".split())
_loaded = False
_lock = threading.Lock()


def load_dictionary() -> None:
    global _loaded
    if _loaded:
        return
    with _lock:
        if not _loaded:
            jieba.setLogLevel(logging.WARNING)
            jieba.load_userdict(str(DICTIONARY))
            for group in synonym_groups():
                for word in group.words():
                    if 2 <= len(word) <= 12 and _cjk(word):
                        jieba.add_word(word, 1000, "n")
            _loaded = True


class SynonymGroup:
    """One line of synonyms.txt: `A = B = C` (each finds the others) or `A => X | Y` (A finds X, Y)."""

    def __init__(self, heads: list[str], expansions: list[str]):
        self.heads, self.expansions = heads, expansions

    def words(self) -> list[str]:
        return self.heads + self.expansions

    def expand(self, word: str) -> list[str]:
        if word not in self.heads:
            return []
        return [w for w in (self.heads + self.expansions) if w != word]


@lru_cache(maxsize=1)
def synonym_groups() -> tuple[SynonymGroup, ...]:
    groups = []
    for raw in SYNONYMS.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if "=>" in line:
            head, tail = line.split("=>", 1)
            groups.append(SynonymGroup([fold(head).strip().lower()],
                                       [fold(w).strip().lower() for w in tail.split("|") if w.strip()]))
        elif "=" in line:
            groups.append(SynonymGroup([fold(w).strip().lower() for w in line.split("=") if w.strip()], []))
    return tuple(groups)


def synonyms_of(word: str) -> list[str]:
    """The other words a query word stands for (from synonyms.txt), in the list's order."""
    word = fold(word).strip().lower()
    out: dict[str, None] = {}
    for group in synonym_groups():
        for other in group.expand(word):
            out[other] = None
    return list(out)


EDGE = "%％。，,;；:：、()（）[]【】《》“”\"'!?！？·-—~"


def _trim(word: str, start: int) -> tuple[str, int, int]:
    """Drop punctuation at the edges ("98.2%" → "98.2"), keeping character offsets exact."""
    lead = len(word) - len(word.lstrip(EDGE))
    core = word.strip(EDGE)
    return core, start + lead, start + lead + len(core)


def _keep(word: str) -> bool:
    word = word.strip()
    return bool(word) and word not in STOP and any(ch.isalnum() for ch in word)


def query_terms(text: str) -> list[str]:
    """The index words of a piece of query text (precise mode: the longest dictionary words)."""
    load_dictionary()
    seen: dict[str, None] = {}
    for word in jieba.cut(fold(text or "")):
        word = _trim(word.strip().lower(), 0)[0]
        if _keep(word):
            seen[word] = None
    words = list(seen)
    # A single Chinese character next to longer words (率 in 交付率, 低 in 预算执行率低) is mostly
    # noise that jieba glues differently in the text; keep it only when the query is just that.
    longer = [w for w in words if len(w) > 1 or not _cjk(w)]
    return longer or words


def _cjk(word: str) -> bool:
    return all("\u4e00" <= ch <= "\u9fff" for ch in word)


def _segment(value: str):
    """jieba's search-mode words, plus every two-character piece of longer Chinese words, so a
    query word the dictionary splits differently (老旧 + 小区 inside 老旧小区改造) still matches."""
    seen = set()
    for raw, raw_start, _end in jieba.tokenize(value, mode="search"):
        word, start, end = _trim(raw, raw_start)
        if not _keep(word):
            continue
        pieces = [(word, start, end)]
        if len(word) >= 3 and _cjk(word):
            pieces += [(word[i:i + 2], start + i, start + i + 2) for i in range(len(word) - 1)]
        for piece in pieces:
            if piece[:2] not in seen:
                seen.add(piece[:2])
                yield piece


# jieba segments each run of Chinese characters, letters and digits on its own, so the words of
# a run never depend on its neighbours: segment a run once and reuse it. Indicator names, unit
# names and headings recur across thousands of projects, which makes indexing several times faster.
_RUN = jieba.re_han_default


@lru_cache(maxsize=200_000)
def _run_words(run: str) -> tuple:
    return tuple(_segment(run))


def _words(value: str):
    value = fold(value)  # same length: offsets still point into the original
    offset = 0
    for block in _RUN.split(value):
        if block:
            words = _run_words(block) if _RUN.match(block) else _segment(block)
            for word, start, end in words:
                yield word, offset + start, offset + end
            offset += len(block)


class JiebaTokenizer(Tokenizer):
    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, mode="", **kwargs):
        load_dictionary()
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pos = start_pos
        for word, start, end in _words(value):
            token.text = word
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = word
            if positions:
                token.pos = pos
                pos += 1
            if chars:
                token.startchar = start_char + start
                token.endchar = start_char + end
            yield token


def ChineseAnalyzer():  # noqa: N802  (Whoosh's naming style for analyzers)
    return JiebaTokenizer() | LowercaseFilter()
