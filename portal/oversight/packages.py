"""The packages for the People's Congress (报送人大): assembled from what exists, as one zip.

With the final accounts (随决算): every department self-evaluation report (单位自评、部门评价) and
every key evaluation report (财政重点评价: the files on the evaluation and the accepted version
of its co-reviewed report) of the year, the summary tables (projects, amounts, scores, grades,
result application, 整改率), an index (索引.xlsx) and the printable summary (汇总说明.html).
With the budget draft (随预算草案): the goals of the year, one workbook per department, the index
and the summary. Built on the worker (`oversight.package`) with progress; a built version is
submitted once (who, when, which version) and the congress reads the submitted ones."""
from __future__ import annotations

import hashlib
import json
import re
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.accounts.models import Role, User, UserRole
from portal.core import background, clock
from portal.core.attachments import Attachment, AttachmentLink
from portal.core.audit import record_change
from portal.core.errors import DomainError, NotPermitted
from portal.core.excel import write_xlsx
from portal.core.locale import N_
from portal.core.notifications import notify
from portal.core.parsing import clean_text
from portal.core.permissions import can
from portal.core.states import StateMachine, Transition
from portal.core.versions import expect_version
from portal.extensions import db
from portal.oversight import queries
from portal.oversight.models import CongressPackage, PackageKind, PackageState
from portal.performance.models import Evaluation, EvaluationMode, GoalState, PerformanceGoal, Project

PACKAGE = StateMachine("congress_package", [
    Transition("submit", {PackageState.READY}, PackageState.SUBMITTED, who=lambda u, p: can(u, "submit", p),
               label=N_("报送人大")),
])

SELF_REPORTS, KEY_REPORTS, TABLES, GOALS = "01_部门自评报告", "02_重点评价报告", "03_汇总表", "01_绩效目标"


def packages_dir() -> Path:
    path = Path(current_app.config["INSTANCE_DIR"]) / "packages"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _part(text: str) -> str:
    """A file or folder name inside the zip: no separators or characters Windows refuses."""
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", str(text or "")).strip()[:80] or "_"


@dataclass
class Document:
    category: str
    project: Project
    attachment: Attachment

    @property
    def path(self) -> str:
        folder = SELF_REPORTS if self.category == "self" else KEY_REPORTS
        return (f"{folder}/{_part(self.project.department.name)}/"
                f"{_part(self.project.code)}_{self.attachment.id}_{_part(self.attachment.filename)}")


def documents(year: int) -> list[Document]:
    """Every report file of the year's evaluations: self and department evaluations' reports,
    key evaluations' reports (on the evaluation, and the accepted co-reviewed version)."""
    from portal.reviews.models import Report, ReportState

    rows = db.session.execute(
        sa.select(Evaluation, Attachment).join(Project, Evaluation.project_id == Project.id)
        .join(AttachmentLink, sa.and_(AttachmentLink.record_type == Evaluation.__tablename__,
                                      AttachmentLink.record_id == Evaluation.id, AttachmentLink.purpose == "report"))
        .join(Attachment, Attachment.id == AttachmentLink.attachment_id)
        .where(Evaluation.year == year).order_by(Project.department_id, Project.code, Attachment.id)).all()
    found, seen = [], set()
    for evaluation, attachment in rows:
        category = "key" if evaluation.mode == EvaluationMode.FINANCE else "self"
        if (category, attachment.id) not in seen:
            seen.add((category, attachment.id))
            found.append(Document(category, evaluation.project, attachment))
    accepted = db.session.scalars(sa.select(Report).join(Evaluation, Report.evaluation_id == Evaluation.id)
                                  .where(Evaluation.year == year, Report.state == ReportState.ACCEPTED))
    for report in accepted:
        version = report.latest_version
        if version is not None and ("key", version.attachment_id) not in seen:
            seen.add(("key", version.attachment_id))
            found.append(Document("key", report.evaluation.project, version.attachment))
    return found


CATEGORY_LABELS = {"self": _l("部门自评报告"), "key": _l("重点评价报告"), "table": _l("汇总表"), "goals": _l("绩效目标表")}


