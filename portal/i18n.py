"""English catalogues, one per module (Chinese is the source language in the code).

    python -m portal.i18n            # extract every catalogue, keep existing translations,
                                     # list what is still untranslated
Catalogue `X` covers portal/X/ and templates/portal/X/ unless SOURCES says otherwise."""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from portal.config import PROJECT_ROOT

ROOT = PROJECT_ROOT / "translations"
METHODS = [("**.py", "python"), ("**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None, "N_": None}
SOURCES = {
    "core": ["portal/core", "portal/accounts", "templates/macros", "templates/portal/core",
             "templates/portal/accounts", "templates/portal/base.html", "templates/portal/bare.html",
             "templates/portal/error.html"],
    "public_site": ["public_site", "templates/public_site"],
}


def sources(name: str) -> list[Path]:
    listed = SOURCES.get(name, [f"portal/{name}", f"templates/portal/{name}"])
    return [PROJECT_ROOT / p for p in listed if (PROJECT_ROOT / p).exists()]


def extract(name: str) -> list[str]:
    msgids: dict[str, None] = {}
    for path in sources(name):
        if path.is_dir():
            found = extract_from_dir(str(path), METHODS, keywords=KEYWORDS)
        else:
            method = "jinja2" if path.suffix == ".html" else "python"
            from babel.messages.extract import extract_from_file

            found = ((str(path), *m) for m in extract_from_file(method, str(path), keywords=KEYWORDS))
        for _file, _line, message, _comments, _context in found:
            for msgid in message if isinstance(message, tuple) else (message,):
                if msgid and any("\u4e00" <= ch <= "\u9fff" for ch in msgid):
                    msgids[msgid] = None
    return list(msgids)


def po_path(name: str) -> Path:
    return ROOT / name / "en" / "LC_MESSAGES" / "messages.po"


def load(name: str) -> Catalog:
    path = po_path(name)
    if not path.exists():
        return Catalog(locale="en")
    with path.open("rb") as handle:
        return read_po(handle, locale="en")


def catalogue_names() -> list[str]:
    return sorted({p.name for p in ROOT.iterdir() if p.is_dir()} | set(SOURCES))


def update(name: str) -> list[str]:
    """Rewrite catalogue `name` with every current msgid; returns the untranslated ones."""
    old = load(name)
    new = Catalog(locale="en")
    missing = []
    for msgid in extract(name):
        existing = old.get(msgid)
        translation = existing.string if existing is not None else ""
        new.add(msgid, translation)
        if not translation:
            missing.append(msgid)
    path = po_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, new, omit_header=False, sort_output=True, width=0)
    return missing


def untranslated(name: str) -> list[str]:
    catalog = load(name)
    return [m for m in extract(name) if catalog.get(m) is None or not catalog.get(m).string]


def main() -> int:
    total = 0
    for name in catalogue_names():
        missing = update(name)
        total += len(missing)
        for msgid in missing:
            print(f"[{name}] untranslated: {msgid}")
    print(f"{total} untranslated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
