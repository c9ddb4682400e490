"""Bounded text extraction from uploaded PDF, .docx and .xlsx files (for search).

An uploaded document is untrusted: a 348 KB .docx can unpack to 100 MB of XML, a 600 KB .xlsx
to 2 million cells, a PDF can hold thousands of pages or deep compressed streams. So:

1. `check_archive(kind, data)` runs in the request, in milliseconds, on the zip's central
   directory only (nothing is decompressed): the declared uncompressed size, the compression
   ratio and the number of entries have ceilings. A bomb is refused there with a message.
   (zipfile never inflates a member beyond its declared size: a lying header fails its CRC.)
2. `extract(kind, data)` parses in a child process under an address-space limit, a
   wall-clock timeout and page / cell / character ceilings. Past a ceiling the upload is
   refused with a message; a damaged file stores without searchable text, as before.
   The child is forked by multiprocessing's fork server (one per process, started on first
   use, single-threaded, the parsers imported once), never by the server process itself: a
   fork of a threaded server copies the locks its other threads hold at that moment (the lock
   of python-docx's lxml parser, while another thread reads or builds a .docx), and a child
   that needs one waits for ever. Four .docx uploads made at once stalled so until the time
   limit refused them (tests/core/test_upload_bombs.py reproduces it).

Limits (app config keys, defaults):
    ATTACHMENT_MAX_UNCOMPRESSED_MB   60      all members of a .docx/.xlsx together
    ATTACHMENT_MAX_RATIO             100     uncompressed size / file size
    ATTACHMENT_MAX_ENTRIES           5000    members of the archive
    ATTACHMENT_MAX_PAGES             1000    PDF pages
    ATTACHMENT_MAX_CELLS             500000  non-empty .xlsx cells read
    ATTACHMENT_EXTRACT_SECONDS       8       wall clock of the extraction child
    ATTACHMENT_EXTRACT_MEMORY_MB     1024    address space of the extraction child
This module imports no Flask, database or portal code: the fork server stays small.
"""
from __future__ import annotations

import io
import logging
import multiprocessing
import os
import pickle
import threading
import zipfile

MAX_TEXT = 2_000_000
DEFAULTS = {
    "ATTACHMENT_MAX_UNCOMPRESSED_MB": 60,
    "ATTACHMENT_MAX_RATIO": 100,
    "ATTACHMENT_MAX_ENTRIES": 5000,
    "ATTACHMENT_MAX_PAGES": 1000,
    "ATTACHMENT_MAX_CELLS": 500_000,
    "ATTACHMENT_EXTRACT_SECONDS": 8,
    "ATTACHMENT_EXTRACT_MEMORY_MB": 1024,
}


class LimitExceeded(Exception):
    """The document goes past one of the limits; `reason` names which (a key of REASONS)."""

    def __init__(self, reason: str, **values):
        super().__init__(reason)
        self.reason = reason
        self.values = values


def limits(config) -> dict:
    return {key: config.get(key, default) for key, default in DEFAULTS.items()}


def check_archive(kind: str, data: bytes, lim: dict) -> None:
    """Refuse a zip bomb from the central directory alone (no decompression)."""
    if kind not in ("docx", "xlsx"):
        return
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return  # sniff() accepted it; extraction will find it damaged and store no text
    if len(infos) > lim["ATTACHMENT_MAX_ENTRIES"]:
        raise LimitExceeded("entries", n=lim["ATTACHMENT_MAX_ENTRIES"])
    total = sum(max(info.file_size, 0) for info in infos)
    if total > lim["ATTACHMENT_MAX_UNCOMPRESSED_MB"] * 1024 * 1024:
        raise LimitExceeded("uncompressed", mb=lim["ATTACHMENT_MAX_UNCOMPRESSED_MB"])
    if total > 1024 * 1024 and total / max(len(data), 1) > lim["ATTACHMENT_MAX_RATIO"]:
        raise LimitExceeded("ratio", n=lim["ATTACHMENT_MAX_RATIO"])


# ---- the parsers (run in the child) ------------------------------------------------------------

