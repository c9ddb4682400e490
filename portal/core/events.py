"""What an audit entry means to a person: one registry of event labels (操作记录 的中文说法).

Audit entries keep stable codes (`problem.list`, `review_report.open_round`); every page that
shows them (a record's 操作记录, the dashboard's 我的最近操作, the audit log) asks `describe(entry)`
for the label, the record's kind, its title and a link to it.

Labels come from two places: the state machines (states as data: each transition's own label,
e.g. `inquiry.approve` → 签发) and EVENTS below for every other write. tests/core/test_events.py
walks every event name the code writes and fails on one without a label here.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _

from portal.core.locale import N_

# Every audit event that is not a state-machine transition.
EVENTS: dict[str, str] = {
    # accounts and the shell
    "user.create": N_("新建用户"),
    "user.update": N_("修改用户"),
    "user.activate": N_("启用账号"),
    "user.deactivate": N_("停用账号"),
    "user.login": N_("登录"),
    "user.login_failed": N_("登录失败"),
    "user.logout": N_("退出登录"),
    "user.change_password": N_("修改密码"),
    "user.reset_password": N_("重置密码"),
    "user.roles": N_("分配角色"),
    "user.sessions_ended": N_("结束全部会话"),
    "user.totp_enabled": N_("启用双因素认证"),
    "user.totp_disabled": N_("关闭双因素认证"),
    "user.totp_reset": N_("重置双因素认证"),
    "user.second_factor_failed": N_("动态口令错误"),
    "user.recovery_code_used": N_("使用恢复码"),
    "user.recovery_codes_renewed": N_("更新恢复码"),
    "organisation.create": N_("新建单位"),
    "organisation.update": N_("修改单位"),
    "login_limit.clear": N_("清除登录限制"),
    "api_token.create": N_("创建 API 令牌"),
    "api_token.revoke": N_("吊销 API 令牌"),
    "attachment.add": N_("上传附件"),
    "audit.purge": N_("清理过期日志"),
    "reminder.sent": N_("自动提醒"),
    # performance
    "project.create": N_("新建项目"),
    "project.update": N_("修改项目"),
    "project.import": N_("导入项目"),
    "project.stop": N_("终止项目"),
    "goal.create": N_("填报绩效目标"),
    "goal.update": N_("修改绩效目标"),
    "goal.revise": N_("调整绩效目标"),
    "goal.import": N_("导入绩效目标"),
    "goal.api": N_("通过接口报送绩效目标"),
    "goal.indicator_add": N_("新增指标"),
    "goal.indicator_edit": N_("修改指标"),
    "goal.indicator_delete": N_("删除指标"),
    "goal.indicator_move": N_("调整指标顺序"),
    "goal.copy_last_year": N_("复制上年指标"),
    "assessment.copy_goal": N_("评估支持后复制绩效目标"),
    "monitoring.report": N_("填报监控情况"),
    "evaluation.create": N_("新建绩效评价"),
    "evaluation.score": N_("评分"),
    "evaluation.agency": N_("指定第三方机构"),
    "evaluation.complete": N_("完成评价"),
    "evaluation.finding_add": N_("记录评价发现的问题"),
    "library.add": N_("新增库指标"),
    "library.update": N_("修改库指标"),
    "library.edit": N_("修改共享资料"),
    "library.share": N_("共享资料"),
    "settings.monitoring_thresholds": N_("修改监控预警阈值"),
    "settings.framework_weights": N_("修改评价指标体系权重"),
    "settings.result_rules": N_("修改结果应用规则"),
    # inquiries
    "inquiry.create": N_("起草函件"),
    "inquiry.edit": N_("修改函件"),
    "inquiry.reply": N_("答复事项"),
    "inquiry.reply_draft": N_("起草复函"),
    "inquiry.remind": N_("催办"),
    "inquiry.extend": N_("延长答复期限"),
    "inquiry.issuing_code": N_("设置发文字号"),
    "inquiry.holiday": N_("维护节假日"),
    "inquiry.holiday_delete": N_("删除节假日"),
    # reviews
    "agency.draw": N_("抽取第三方机构"),
    "agency.pool_add": N_("机构入库"),
    "agency.pool_remove": N_("机构出库"),
    "agency.profile": N_("修改机构档案"),
    "review_rubric.create": N_("新建评审细则"),
    "review_rubric.edit": N_("修改评审细则"),
    "review_report.create": N_("登记评价报告"),
    "review_report.version": N_("上传报告新版本"),
    "review_report.edit": N_("修改报告信息"),
    "review_report.agency": N_("指定报告机构"),
    "review_report.decide": N_("作出同审结论"),
    "review_round.open": N_("开启评审轮次"),
    "review_assignment.create": N_("指派评审人"),
    "review_assignment.save": N_("暂存评审意见"),
    # ledger
    "problem.list": N_("挂账"),
    "problem.edit": N_("修改问题"),
    "problem.assign": N_("指定整改责任人"),
    "problem.deadline": N_("设定整改时限"),
    "problem.remind": N_("催办"),
    "problem.progress": N_("报送整改进展"),
    "problem.signoff": N_("确认销号"),
    "problem.extension_request": N_("申请延期"),
    "problem.extension_approve": N_("同意延期"),
    "problem.extension_refuse": N_("不同意延期"),
    "problem.milestone": N_("添加阶段目标"),
    "problem.milestone_done": N_("阶段目标完成"),
    # conference
    "conference.meeting.create": N_("新建会议"),
    "conference.meeting.edit": N_("修改会议"),
    "conference.meeting.attach": N_("上传会议材料"),
    "conference.action.create": N_("新增议定事项"),
    "conference.action.edit": N_("修改议定事项"),
    "conference.action.progress": N_("报送事项进展"),
    "conference.action.link": N_("关联记录"),
    "conference.action.unlink": N_("取消关联"),
    "plan.add": N_("提交工作计划"),
    "plan.edit": N_("修改工作计划"),
    "plan.delete": N_("删除工作计划"),
    # publishing
    "publishing.publish": N_("公开"),
    "publishing.correct": N_("更正"),
    "publishing.withdraw": N_("撤回公开"),
    # ex-ante assessment (its transitions label themselves: assessment.submit, .arrange, .conclude_*)
    "assessment.apply": N_("申报事前绩效评估"),
    "assessment.edit": N_("修改事前评估申请"),
    "assessment.attach": N_("上传申请附件"),
    "assessment.rules": N_("修改事前评估规则"),
    "assessment_sheet.save": N_("暂存事前评估评分"),
    "assessment_sheet.submit": N_("提交事前评估评分"),
    # budget-execution import
    "monitoring.execution_import": N_("导入预算执行数（监控）"),
    "project.execution_import": N_("导入全年执行数"),
    # joint oversight (portal/oversight): teams, the work assessment, packages for the congress
    "team.form": N_("组建联合评价组"),
    "team.add_member": N_("加入评价组成员"),
    "team.remove_member": N_("移出评价组成员"),
    "team.opinion": N_("提出评价意见"),
    "team.finalise": N_("联合评价定稿"),
    "assessment.create": N_("建立年度考核"),
    "assessment.compute": N_("计算考核得分"),
    "assessment.configure": N_("修改考核指标体系"),
    "assessment.publish": N_("印发考核通报"),
    "scorecard.compute": N_("计算单位考核得分"),
    "scorecard.score": N_("财政评分"),
    "package.start": N_("开始生成报送材料"),
    "package.build": N_("生成报送材料"),
    "package.submit": N_("报送人大"),
}

# What a record is, by its table: its kind and where it is read (a child record links to the
# page of the record it belongs to).
@dataclass(frozen=True)
class Kind:
    label: str
    link: Callable | None = None  # link(record) -> url or None
    title: Callable = str        # title(record) -> text


def _url(endpoint: str, **kwargs) -> str:
    from flask import url_for

    return url_for(endpoint, **kwargs)


KINDS: dict[str, Kind] = {
    "problems": Kind(N_("问题"), lambda r: _url("ledger.detail", problem_id=r.id)),
    "problem_updates": Kind(N_("整改进展"), lambda r: _url("ledger.detail", problem_id=r.problem_id), lambda r: str(r.problem)),
    "problem_extensions": Kind(N_("延期申请"), lambda r: _url("ledger.detail", problem_id=r.problem_id), lambda r: str(r.problem)),
    "problem_signoffs": Kind(N_("销号确认"), lambda r: _url("ledger.detail", problem_id=r.problem_id), lambda r: str(r.problem)),
    "problem_milestones": Kind(N_("阶段目标"), lambda r: _url("ledger.detail", problem_id=r.problem_id), lambda r: str(r.problem)),
    "inquiry_letters": Kind(N_("函件"), lambda r: _url("inquiries.detail", letter_id=r.id)),
    "inquiry_items": Kind(N_("函询事项"), lambda r: _url("inquiries.detail", letter_id=r.letter_id), lambda r: str(r.letter)),
    "inquiry_replies": Kind(N_("复函"), lambda r: _url("inquiries.detail", letter_id=r.letter_id), lambda r: str(r.letter)),
    "inquiry_reply_answers": Kind(N_("事项答复"), lambda r: _url("inquiries.detail", letter_id=r.reply.letter_id),
                                  lambda r: str(r.reply.letter)),
    "projects": Kind(N_("项目"), lambda r: _url("performance.project", project_id=r.id)),
    "performance_goals": Kind(N_("绩效目标"), lambda r: _url("performance.goal", project_id=r.project_id), lambda r: str(r.project)),
    "indicators": Kind(N_("指标"), None, lambda r: r.name),
    "evaluations": Kind(N_("绩效评价"), lambda r: _url("performance.evaluation", evaluation_id=r.id), lambda r: str(r.project)),
    "evaluation_findings": Kind(N_("评价发现的问题"), lambda r: _url("performance.evaluation", evaluation_id=r.evaluation_id), lambda r: str(r.evaluation.project)),
    "monitoring_reports": Kind(N_("监控填报"), lambda r: _url("performance.monitoring", project_id=r.project_id), lambda r: str(r.project)),
    "indicator_library": Kind(N_("指标库"), None, lambda r: r.name),
    "performance_settings": Kind(N_("绩效规则设置"), lambda r: _url("performance.performance_settings"), lambda r: ""),
    "review_reports": Kind(N_("评价报告"), lambda r: _url("reviews.report", report_id=r.id)),
    "assessments": Kind(N_("事前绩效评估"), lambda r: _url("assessments.detail", assessment_id=r.id), lambda r: str(r)),
    "assessment_sheets": Kind(N_("事前评估评分表"), lambda r: _url("assessments.sheet", sheet_id=r.id),
                              lambda r: str(r.round.assessment)),
    "review_report_versions": Kind(N_("报告版本"), lambda r: _url("reviews.report", report_id=r.report_id), lambda r: str(r.report)),
    "review_rounds": Kind(N_("评审轮次"), lambda r: _url("reviews.round_view", round_id=r.id), lambda r: str(r.report)),
    "review_assignments": Kind(N_("评审任务"), lambda r: _url("reviews.round_view", round_id=r.round_id), lambda r: str(r.round.report)),
    "review_rubrics": Kind(N_("评审细则"), None, lambda r: r.name),
    "agency_draws": Kind(N_("机构抽取"), lambda r: _url("reviews.draw_record", draw_id=r.id), lambda r: ""),
    "agency_profiles": Kind(N_("机构档案"), None, lambda r: str(r.organisation)),
    "conference_meetings": Kind(N_("会议"), lambda r: _url("conference.meeting_detail", meeting_id=r.id)),
    "conference_actions": Kind(N_("议定事项"), lambda r: _url("conference.action_detail", action_id=r.id)),
    "conference_action_notes": Kind(N_("事项进展"), lambda r: _url("conference.action_detail", action_id=r.action_id), lambda r: str(r.action)),
    "library_documents": Kind(N_("共享资料"), lambda r: _url("conference.document_detail", document_id=r.id)),
    "conference_plan_items": Kind(N_("工作计划"), lambda r: _url("conference.plans")),
    "pub_snapshots": Kind(N_("公开快照"), lambda r: _url("publishing.published"), lambda r: r.project_name),
    "pub_log": Kind(N_("发布日志"), lambda r: _url("publishing.log"), lambda r: r.project_name),
    "users": Kind(N_("用户"), lambda r: _url("admin.edit_user", user_id=r.id)),
    "organisations": Kind(N_("单位"), None),
    "api_tokens": Kind(N_("API 令牌"), lambda r: _url("core.tokens"), lambda r: r.name),
    "attachments": Kind(N_("附件"), None, lambda r: r.filename),
    "joint_teams": Kind(N_("联合评价组"), lambda r: _url("oversight.team", evaluation_id=r.evaluation_id),
                        lambda r: str(r.evaluation.project)),
    "work_assessments": Kind(N_("工作考核"), lambda r: _url("oversight.assessment", year=r.year),
                             lambda r: f"{r.year}"),
    "scorecards": Kind(N_("考核得分"), lambda r: _url("oversight.scorecard", scorecard_id=r.id),
                       lambda r: str(r.organisation)),
    "congress_packages": Kind(N_("报送人大材料"), lambda r: _url("oversight.package", package_id=r.id),
                              lambda r: f"{r.year} {r.kind.label}"),
}


def machine_labels() -> dict[str, str]:
    """Every transition of every state machine, as `<machine>.<action>` → its own label."""
    from portal.core.states import MACHINES

    return {f"{m.name}.{t.action}": t.label for m in MACHINES.values() for t in m.transitions}


def all_labels() -> dict[str, str]:
    return {**EVENTS, **machine_labels()}


def label(action: str) -> str:
    """The event in words (Chinese, or English when the page is in English); the code itself
    for an event no one registered (the test keeps that from happening)."""
    text = EVENTS.get(action) or machine_labels().get(action)
    return _(text) if text else action


@dataclass
class Described:
    label: str
    kind: str
    title: str
    url: str | None


def _model_of(record_type: str):
    from portal.extensions import db

    for mapper in db.Model.registry.mappers:
        if getattr(mapper.class_, "__tablename__", None) == record_type:
            return mapper.class_
    return None


def describe(entry) -> Described:
    """The entry's event label, the kind and title of its record and a link to the record's page
    (None when the record is gone or has no page)."""
    from portal.extensions import db

    kind = KINDS.get(entry.record_type)
    title, url = "", None
    model = _model_of(entry.record_type)
    record = None
    if model is not None and str(entry.record_id).isdigit() and int(entry.record_id) < 2 ** 31:
        record = db.session.get(model, int(entry.record_id))
    if record is not None and kind is not None:
        title = kind.title(record) or ""
        url = kind.link(record) if kind.link else None
    return Described(label=label(entry.action), kind=_(kind.label) if kind else "", title=title, url=url)
