"""Languages: the two locales, the request's choice (`?lang=` or the cookie), where the catalogues
live, and `N_`, the marker for a string translated where it is shown."""
from __future__ import annotations

from flask import current_app, has_request_context, request

from portal.config import PROJECT_ROOT

LOCALES = ("zh", "en")


def N_(message: str) -> str:  # noqa: N802  marks a string for extraction; translated where shown
    return message


def translation_directories() -> str:
    """Every module keeps its own catalogue under translations/<module>/ (merged at load)."""
    root = PROJECT_ROOT / "translations"
    return ";".join(str(p) for p in sorted(root.iterdir()) if p.is_dir()) if root.exists() else "translations"


def select_locale() -> str:
    """`?lang=`, else the face's language cookie (`LANG_COOKIE`: each face keeps its own), else Chinese."""
    if not has_request_context():
        return "zh"
    lang = request.args.get("lang") or request.cookies.get(current_app.config.get("LANG_COOKIE", "lang"))
    return lang if lang in LOCALES else "zh"


def locale_context():
    """Templates of both faces know the current language (`lang`)."""
    return {"lang": select_locale()}
