"""The minutes as a Word file in the official 会议纪要 layout: red header, number
〔2026〕第N次 above a red rule, title, body, 出席 (attendees) and 分送 (distribution)."""
from __future__ import annotations

import io
import re

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

from portal.core.excel import xml_text

RED = RGBColor(0xC0, 0x00, 0x00)


def _run(paragraph, text: str):
    """A run of stored text, with what XML forbids dropped (core/excel.xml_text)."""
    return paragraph.add_run(xml_text(text))


def _font(run, size: float, name: str = "仿宋_GB2312", bold: bool = False, color=None) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = name
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)
    if color is not None:
        run.font.color.rgb = color


def _red_rule(paragraph) -> None:
    """A red line under the paragraph (the 红色分隔线)."""
    p_pr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("val", "single"), ("sz", "12"), ("space", "1"), ("color", "C00000")):
        bottom.set(qn(f"w:{key}"), value)
    borders.append(bottom)
    p_pr.append(borders)


def _plain(line: str) -> str:
    """Markdown markers off a line: headings, emphasis, list bullets."""
    line = re.sub(r"^#{1,6}\s*", "", line)
    line = re.sub(r"^\s*[-*+]\s+", "", line)
    return re.sub(r"(\*\*|__|\*|_|`)", "", line)


def minutes_document(meeting) -> io.BytesIO:
    doc = Document()
    header = doc.add_paragraph()
    header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(_run(header, "财政审计联席会议纪要"), 26, "方正小标宋简体", bold=True, color=RED)

    number = doc.add_paragraph()
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(_run(number, meeting.doc_number), 16)
    _red_rule(number)

    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(_run(title, f"{meeting.title}纪要"), 22, "方正小标宋简体")

    intro = doc.add_paragraph()
    _font(_run(intro, f"{meeting.held_on.year}年{meeting.held_on.month}月{meeting.held_on.day}日，"
                        f"{meeting.convening_org.name}在{meeting.place}召集{meeting.title}。"), 16)
    if meeting.agenda_items:
        p = doc.add_paragraph()
        _font(_run(p, "会议议题：" + "；".join(meeting.agenda_items) + "。"), 16)
    for line in (meeting.minutes or "").splitlines():
        if line.strip():
            p = doc.add_paragraph()
            p.paragraph_format.first_line_indent = Pt(32)
            _font(_run(p, _plain(line.strip())), 16, "黑体" if line.lstrip().startswith("#") else "仿宋_GB2312")
    if meeting.actions:
        p = doc.add_paragraph()
        _font(_run(p, "会议议定事项如下："), 16, "黑体")
        for action in meeting.actions:
            due = f"（牵头单位：{action.owner_org.name}"
            due += f"，完成时限：{action.due_date.year}年{action.due_date.month}月{action.due_date.day}日）" \
                if action.due_date else "）"
            p = doc.add_paragraph()
            p.paragraph_format.first_line_indent = Pt(32)
            _font(_run(p, f"{action.position}. {action.text}{due}"), 16)

    doc.add_paragraph()
    attendees = "、".join(f"{u.organisation.short_name or u.organisation.name}{u.display_name}" for u in meeting.attendees)
    p = doc.add_paragraph()
    _font(_run(p, "出席："), 16, "黑体")
    _font(_run(p, attendees + "。"), 16)
    p = doc.add_paragraph()
    _font(_run(p, "分送："), 16, "黑体")
    _font(_run(p, (meeting.distribution or "财政局、审计局") + "。"), 16)
    _red_rule(p)

    buffer = io.BytesIO()
    doc.save(buffer)
    buffer.seek(0)
    return buffer
