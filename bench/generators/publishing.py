"""Publication (信息公开): the snapshots a finance bureau would have published for the generated
projects — goal tables with the budget, self-evaluation and finance-evaluation results and
third-party reports with the final accounts, rectification progress from the ledger — plus the
publication log and the public copies of the report files. A few goal tables carry a correction
(更正, version 2) and a few results were withdrawn (撤回), as happens in practice.

Every payload is what `portal.publishing.snapshots.build()` writes for the same rows (a test
compares them at the tiny scale), serialised by the publisher's own `dumps`. Only what was
published by `ctx.now` is written: results of evaluations completed later stay unpublished.
The search index is not built here (`flask search reindex`, or the search benchmark, builds it).

Publishes: ctx.data["published_projects"] (the number of projects with a current snapshot)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import sqlalchemy as sa

ORDER = 900
CORRECTED_SHARE = 0.005  # goal tables republished with a correction note
WITHDRAWN_SHARE = 0.001  # results withdrawn with a public notice
CORRECTION_NOTES = ["原公开的绩效指标目标值填报有误，现予更正。", "经复核，部分绩效指标的计量单位有误，现予更正。",
                    "根据预算调整情况更正绩效目标。"]
WITHDRAWAL_NOTES = ["该评价结果正在复核，暂予撤回，复核完成后重新公开。", "因评价报告内容需补充完善，现撤回原公开结果。"]


def _money(value) -> str | None:
    return None if value is None else f"{Decimal(value):.2f}"


def _date(value) -> str | None:
    return value.date().isoformat() if value is not None else None


def _target(operator, value, text: str, unit: str) -> str:
    if operator.value == "qualitative":
        return text
    return f"{operator.zh}{value.normalize():f}{unit}" if value is not None else ""


def _read(conn, ctx):
    """Everything the payloads need, by project (plain Core reads with the models' types)."""
    from portal.publishing.snapshots import line_data

    t = ctx.metadata.tables
    projects, orgs, goals, indicators = t["projects"], t["organisations"], t["performance_goals"], t["indicators"]
    evaluations, findings, attachments, links = (t["evaluations"], t["evaluation_findings"], t["attachments"],
                                                 t["attachment_links"])
    unit, dept, agency = orgs.alias("unit"), orgs.alias("dept"), orgs.alias("agency")

    approved = {row.project_id: row for row in conn.execute(
        sa.select(goals.c.id, goals.c.project_id, goals.c.version, goals.c.overall_goal, goals.c.approved_at)
        .where(goals.c.state == "approved").order_by(goals.c.project_id, goals.c.version))}
    done: dict[int, list] = {}
    for row in conn.execute(
            sa.select(evaluations.c.id, evaluations.c.project_id, evaluations.c.mode, evaluations.c.year,
                      evaluations.c.score, evaluations.c.grade, evaluations.c.conclusion, evaluations.c.suggestions,
                      evaluations.c.completed_at, agency.c.name.label("agency"))
            .outerjoin(agency, agency.c.id == evaluations.c.agency_id)
            .where(evaluations.c.state == "completed").order_by(evaluations.c.id)):
        done.setdefault(row.project_id, []).append(row)
    found: dict[int, list] = {}
    for row in conn.execute(sa.select(findings).order_by(findings.c.id)):
        found.setdefault(row.evaluation_id, []).append(row)
    lines_of: dict[int, list] = {}  # a self-evaluation's applicable lines, as the publisher reads them
    el = t["evaluation_lines"]
    for row in conn.execute(sa.select(el, indicators.c.unit.label("indicator_unit"))
                            .outerjoin(indicators, indicators.c.id == el.c.indicator_id)
                            .where(el.c.applicable.is_(True)).order_by(el.c.evaluation_id, el.c.position, el.c.id)):
        indicator = SimpleNamespace(unit=row.indicator_unit) if row.indicator_id is not None else None
        lines_of.setdefault(row.evaluation_id, []).append(line_data(SimpleNamespace(**row._mapping, indicator=indicator)))
    found = {"findings": found, "lines": lines_of}
    reports: dict[int, list] = {}
    for row in conn.execute(
            sa.select(links.c.record_id, attachments.c.filename, attachments.c.sha256, attachments.c.size,
                      attachments.c.text)
            .join(attachments, attachments.c.id == links.c.attachment_id)
            .where(links.c.record_type == "evaluations", attachments.c.kind == "pdf").order_by(attachments.c.id)):
        reports.setdefault(row.record_id, []).append(row)
    header = (sa.select(projects, unit.c.name.label("unit_name"), dept.c.name.label("dept_name"))
              .join(unit, unit.c.id == projects.c.unit_id).join(dept, dept.c.id == projects.c.department_id)
              .order_by(projects.c.id))
    table = (sa.select(goals.c.project_id, indicators)
             .join(goals, goals.c.id == indicators.c.goal_id).where(goals.c.state == "approved")
             .order_by(goals.c.project_id, indicators.c.position))
    return approved, done, found, reports, conn.execute(header), conn.execute(table)


def _header(p) -> dict:
    rate = p.executed / p.annual_budget if p.annual_budget else None
    return {"code": p.code, "name": p.name, "year": p.year, "kind": p.kind.value, "kind_label": p.kind.zh,
            "budget_type": p.budget_type.value, "budget_type_label": p.budget_type.zh, "department": p.dept_name,
            "unit": p.unit_name, "initial_budget": _money(p.initial_budget), "annual_budget": _money(p.annual_budget),
            "executed": _money(p.executed), "execution_rate": None if rate is None else f"{rate:.4f}",
            "description": p.description or ""}


def _goals(goal, rows) -> dict:
    return {"goal_version": goal.version, "overall_goal": goal.overall_goal, "approved_on": _date(goal.approved_at),
            "indicators": [{"level1": i.level1.zh, "level2": i.level2.zh, "name": i.name,
                            "target": _target(i.operator, i.target_value, i.target_text, i.unit), "unit": i.unit,
                            "weight": None if i.weight is None else f"{Decimal(i.weight).normalize():f}"}
                           for i in rows]}


def _evaluation(e, found) -> dict:
    findings = found["findings"].get(e.id, [])
    return {"mode": e.mode.value, "mode_label": e.mode.zh, "year": e.year,
            "score": None if e.score is None else f"{Decimal(e.score):.2f}",
            "grade": e.grade.value if e.grade else None, "grade_label": e.grade.zh if e.grade else "",
            "agency": e.agency or "", "conclusion": e.conclusion or "", "suggestions": e.suggestions or "",
            "completed_on": _date(e.completed_at),
            "findings": [{"category": f.category, "description": f.description, "amount": _money(f.amount),
                          "suggestion": f.suggestion} for f in findings],
            **({"lines": found["lines"].get(e.id, [])} if e.mode.value == "self" else {})}


def _indicator_groups(rows):
    """(project_id, [indicator rows]) in project order, streamed."""
    current, group = None, []
    for row in rows:
        if row.project_id != current:
            if group:
                yield current, group
            current, group = row.project_id, []
        group.append(row)
    if group:
        yield current, group


def generate(ctx, conn, scale) -> None:
    from portal.publishing.models import amount_band
    from portal.publishing.snapshots import dumps, rectification_state

    rng = ctx.rng("publishing")
    problems = ctx.data.get("public_problems", {})
    pdfs = ctx.data.get("report_pdfs", {})
    finance = conn.execute(sa.text("SELECT id, display_name FROM users WHERE username = 'finance'")).first()
    approved, done, found, reports, projects, indicator_rows = _read(conn, ctx)
    groups = _indicator_groups(indicator_rows)
    pending = next(groups, (None, []))
    log: list[tuple] = []
    files: dict[str, tuple] = {}
    published = set()

    def snapshot(p, kind, data, at, *, version=1, current=True, state="published", note="", score=None,
                 grade=None, rectification=None):
        sid = ctx.new_id("pub_snapshots")
        published.add(p.id)
        log.append((ctx.new_id("pub_log"), at, finance.id, finance.display_name,
                    "publish" if version == 1 else "withdraw" if state == "withdrawn" else "correct",
                    sid, p.id, p.name, kind, version, note))
        return (sid, p.id, kind, version, current, state, note, dumps(data), at, p.year, p.code, p.name,
                p.department_id, p.dept_name, p.unit_name, p.kind.value, p.budget_type.value, p.annual_budget or 0,
                amount_band(p.annual_budget), score, grade, rectification)

    def rows():
        nonlocal pending
        for p in projects:
            table = []
            while pending[0] is not None and pending[0] <= p.id:
                if pending[0] == p.id:
                    table = pending[1]
                pending = next(groups, (None, []))
            head = {"project": _header(p)}
            goal = approved.get(p.id)
            if goal is not None:
                at = datetime(p.year, 1, 20, 10, 0) + timedelta(days=rng.randint(0, 25))
                data = {**head, "kind": "goals", **_goals(goal, table)}
                if rng.random() < CORRECTED_SHARE and table:
                    wrong = json.loads(json.dumps(data))
                    wrong["indicators"][0]["target"] += "0"  # the figure as first (wrongly) published
                    yield snapshot(p, "goals", wrong, at, current=False)
                    yield snapshot(p, "goals", data, at + timedelta(days=rng.randint(5, 40)), version=2,
                                   note=rng.choice(CORRECTION_NOTES))
                else:
                    yield snapshot(p, "goals", data, at)
            completed = done.get(p.id, [])
            rect_rows = problems.get(p.id, [])
            rect_state = rectification_state(rect_rows) if rect_rows else None
            for kind, modes in (("self_evaluation", ("self",)), ("finance_evaluation", ("finance", "department"))):
                chosen = [e for e in completed if e.mode.value in modes]
                if not chosen:
                    continue
                e = chosen[-1]
                at = e.completed_at + timedelta(days=rng.randint(5, 30), hours=rng.randint(0, 6))
                if at > ctx.now:
                    continue  # not yet published with the final accounts
                data = {**head, "kind": kind, **_evaluation(e, found)}
                facets = {"score": data["score"], "grade": data["grade"], "rectification": rect_state}
                withdrawn = rng.random() < WITHDRAWN_SHARE
                yield snapshot(p, kind, data, at, current=not withdrawn, **facets)
                if withdrawn:
                    yield snapshot(p, kind, {**head, "kind": kind}, at + timedelta(days=rng.randint(3, 20)),
                                   version=2, state="withdrawn", note=rng.choice(WITHDRAWAL_NOTES))
            cited = [(e, a) for e in completed for a in reports.get(e.id, [])]
            first = min((e.completed_at for e, _a in cited), default=None)
            if cited and first + timedelta(days=30) <= ctx.now:
                for _e, a in cited:
                    files[a.sha256] = (a.sha256, a.filename, len(pdfs.get(a.sha256, b"")), pdfs.get(a.sha256, b""),
                                       a.text or "", first + timedelta(days=30))
                yield snapshot(p, "report", {**head, "kind": "report", "reports": [{
                    "title": a.filename.rsplit(".", 1)[0], "filename": a.filename, "sha256": a.sha256,
                    "size": a.size, "agency": e.agency or "", "mode_label": e.mode.zh,
                    "excerpt": (a.text or "")[:400]} for e, a in cited]}, first + timedelta(days=30))
            if rect_rows and completed:
                at = max(e.completed_at for e in completed) + timedelta(days=rng.randint(60, 120))
                if at <= ctx.now:
                    yield snapshot(p, "rectification", {**head, "kind": "rectification",
                                                        "sections": {"problems": rect_rows}, "state": rect_state,
                                                        "problem_count": len(rect_rows)}, at,
                                   rectification=rect_state)

    ctx.insert(conn, "pub_snapshots", rows(), total=len(approved) * 2, columns=[
        "id", "project_ref", "kind", "version", "current", "state", "note", "data", "published_at", "year",
        "project_code", "project_name", "department_ref", "department_name", "unit_name", "project_kind",
        "budget_type", "amount", "amount_band", "score", "grade", "rectification"])
    ctx.insert(conn, "pub_log", log, columns=[
        "id", "at", "actor_id", "actor_name", "action", "snapshot_id", "project_ref", "project_name", "kind",
        "version", "note"])
    ctx.insert(conn, "pub_files", files.values(), columns=["sha256", "filename", "size", "content", "text",
                                                           "published_at"])
    ctx.data["published_projects"] = len(published)
