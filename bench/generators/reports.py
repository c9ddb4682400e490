"""Evaluation reports (评价报告): several pages each, stored as PDF attachments linked to completed
finance (then department) evaluations with purpose "report". No files are written: the `text`
column holds the report as text extraction would have left it, and `ctx.data["report_pdfs"]`
keeps each report's bytes (a small one-page PDF cover: the publishing plug-in copies them into
the public file table, as publishing a real report would).

Publishes: ctx.data["reports"] (list of (attachment_id, evaluation_id)), ctx.data["report_pdfs"]
(sha256 -> PDF bytes)."""
from __future__ import annotations

import hashlib

from bench.text import sentences

ORDER = 150
PAGE_CHARS = 900  # roughly one printed A4 page of Chinese body text

OUTLINE = ["一、基本情况", "二、评价工作开展情况", "三、综合评价情况及结论", "四、绩效指标分析",
           "五、主要经验做法与存在问题", "六、有关建议", "七、其他需要说明的问题"]
OPENERS = {
    "一、基本情况": "{name}由{unit}负责实施，年度预算{budget}万元，实际执行{executed}万元。",
    "二、评价工作开展情况": "受{finance}委托，评价组按照前期准备、现场评价、分析评价和撰写报告四个阶段开展{mode}工作。",
    "三、综合评价情况及结论": "经综合评价，该项目得分{score}分，绩效等级为“{grade}”。",
    "四、绩效指标分析": "从决策、过程、产出、效益四个方面对项目绩效进行了逐项分析，预算执行率为{rate}%。",
    "五、主要经验做法与存在问题": "评价发现的主要问题包括：{problems}",
    "六、有关建议": "针对上述问题，评价组提出以下建议：进一步完善{topic}的资金管理办法，强化绩效目标约束。",
    "七、其他需要说明的问题": "本报告所依据的资料由被评价单位提供，被评价单位对资料的真实性、完整性负责。",
}
MODE_LABEL = {"finance": "财政重点绩效评价", "department": "部门绩效评价", "self": "单位绩效自评"}
GRADE_LABEL = {"excellent": "优", "good": "良", "fair": "中", "poor": "差"}


def generate(ctx, conn, scale) -> None:
    rng = ctx.rng("reports")
    corpus = sentences()
    info = ctx.data["evaluation"]
    by_mode = {"finance": [], "department": [], "self": []}
    for eid, (_pid, mode, *_rest) in info.items():
        by_mode[mode].append(eid)
    # finance evaluations first, earlier years first: their reports are public by ctx.now
    chosen = sorted(by_mode["finance"] + by_mode["department"] + by_mode["self"],
                    key=lambda eid: (("finance", "department", "self").index(info[eid][1]),
                                     ctx.data["project"][info[eid][0]][1]))[: scale.reports]
    findings: dict[int, list[str]] = {}
    for _fid, eid, category, _amount in ctx.data["findings"]:
        findings.setdefault(eid, []).append(category)
    finance_name = ctx.data["org"][ctx.data["finance_bureau"]]["name"]
    project = ctx.data["project"]
    org = ctx.data["org"]
    reports = []
    pdfs: dict[str, bytes] = {}

    def rows():
        for eid in chosen:
            pid, mode, score, grade, _agency = info[eid]
            name, year, unit_id, _dept, budget, topic, _sector = project[pid]
            executed_rate = rng.randint(60, 100)
            values = {"name": name, "unit": org[unit_id]["name"], "budget": f"{budget / 10000:.2f}",
                      "executed": f"{budget * executed_rate / 100 / 10000:.2f}", "finance": finance_name,
                      "mode": MODE_LABEL[mode], "score": score, "grade": GRADE_LABEL[grade], "rate": executed_rate,
                      "problems": "；".join(findings.get(eid, ["未发现重大问题"])) + "。", "topic": topic}
            target = PAGE_CHARS * rng.randint(*scale.report_pages)
            per_section = target // len(OUTLINE)
            parts = [f"{name}绩效评价报告", ""]
            for heading in OUTLINE:
                parts.append(heading)
                paragraph = [OPENERS[heading].format(**values)]
                length = len(paragraph[0])
                while length < per_section:
                    sentence = rng.choice(corpus)
                    paragraph.append(sentence)
                    length += len(sentence)
                parts.append("".join(paragraph))
            text = "\n".join(parts)
            pdf = cover_pdf(f"Performance evaluation report No. {eid}", len(text))
            sha = hashlib.sha256(pdf).hexdigest()
            pdfs[sha] = pdf
            aid = ctx.new_id("attachments")
            reports.append((aid, eid))
            yield (aid, sha, f"{name}绩效评价报告.pdf"[:255], "pdf", len(pdf), text, None, None, ctx.now)

    ctx.insert(conn, "attachments", rows(), total=len(chosen), columns=[
        "id", "sha256", "filename", "kind", "size", "text", "document_date", "uploaded_by_id", "uploaded_at"])
    ctx.insert(conn, "attachment_links",
               [(ctx.new_id("attachment_links"), aid, "evaluations", eid, "report") for aid, eid in reports],
               columns=["id", "attachment_id", "record_type", "record_id", "purpose"])
    ctx.data["reports"] = reports
    ctx.data["report_pdfs"] = pdfs


def cover_pdf(title: str, chars: int) -> bytes:
    """A valid one-page PDF (Helvetica, ASCII): the stand-in for a report's file."""
    stream = f"BT /F1 16 Tf 72 760 Td ({title}) Tj 0 -24 Td /F1 11 Tf ({chars} characters of text) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