def _text_of(kind: str, data: bytes, lim: dict) -> str:
    if kind == "pdf":
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        if len(reader.pages) > lim["ATTACHMENT_MAX_PAGES"]:
            raise LimitExceeded("pages", n=lim["ATTACHMENT_MAX_PAGES"])
        parts, size = [], 0
        for page in reader.pages:
            text = page.extract_text() or ""
            parts.append(text)
            size += len(text)
            if size > MAX_TEXT:
                break
        return "\n".join(parts)
    if kind == "docx":
        import docx

        document = docx.Document(io.BytesIO(data))
        parts = [p.text for p in document.paragraphs]
        for table in document.tables:
            for row in table.rows:
                parts.append("\t".join(cell.text for cell in row.cells))
        return "\n".join(parts)
    if kind == "xlsx":
        from openpyxl import load_workbook

        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        parts, cells_seen = [], 0
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows(values_only=True):
                cells = [str(c) for c in row if c is not None]
                cells_seen += len(row)
                if cells_seen > lim["ATTACHMENT_MAX_CELLS"]:
                    raise LimitExceeded("cells", n=lim["ATTACHMENT_MAX_CELLS"])
                if cells:
                    parts.append("\t".join(cells))
        workbook.close()
        return "\n".join(parts)
    raise ValueError(kind)


PARSERS = ("docx", "openpyxl", "pypdf")
_context: multiprocessing.context.BaseContext | None = None
_context_lock = threading.Lock()


def _fork_server() -> multiprocessing.context.BaseContext:
    """multiprocessing's fork server context, with this module and the parsers preloaded."""
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([__name__, *PARSERS])
            _context = context
        return _context


def _limit_memory(extra_mb: int) -> None:
    """Address space: what the child (a copy of the fork server) already maps, plus `extra_mb`."""
    import resource

    try:
        with open("/proc/self/statm") as handle:
            current = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        current = 0
    limit = current + extra_mb * 1024 * 1024
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):
        pass


def _child(kind: str, data: bytes, lim: dict) -> tuple:
    try:
        return ("ok", _text_of(kind, data, lim)[:MAX_TEXT])
    except LimitExceeded as limit:
        return ("limit", (limit.reason, limit.values))
    except MemoryError:
        return ("limit", ("memory", {"mb": lim["ATTACHMENT_EXTRACT_MEMORY_MB"]}))
    except Exception as error:  # noqa: BLE001  a damaged document: no text
        return ("damaged", type(error).__name__)


def _run_child(sender, kind: str, data: bytes, lim: dict) -> None:
    """The child's whole life: limit its memory, parse, send the result back."""
    _limit_memory(lim["ATTACHMENT_EXTRACT_MEMORY_MB"])
    try:
        try:
            sender.send(_child(kind, data, lim))
        except MemoryError:
            sender.send(("limit", ("memory", {"mb": lim["ATTACHMENT_EXTRACT_MEMORY_MB"]})))
    except OSError:  # the parent stopped waiting (its time limit) as the answer came
        pass


def extract(kind: str, data: bytes, lim: dict) -> str | None:
    """The document's text, parsed in a child process under a memory limit and a timeout;
    None when it is damaged. Raises LimitExceeded past a ceiling (pages, cells, memory, time)."""
    context = _fork_server()
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_run_child, args=(sender, kind, data, lim), daemon=True)
    try:
        try:
            child.start()
        except OSError:  # no child to be had (the fork server could not start one): stored without text
            logging.getLogger(__name__).exception("text extraction: no child process")
            return None
        finally:
            sender.close()
        if not receiver.poll(lim["ATTACHMENT_EXTRACT_SECONDS"]):
            raise LimitExceeded("time", s=lim["ATTACHMENT_EXTRACT_SECONDS"])
        try:
            status, value = receiver.recv()
        except (EOFError, OSError, ValueError, pickle.UnpicklingError):  # the child died (memory) mid-answer
            raise LimitExceeded("memory", mb=lim["ATTACHMENT_EXTRACT_MEMORY_MB"]) from None
    finally:
        receiver.close()
        if child.pid is not None:
            if child.is_alive():
                child.kill()
            child.join()
            child.close()
    if status == "ok":
        return value
    if status == "limit":
        reason, values = value
        raise LimitExceeded(reason, **values)
    return None
