"""Bounded uploads (core/textextract.py): a .docx or .xlsx zip bomb built here (a small file
that unpacks to tens of megabytes) is refused in well under a second with bounded memory;
the extraction child's page / cell / time ceilings refuse with a message too, and documents
parsed at once in several threads all give their text."""
from __future__ import annotations

import io
import time
import tracemalloc
import zipfile

import pytest
import sqlalchemy as sa

from portal.core.attachments import Attachment, store_bytes
from portal.core.errors import DomainError
from tests import factories

CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
                 'package/2006/content-types"/>')


def _bomb(kind: str, megabytes: int) -> bytes:
    """A valid-looking package whose main part is `megabytes` of XML, written in chunks."""
    part = "word/document.xml" if kind == "docx" else "xl/worksheets/sheet1.xml"
    row = b"<row>" + b"<c><v>1</v></c>" * 64 + b"</row>" if kind == "xlsx" else b"<w:p><w:r><w:t>a</w:t></w:r></w:p>" * 64
    chunk = row * (1024 * 1024 // len(row))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        with archive.open(part, "w", force_zip64=True) as handle:
            for _ in range(megabytes):
                handle.write(chunk)
    return buffer.getvalue()


def _small(kind: str, cells: int = 0) -> bytes:
    buffer = io.BytesIO()
    if kind == "docx":
        import docx

        document = docx.Document()
        document.add_paragraph("绩效评价报告")
        document.save(buffer)
    else:
        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        for n in range(max(cells, 1)):
            sheet.cell(row=n // 50 + 1, column=n % 50 + 1, value=n)
        workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("kind, megabytes", [("docx", 100), ("xlsx", 80), ("docx", 30)])
def test_a_zip_bomb_is_refused_quickly_with_bounded_memory(app, db, kind, megabytes):
    data = _bomb(kind, megabytes)
    assert len(data) < 1024 * 1024  # a small file …
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(DomainError) as refused:
        store_bytes(f"报告.{kind}", data, actor=None)
    elapsed = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 1.0, elapsed
    assert peak < 2 * len(data) + 5 * 1024 * 1024, peak  # … never unpacked in the request
    assert "拒绝" in refused.value.message
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 0


def test_the_extraction_child_refuses_past_the_cell_ceiling(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_CELLS", 500)
    with pytest.raises(DomainError) as refused:
        store_bytes("表.xlsx", _small("xlsx", cells=2000), actor=None)
    assert "单元格过多" in refused.value.message


def _slow_docx(paragraphs: int = 30_000) -> bytes:
    """A real .docx inside every ceiling (ratio, size, entries) that takes seconds to parse:
    tens of thousands of paragraphs of varied text (it does not compress away)."""
    import random

    chars = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    pick = random.Random(20261204).choices
    body = "".join(f"<w:p><w:r><w:t>{''.join(pick(chars, k=12))}</w:t></w:r></w:p>" for _ in range(paragraphs))
    source = zipfile.ZipFile(io.BytesIO(_small("docx")))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "word/document.xml":
                data = data.replace(b"<w:sectPr", body.encode() + b"<w:sectPr", 1)
            archive.writestr(info.filename, data)
    return buffer.getvalue()


def test_the_extraction_child_is_stopped_at_its_time_limit(app, db, monkeypatch):
    data = _slow_docx()
    started = time.perf_counter()
    assert "绩效评价报告" in store_bytes("报告.docx", data, actor=None).text  # given the time, it gives its text
    parsing = time.perf_counter() - started
    monkeypatch.setitem(app.config, "ATTACHMENT_EXTRACT_SECONDS", 0.3)
    started = time.perf_counter()
    with pytest.raises(DomainError) as refused:
        store_bytes("报告.docx", data, actor=None)
    assert time.perf_counter() - started < min(1.2, parsing - 0.2)  # stopped at the limit, not waited for
    assert "超时" in refused.value.message


def test_the_extraction_child_is_refused_past_its_memory_limit(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_EXTRACT_MEMORY_MB", 4)  # the document's tree needs more
    with pytest.raises(DomainError) as refused:
        store_bytes("报告.docx", _slow_docx(), actor=None)
    assert "内存过大" in refused.value.message
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 0


def test_documents_parsed_at_once_in_threads_all_give_their_text():
    """Four threads extract a .docx ten times each while a fifth parses .docx XML throughout,
    as a threaded server does with uploads made at once. A child forked from this process
    itself copies the lock python-docx's parser holds in another thread at that moment and
    waits for it for ever: the upload was refused at the time limit (four .docx uploads at once
    stalled for 8 s)."""
    import threading

    from docx.oxml.parser import parse_xml

    from portal.core import textextract
    from tests.concurrency import in_parallel

    lim = {**textextract.DEFAULTS, "ATTACHMENT_EXTRACT_SECONDS": 3}
    data = _small("docx")
    xml = b'<w:body xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">' + \
        "<w:p><w:r><w:t>文本</w:t></w:r></w:p>".encode() * 5000 + b"</w:body>"
    stop = threading.Event()

    def parse_throughout():
        while not stop.is_set():
            parse_xml(xml)

    def extract_ten_times() -> list:
        texts = []
        for _ in range(10):
            try:
                texts.append(textextract.extract("docx", data, lim))
            except textextract.LimitExceeded as error:
                texts.append(f"refused: {error.reason}")
        return texts

    busy = threading.Thread(target=parse_throughout)
    busy.start()
    try:
        texts = [text for run in in_parallel([extract_ten_times] * 4) for text in run]
    finally:
        stop.set()
        busy.join()
    assert len(texts) == 40 and all("绩效评价报告" in text for text in texts), sorted(set(texts))[:3]


def test_ordinary_documents_still_give_their_text(app, db):
    attachment = store_bytes("报告.docx", _small("docx"), actor=None)
    assert "绩效评价报告" in attachment.text
    sheet = store_bytes("表.xlsx", _small("xlsx", cells=10), actor=None)
    assert "9" in sheet.text


def test_a_bomb_uploaded_through_a_form_is_refused_at_once(app, db, world, login):
    project = factories.make_project(world.subunit)
    db.session.commit()
    client = login(world.finance)
    data = _bomb("docx", 100)
    started = time.perf_counter()
    response = client.post(f"/projects/{project.id}/files", data={"file": (io.BytesIO(data), "报告.docx")},
                           content_type="multipart/form-data")
    assert time.perf_counter() - started < 1.5
    assert response.status_code < 500
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 0