def _summary_tables(year: int, actor) -> dict[str, tuple[list, list]]:
    from portal.ledger.queries import rates
    from portal.performance.results import result_rows

    results = result_rows(actor, year)
    projects = [(_("项目编码"), _("项目名称"), _("主管部门"), _("责任单位"), _("全年预算数（元）"), _("全年执行数（元）"),
                 _("评价方式"), _("得分"), _("等级"), _("结果应用建议"), _("建议调整金额（元）")),
                [(r.project.code, r.project.name, r.project.department.name, r.project.unit.name,
                  r.project.annual_budget, r.project.executed, r.basis_label, r.evaluation.score,
                  r.grade.label if r.grade else "", r.text, r.amount) for r in results]]
    rectification = [(_("主管部门"), _("问题数"), _("已销号"), _("整改率（按数量）"), _("到期问题数"), _("到期整改率（按数量）"),
                      _("问题金额（元）"), _("整改金额（元）")),
                     [(r.label, r.total, r.closed, r.count_rate, r.due, r.due_count_rate, r.amount, r.rectified)
                      for r in rates(actor, "department", year=year)]]
    return {f"{TABLES}/项目评价与结果应用汇总表.xlsx": projects, f"{TABLES}/问题整改汇总表.xlsx": rectification}


def _goal_tables(year: int) -> dict[str, tuple[list, list]]:
    headers = (_("项目编码"), _("项目名称"), _("责任单位"), _("全年预算数（元）"), _("总体目标"), _("一级指标"), _("二级指标"),
               _("三级指标"), _("指标值"), _("分值"))
    by_department: dict[str, list] = {}
    goals = db.session.scalars(sa.select(PerformanceGoal).join(Project)
                               .where(Project.year == year, PerformanceGoal.state == GoalState.APPROVED)
                               .order_by(Project.department_id, Project.code))
    for goal in goals:
        project = goal.project
        rows = by_department.setdefault(f"{GOALS}/{_part(project.department.name)}.xlsx", [])
        for indicator in goal.indicators or [None]:
            rows.append((project.code, project.name, project.unit.name, project.annual_budget, goal.overall_goal,
                         indicator.level1.label if indicator else "", indicator.level2.label if indicator else "",
                         indicator.name if indicator else "", indicator.target_display if indicator else "",
                         indicator.weight if indicator else ""))
    return {path: (headers, rows) for path, rows in by_department.items()}


def summary_figures(year: int, kind: PackageKind, docs: list[Document], tables: dict) -> dict:
    return {"year": year, "kind": kind.value, "self_reports": sum(d.category == "self" for d in docs),
            "key_reports": sum(d.category == "key" for d in docs),
            "departments": len({d.project.department_id for d in docs}) if docs else 0,
            "tables": len(tables), "rows": sum(len(rows) for _h, rows in tables.values())}


