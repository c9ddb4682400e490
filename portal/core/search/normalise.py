"""One spelling for the index and the query: full-width → half-width, traditional → simplified.

`fold(text)` has exactly the length of `text` (character i of the result stands for character i
of the input), so offsets found in folded text mark the original: the highlighter searches the
folded stored text and marks the text as published. Traditional → simplified is OpenCC's `t2s`
(phrases first: 乾隆 stays, 頭髮 → 头发); where a phrase conversion would change the length, the
text is converted character by character instead."""
from __future__ import annotations

import re
import threading
from functools import lru_cache

_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}  # ！…～ → !…~
_FULL_WIDTH[0x3000] = 0x20  # ideographic space
_FULL_WIDTH.update({ord("“"): ord('"'), ord("”"): ord('"'), ord("„"): ord('"'), ord("「"): ord('"'),
                    ord("」"): ord('"'), ord("『"): ord('"'), ord("』"): ord('"'), ord("—"): ord("-"),
                    ord("－"): ord("-"), ord("−"): ord("-")})
_local = threading.local()


def _converter():
    converter = getattr(_local, "t2s", None)
    if converter is None:
        import opencc

        converter = _local.t2s = opencc.OpenCC("t2s")
    return converter


_WIDE = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_FULL_WIDTH)) + "]")


def half_width(text: str) -> str:
    # only the characters that change (str.translate with a table looks at every character in
    # Python: 30,000 characters of report text took milliseconds)
    return _WIDE.sub(lambda m: chr(_FULL_WIDTH[ord(m.group())]), text)


def simplified(text: str) -> str:
    if text.isascii():
        return text
    converted = _converter().convert(text)
    if len(converted) == len(text):
        return converted
    return "".join(_char(ch) for ch in text)


@lru_cache(maxsize=20_000)
def _char(ch: str) -> str:
    out = _converter().convert(ch)
    return out if len(out) == 1 else ch


def fold(text: str | None) -> str:
    """Half-width, simplified, same length. (Lower case is the analyser's last step.)"""
    if not text:
        return ""
    return simplified(half_width(text))
