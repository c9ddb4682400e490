"""Labelled enums: a stored code, a Chinese and an English label, and a CSS class.

    class Urgency(LabelledEnum):
        NORMAL = "normal", "平件", "Normal", "tag-grey"
"""
from __future__ import annotations

import enum


def current_language() -> str:
    try:
        from flask_babel import get_locale

        locale = get_locale()
        return "en" if locale is not None and locale.language == "en" else "zh"
    except Exception:  # outside a request: Chinese
        return "zh"


class LabelledEnum(str, enum.Enum):  # noqa: UP042  (members carry labels; StrEnum adds nothing here)
    def __new__(cls, code: str, zh: str, en: str, css: str = ""):
        member = str.__new__(cls, code)
        member._value_ = code
        member.zh = zh
        member.en = en
        member.css = css
        return member

    @property
    def label(self) -> str:
        return self.en if current_language() == "en" else self.zh

    def __str__(self) -> str:
        return self.value

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]

    @classmethod
    def coerce(cls, value):
        """Form coercion: accept a member or its code; unknown codes raise ValueError."""
        return value if isinstance(value, cls) else cls(value)