def build(package: CongressPackage, actor, progress=lambda done, total=None: None) -> CongressPackage:
    """Write the zip of `package` (documents, tables, index, summary) and mark it ready."""
    year, kind = package.year, package.kind
    docs = documents(year) if kind == PackageKind.FINAL_ACCOUNTS else []
    tables = _summary_tables(year, actor) if kind == PackageKind.FINAL_ACCOUNTS else _goal_tables(year)
    total = len(docs) + len(tables) + 2
    progress(0, total)
    name = f"{year}-{kind.value}-v{package.version}-{uuid.uuid4().hex[:8]}.zip"
    path = packages_dir() / name
    index = []
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for n, doc in enumerate(docs, start=1):
            archive.write(doc.attachment.path, doc.path)
            index.append((str(CATEGORY_LABELS[doc.category]), doc.project.department.name, doc.project.code,
                          doc.project.name, doc.attachment.filename, doc.path, doc.attachment.size,
                          doc.attachment.sha256))
            progress(n)
        for m, (inner, (headers, rows)) in enumerate(tables.items(), start=1):
            temp = write_xlsx(list(headers), rows, sheet_title=Path(inner).stem)
            archive.write(temp, inner)
            Path(temp).unlink(missing_ok=True)
            index.append((str(CATEGORY_LABELS["table" if kind == PackageKind.FINAL_ACCOUNTS else "goals"]), "", "", "",
                          Path(inner).name, inner, "", ""))
            progress(len(docs) + m)
        figures = summary_figures(year, kind, docs, tables)
        package.manifest = json.dumps({"figures": figures, "files": [row[5] for row in index]}, ensure_ascii=False)
        from portal.core.links import link_context

        with link_context():  # seeding and the worker render outside a request
            summary = render_template("portal/oversight/package_summary_file.html", package=package,
                                      figures=figures, index=index, files=None)
        archive.writestr("汇总说明.html", summary)
        temp = write_xlsx([_("序号"), _("类别"), _("主管部门"), _("项目编码"), _("项目名称"), _("文件名"), _("包内路径"),
                           _("大小（字节）"), _("SHA-256")],
                          [(i, *row) for i, row in enumerate(index, start=1)], sheet_title=_("材料索引"))
        archive.write(temp, "索引.xlsx")
        Path(temp).unlink(missing_ok=True)
    progress(total)
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    package.file_name, package.sha256, package.size = name, digest.hexdigest(), path.stat().st_size
    package.state, package.built_at = PackageState.READY, clock.now()
    record_change(actor, "package.build", package, before={"state": PackageState.BUILDING.value},
                  after={"state": PackageState.READY.value, "sha256": package.sha256, "files": len(index) + 2})
    return package


def start(year: int, kind, *, actor) -> CongressPackage:
    """Finance starts a new version of the year's package; the worker builds it."""
    if not can(actor, "build", CongressPackage):
        raise NotPermitted(_("只有财政绩效管理人员可以生成报送人大材料。"))
    kind = PackageKind.coerce(kind) if str(kind) in [k.value for k in PackageKind] else None
    if kind is None:
        raise DomainError(_("请选择报送材料的类别。"), field="kind")
    if not 2000 <= int(year) <= 2100:
        raise DomainError(_("年度不合理。"), field="year")
    package = CongressPackage(year=int(year), kind=kind, version=queries.next_version(int(year), kind),
                              built_by_id=actor.id, created_at=clock.now())
    db.session.add(package)
    db.session.flush()
    job = background.start("oversight.package", actor=actor, payload={"package_id": package.id})
    package.job_id = job.id
    record_change(actor, "package.start", package, after={"year": package.year, "kind": kind.value,
                                                          "version": package.version})
    return package


@background.runner("oversight.package", label=_l("报送人大材料"))
def run(job, payload, progress) -> background.Outcome:
    package = db.session.get(CongressPackage, int(payload["package_id"]))
    if package is None or package.state != PackageState.BUILDING:
        raise DomainError(_("该材料包不在生成中。"))
    actor = db.session.get(User, job.user_id)
    build(package, actor, progress)
    return background.Outcome(message=_("材料包已生成：%(n)s 份文件。", n=len(package.contents.get("files", []))),
                              link=queries.link("oversight.package", package_id=package.id))


def submit(package: CongressPackage, *, actor, note: str = "", version=None) -> CongressPackage:
    """报送: who, when and which version; the congress's observers are told."""
    if version is not None:
        expect_version(package, version)
    PACKAGE.apply(package, "submit", actor=actor, audit=False)
    package.submitted_by_id, package.submitted_at = actor.id, clock.now()
    package.submission_note = clean_text(note or "").strip()[:2000]
    record_change(actor, "package.submit", package, before={"state": PackageState.READY.value},
                  after={"state": PackageState.SUBMITTED.value, "version": package.version,
                         "sha256": package.sha256, "note": package.submission_note})
    observers = db.session.scalars(sa.select(User).join(UserRole).where(UserRole.role == Role.OBSERVER)).all()
    notify(observers,
           _("财政局报送了%(year)s年度%(kind)s（第%(v)s版）", year=package.year, kind=package.kind.label, v=package.version),
           link=queries.link("oversight.package", package_id=package.id))
    return package
