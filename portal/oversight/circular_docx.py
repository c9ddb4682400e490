"""The circular (通报) of a year's work assessment as a Word file in the official layout
(GB/T 9704, as the minutes and letters): red issuing header, the number under it above a red rule,
title, addressee, body, the ranking table per kind of subject, the issuing body and date, 抄送.
A draft (not yet circulated) is marked 征求意见稿 and carries no number."""
from __future__ import annotations

import io

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from portal.conference.minutes_docx import RED, _font, _red_rule, _run
from portal.core import clock
from portal.core.formatting import cn_date
from portal.core.roles import province_scale
from portal.oversight.models import AssessmentState, SubjectKind


def _paragraph(doc, text: str, *, size: float = 16, name: str = "仿宋_GB2312", indent: bool = True,
               align=None, bold: bool = False):
    p = doc.add_paragraph()
    if indent:
        p.paragraph_format.first_line_indent = Pt(size * 2)
    if align is not None:
        p.alignment = align
    _font(_run(p, text), size, name, bold=bold)
    return p


def circular_document(assessment, cards, *, issuer: str) -> io.BytesIO:
    doc = Document()
    draft = assessment.state != AssessmentState.PUBLISHED
    header = doc.add_paragraph()
    header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(_run(header, f"{issuer}文件"), 26, "方正小标宋简体", bold=True, color=RED)
    number = doc.add_paragraph()
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(_run(number, "征求意见稿" if draft else assessment.circular_number), 16)
    _red_rule(number)

    _paragraph(doc, f"关于{assessment.year}年度预算绩效管理工作考核结果的通报", size=22, name="方正小标宋简体",
               indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph(doc, "各部门、各单位：", indent=False)
    by_kind = {kind: [c for c in cards if c.subject_kind == kind] for kind in SubjectKind}
    counted = sum(len(v) for v in by_kind.values())
    grades = {}
    for card in cards:
        if card.grade is not None:
            grades[card.grade.label] = grades.get(card.grade.label, 0) + 1
    spread = "，".join(f"{label}{n}个" for label, n in grades.items())
    names = "、".join(i.name for i in assessment.indicators)
    _paragraph(doc, f"根据预算绩效管理工作考核办法，我局对{assessment.year}年度{counted}个考核对象的预算绩效管理工作"
                    f"进行了考核。考核指标包括{names}，其中可由系统数据计算的指标按平台数据自动计分（数据截至"
                    f"{cn_date(assessment.as_of)}），其余由财政部门评分。考核结果为：{spread or '无'}。现将考核结果通报如下。")
    section = 0
    for kind, items in by_kind.items():
        if not items:
            continue
        section += 1
        _paragraph(doc, f"{'一二三'[section - 1]}、{kind.label}考核结果", name="黑体")
        table = doc.add_table(rows=1, cols=4 + len(assessment.indicators))
        table.style = "Table Grid"
        heads = ["名次", "单位", *[f"{i.name}（{i.weight.normalize():f}）" for i in assessment.indicators], "总分", "等级"]
        for cell, text in zip(table.rows[0].cells, heads, strict=True):
            _font(_run(cell.paragraphs[0], text), 10.5, "黑体")
        for card in items:
            row = table.add_row().cells
            scores = {line.indicator_id: line for line in card.lines}
            values = [str(card.rank or "—"), card.organisation.name]
            for indicator in assessment.indicators:
                line = scores.get(indicator.id)
                values.append("不适用" if line is not None and not line.applicable
                              else (f"{line.score:.2f}" if line is not None and line.score is not None else "—"))
            values += [f"{card.total:.2f}" if card.total is not None else "—", card.grade.label if card.grade else "—"]
            for cell, text in zip(row, values, strict=True):
                _font(_run(cell.paragraphs[0], text), 10.5)
    _paragraph(doc, "考核结果纳入政府绩效考核。请各部门对照考核发现的问题认真整改，进一步提升预算绩效管理水平。")
    doc.add_paragraph()
    _paragraph(doc, issuer, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _paragraph(doc, cn_date(assessment.published_at or clock.now()), indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    doc.add_paragraph()
    copied = ("省政府办公厅，省人大常委会预算工作委员会，省审计厅" if province_scale()
              else "市政府办公室，市人大常委会预算工作委员会，市审计局")
    cc = _paragraph(doc, f"抄送：{copied}，联席会议办公室。", size=14, indent=False)
    _red_rule(cc)
    buffer = io.BytesIO()
    doc.save(buffer)
    buffer.seek(0)
    return buffer
