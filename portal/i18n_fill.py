"""Apply a dict of translations to a catalogue: python -m portal.i18n_fill CATALOGUE FILE.py
(FILE defines T = {msgid: English}). Keeps existing translations."""
import runpy
import sys

from babel.messages.pofile import write_po

from portal.i18n import load, po_path, update


def fill(name: str, translations: dict[str, str]) -> None:
    update(name)
    catalog = load(name)
    for message in catalog:
        if message.id and not message.string and message.id in translations:
            message.string = translations[message.id]
    with po_path(name).open("wb") as handle:
        write_po(handle, catalog, sort_output=True, width=0)


if __name__ == "__main__":
    fill(sys.argv[1], runpy.run_path(sys.argv[2])["T"])
