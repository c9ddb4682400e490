"""The search box's language, parsed into what the index evaluates.

    棚户区 债券        both words (a space is AND)
    医院 OR 养老       either (also `或`, `|`)
    债券 -棚户区       without a word (also `NOT 棚户区`)
    "加装电梯60部"     the exact text (checked against the stored text)
    年度:2024          only that year (the one field filter)

Whatever cannot be read as syntax — a lone quote, `OR` at either end, `-` alone — is read as
plain words, never as zero hits. Each word is analysed like the indexed text (folded, jieba,
domain dictionary); each of its index words also stands for its synonyms and abbreviations
(synonyms.txt); a single Chinese character stands for itself and the indexed words that contain
it (resolved against the index's vocabulary when the query runs). Long queries keep their first
MAX_WORDS words (and MAX_CHARS characters) and say so."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from portal.core.search.analysis import STOP, _cjk, fold, query_terms, synonyms_of

MAX_CHARS = 100
MAX_WORDS = 10
OR_WORDS = {"or", "或", "|", "||"}
AND_WORDS = {"and", "&", "&&", "+", "且"}
NOT_WORDS = {"not", "非"}
FIELDS = {"年度": "year", "year": "year"}
_TOKEN = re.compile(r'"([^"]*)"|(\S+)')


@dataclass
class Slot:
    """One index word of a query word, or any of its synonyms: OR of alternatives, each an AND of
    index terms. `char` marks a single Chinese character, expanded against the vocabulary."""
    alternatives: list[tuple[str, ...]]
    char: str | None = None


@dataclass
class Option:
    """A query word: all its slots must match (and its exact text, for a phrase)."""
    text: str
    slots: list[Slot]
    phrase: str | None = None


@dataclass
class Parsed:
    text: str
    clauses: list[list[Option]] = field(default_factory=list)  # AND of ORs
    excluded: list[Option] = field(default_factory=list)
    filters: dict = field(default_factory=dict)
    truncated: bool = False  # only the first words were kept
    fallback: bool = False  # some syntax was read as plain words
    kept: str = ""  # the query as it was understood

    @property
    def has_words(self) -> bool:
        return bool(self.clauses or self.excluded)

    @property
    def needs_word(self) -> bool:
        """Text was typed but nothing in it is searchable (stop words, punctuation)."""
        return bool(self.text.strip()) and not self.has_words and not self.filters

    def highlight_terms(self) -> list[str]:
        out: dict[str, None] = {}
        for clause in self.clauses:
            for option in clause:
                if option.phrase:
                    out[option.phrase] = None
                for slot in option.slots:
                    if slot.char:
                        out[slot.char] = None
                    for alternative in slot.alternatives:
                        out.update(dict.fromkeys(alternative))
        return list(out)

    def words(self) -> list[str]:
        """The user's words (for suggestions), in order."""
        return [option.text for clause in self.clauses for option in clause]


def _option(text: str, *, phrase: bool = False) -> Option | None:
    folded = fold(text).strip().lower()
    if not folded:
        return None
    terms = query_terms(folded)
    if not terms:
        return None
    if not phrase and len(folded) == 1 and _cjk(folded) and folded not in STOP:
        return Option(folded, [Slot([(folded,)], char=folded)])
    slots = []
    for term in terms:
        alternatives = [(term,)]
        for other in synonyms_of(term):
            expansion = tuple(query_terms(other))
            if expansion and expansion not in alternatives:
                alternatives.append(expansion)
        slots.append(Slot(alternatives))
    compact = re.sub(r"\s+", "", folded)
    return Option(folded, slots, phrase=compact if phrase and len(terms) > 1 else None)


def parse(text: str | None) -> Parsed:
    raw = (text or "").strip()
    parsed = Parsed(text=raw)
    folded = fold(raw)
    if len(folded) > MAX_CHARS:
        cut = folded[:MAX_CHARS]
        space = cut.rfind(" ")
        folded = cut[:space] if space > MAX_CHARS // 2 else cut
        parsed.truncated = True
    items: list[tuple[str, str, bool]] = []  # (kind, text, negated) kind: word | phrase | or
    negate_next = False
    for match in _TOKEN.finditer(folded):
        quoted, bare = match.group(1), match.group(2)
        if quoted is not None:
            items.append(("phrase", quoted, negate_next))
            negate_next = False
            continue
        word = bare
        lower = word.lower()
        if lower in OR_WORDS:
            items.append(("or", "", False))
            continue
        if lower in AND_WORDS:
            continue
        if lower in NOT_WORDS:
            negate_next = True
            continue
        if ":" in word:
            name, _sep, value = word.partition(":")
            if name.lower() in FIELDS and re.fullmatch(r"\d{4}", value):
                parsed.filters[FIELDS[name.lower()]] = value
                continue
        negated = negate_next
        negate_next = False
        if word.startswith("-") and len(word) > 1 and not word[1].isdigit():
            negated, word = True, word[1:]
        elif word.startswith("+") and len(word) > 1:
            word = word[1:]
        if '"' in word:  # a lone quote: plain words
            parsed.fallback = True
            word = word.replace('"', " ")
            for piece in word.split():
                items.append(("word", piece, negated))
            continue
        items.append(("word", word, negated))
    if negate_next:
        parsed.fallback = True  # NOT at the end: ignored
    words = 0
    kept: list[str] = []
    pending_or = False
    for kind, value, negated in items:
        if kind == "or":
            if not parsed.clauses or pending_or:
                parsed.fallback = True  # OR at the start or twice: ignored
            pending_or = bool(parsed.clauses)
            continue
        option = _option(value, phrase=kind == "phrase")
        if option is None:
            pending_or = False if not negated else pending_or
            continue
        if words >= MAX_WORDS:
            parsed.truncated = True
            break
        words += 1
        shown = f'"{value}"' if kind == "phrase" else value
        if negated:
            parsed.excluded.append(option)
            kept.append("-" + shown)
            continue
        if pending_or and parsed.clauses:
            parsed.clauses[-1].append(option)
            kept.append("OR " + shown)
        else:
            parsed.clauses.append([option])
            kept.append(shown)
        pending_or = False
    if pending_or:
        parsed.fallback = True  # OR at the end: ignored
    parsed.kept = " ".join(kept)
    return parsed


def plain(terms: list[str]) -> Parsed:
    """Every one of `terms` must occur (no synonyms, no expansion): the engine's core query."""
    parsed = Parsed(text=" ".join(terms))
    parsed.clauses = [[Option(t, [Slot([(t,)])])] for t in terms]
    return parsed
