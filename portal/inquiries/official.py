"""The official letter layout (信函格式, after GB/T 9704): one description of the parts, used
by the print page and by the Word file so both say the same thing."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass

import sqlalchemy as sa

from portal.extensions import db
from portal.inquiries.models import IssuingCode, Letter


def cn_date(value) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


@dataclass
class Layout:
    header: str
    number: str
    urgency: str
    marking: str
    title: str
    addressee: str
    paragraphs: list[str]
    items: list[str]
    item_files: list[str]  # under each item: the names of its signed-off answers' evidence files
    deadline: str
    closing: str
    sender: str
    date: str
    contact: str
    copies: str


def _plain(markdown: str) -> list[str]:
    """Markdown body → plain paragraphs for paper (formatting marks dropped)."""
    text = re.sub(r"[*_`#>]+", "", markdown or "")
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def _without_salutation(paragraphs: list[str], addressee: str) -> list[str]:
    """The layout writes the salutation (主送机关：) itself: a body that opens with one of its own
    ("临州市审计局：", "审计局:") would print it twice."""
    if paragraphs:
        first = paragraphs[0].strip()
        if (first.endswith(("：", ":")) and len(first) <= 40 and "。" not in first
                and (first.rstrip("：:") in addressee or addressee.endswith(first.rstrip("：:")))):
            return paragraphs[1:]
    return paragraphs


def _item_files(letter: Letter) -> list[str]:
    from portal.inquiries.queries import evidence_by_item

    evidence = evidence_by_item(letter)  # replies signed off only
    listed = []
    for item in letter.items:
        names = [f.filename for _answer, files in evidence.get(item.id, []) for f in files]
        listed.append(f"（答复材料：{'、'.join(names)}）" if names else "")
    return listed


def layout(letter: Letter) -> Layout:
    code = db.session.scalar(sa.select(IssuingCode).where(IssuingCode.organisation_id == letter.sender_org_id))
    header = (code.header if code and code.header else letter.sender_org.name)
    is_reply = "函复" in letter.title or letter.title.startswith("关于") and letter.title.endswith("的复函")
    parts = [f"联系人：{letter.contact_person}" if letter.contact_person else "",
             f"联系电话：{letter.contact_phone}" if letter.contact_phone else ""]
    contact = "（" + "，".join(p for p in parts if p) + "）" if any(parts) else ""
    copies = letter.copies.strip().rstrip("。") if letter.copies else ""
    return Layout(
        header=header,
        number=letter.doc_number,
        urgency=letter.urgency.zh if letter.urgency.value != "normal" else "",
        marking=letter.marking.zh,
        title=letter.title,
        addressee=f"{letter.addressee_org.name}：",
        paragraphs=_without_salutation(_plain(letter.body), letter.addressee_org.name),
        items=[f"{i.position}. {i.description}" for i in letter.items],
        item_files=_item_files(letter),
        deadline=f"请于{cn_date(letter.deadline)}前函复。" if letter.deadline else "",
        closing="特此函复。" if is_reply else "此函。",
        sender=letter.sender_org.name,
        date=cn_date(letter.sent_at or letter.created_at),
        contact=contact,
        copies=f"抄送：{copies}。" if copies else "",
    )


def build_docx(letter: Letter) -> bytes:
    """The letter as a Word file in the same layout (red header, number right under a red
    double line, 仿宋 body)."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    from portal.core.excel import xml_text

    doc_layout = layout(letter)
    red = RGBColor(0xE0, 0x00, 0x00)
    document = Document()
    section = document.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)

    def para(text="", *, size=16, bold=False, color=None, align=None, font="仿宋_GB2312", indent=False):
        p = document.add_paragraph()
        if align is not None:
            p.alignment = align
        if indent:
            p.paragraph_format.first_line_indent = Pt(size * 2)
        run = p.add_run(xml_text(text))  # stored text: what XML forbids is dropped
        run.font.size, run.font.bold, run.font.name = Pt(size), bold, font
        run._element.rPr.rFonts.set(qn("w:eastAsia"), font)
        if color is not None:
            run.font.color.rgb = color
        return p

    para(doc_layout.header, size=30, color=red, align=WD_ALIGN_PARAGRAPH.CENTER, font="方正小标宋简体")
    if doc_layout.urgency:
        para(doc_layout.urgency, size=16, font="黑体")
    number = para(doc_layout.number, align=WD_ALIGN_PARAGRAPH.RIGHT)
    # the red double line under the number (a paragraph border)
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "double"), ("w:sz", "12"), ("w:space", "1"), ("w:color", "E00000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    number._p.get_or_add_pPr().append(borders)
    para(doc_layout.title, size=22, align=WD_ALIGN_PARAGRAPH.CENTER, font="方正小标宋简体")
    para(doc_layout.addressee)
    for text in doc_layout.paragraphs:
        para(text, indent=True)
    for text, files in zip(doc_layout.items, doc_layout.item_files, strict=True):
        para(text, indent=True)
        if files:
            para(files, size=14, indent=True)
    if doc_layout.deadline:
        para(doc_layout.deadline, indent=True)
    para(doc_layout.closing, indent=True)
    para("")
    para(doc_layout.sender, align=WD_ALIGN_PARAGRAPH.RIGHT)
    para(doc_layout.date, align=WD_ALIGN_PARAGRAPH.RIGHT)
    if doc_layout.contact:
        para(doc_layout.contact, indent=True)
    if doc_layout.copies:
        para(doc_layout.copies, size=14)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
