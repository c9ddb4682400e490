"""Joint oversight's API: /api/v1/scorecards (the work assessment's results the token user may
see), /api/v1/teams (joint evaluation teams with members and opinions; forming several at once
with /api/v1/teams/bulk, all or nothing) and /api/v1/packages (the packages for the People's
Congress and their submission)."""
from __future__ import annotations

import sqlalchemy as sa
from pydantic import Field

from portal.core.api import api_error, api_route, api_write, exact, filtered, paged, seconds
from portal.core.permissions import can, load_or_404, visible
from portal.core.schemas import Body, DbId, LocalDateTime, Page, PageQuery, Schema, Year, choice
from portal.oversight import operations
from portal.oversight.models import (
    AssessmentState,
    CongressPackage,
    JointTeam,
    PackageKind,
    PackageState,
    Scorecard,
    SubjectKind,
    TeamRole,
    TeamSide,
    TeamState,
    WorkAssessment,
)
from portal.performance.models import Evaluation, Grade

GradeValue = choice(Grade)
SubjectKindValue = choice(SubjectKind)
StateValue = choice(AssessmentState)


class ScorecardQuery(PageQuery):
    """考核结果筛选 · scorecard filters"""
    year: Year | None = Field(None, description="考核年度 · year assessed")


class ScorecardLineOut(Schema):
    """一项考核指标的得分 · one indicator's score"""
    indicator: str = Field(description="指标名称 · indicator")
    weight: str = Field(description="分值 · weight")
    automatic: bool = Field(description="是否按平台数据自动计分 · scored from the portal's data")
    numerator: int | None = Field(description="符合要求的数量 · count meeting the indicator")
    denominator: int | None = Field(description="考核内容总数（0 为不适用） · count assessed (0: not applicable)")
    score: str | None = Field(description="得分（未评分为空） · score (empty while unscored)")


class ScorecardOut(Schema):
    """一个单位的年度考核结果 · one organisation's scorecard of a year"""
    id: int = Field(description="记录 id · scorecard id")
    year: int = Field(description="考核年度 · year assessed")
    organisation: str = Field(description="考核对象 · organisation assessed")
    subject_kind: SubjectKindValue = Field(description="对象类别 · kind of subject")
    state: StateValue = Field(description="考核状态 · state of the year's assessment")
    total: str | None = Field(description="总分（百分制） · total out of 100")
    rank: int | None = Field(description="名次 · rank")
    grade: GradeValue | None = Field(description="等级 · grade")
    lines: list[ScorecardLineOut] = Field(description="各项指标 · the indicators")


def scorecard_json(card: Scorecard) -> dict:
    return {"id": card.id, "year": card.assessment.year, "organisation": card.organisation.name,
            "subject_kind": card.subject_kind.value, "state": card.assessment.state.value,
            "total": exact(card.total), "rank": card.rank, "grade": card.grade.value if card.grade else None,
            "lines": [{"indicator": line.indicator.name, "weight": exact(line.indicator.weight),
                       "automatic": line.automatic, "numerator": line.numerator, "denominator": line.denominator,
                       "score": exact(line.score)} for line in card.lines]}


@api_route("/scorecards", summary="绩效管理工作考核结果 · scorecards of the departments' performance-management work",
           tags=["oversight"], query=ScorecardQuery, response=Page[ScorecardOut], errors=())
def api_scorecards(user, query: ScorecardQuery):
    stmt = filtered(visible(user, Scorecard).join(WorkAssessment, Scorecard.assessment_id == WorkAssessment.id),
                    query, year=WorkAssessment.year)
    stmt = stmt.order_by(WorkAssessment.year.desc(), Scorecard.subject_kind, Scorecard.rank.is_(None),
                         Scorecard.rank, Scorecard.id)
    return paged(stmt, scorecard_json, query)


# ---- joint evaluation teams (联合评价组) ------------------------------------------------------------

class TeamQuery(PageQuery):
    """评价组筛选 · team filters"""
    year: Year | None = Field(None, description="评价年度 · year evaluated")
    state: choice(TeamState) | None = Field(None, description="状态 · state")


class MemberOut(Schema):
    """评价组成员 · a member"""
    id: int = Field(description="成员 id · member id")
    user_id: int = Field(description="用户 id · user id")
    name: str = Field(description="姓名 · name")
    organisation: str = Field(description="所在单位 · organisation")
    side: choice(TeamSide) = Field(description="来自哪一方 · side")
    role: choice(TeamRole) = Field(description="组内角色 · role (lead, member, observer)")


class OpinionOut(Schema):
    """成员意见 · an opinion on the working papers"""
    member_id: int = Field(description="成员 id · member id")
    name: str = Field(description="提出人 · by")
    side: choice(TeamSide) = Field(description="来自哪一方 · side")
    text: str = Field(description="意见 · opinion")
    created_at: LocalDateTime = Field(description="提出时间 · written at")


class TeamOut(Schema):
    """一个重点评价的联合评价组 · the joint team of one key evaluation"""
    id: int = Field(description="评价组 id · team id")
    evaluation_id: int = Field(description="评价 id · evaluation id")
    project_code: str = Field(description="项目编码 · project code")
    project: str = Field(description="项目名称 · project")
    year: int = Field(description="评价年度 · year evaluated")
    state: choice(TeamState) = Field(description="状态 · state")
    conclusion: str = Field(description="联合评价意见（定稿后） · the joint opinion, once finalised")
    finalised_at: LocalDateTime | None = Field(description="定稿时间 · finalised at")
    members: list[MemberOut] = Field(description="成员 · members")
    opinions: list[OpinionOut] = Field(description="成员意见 · opinions")
    lock_version: int = Field(description="版本号 · version")


def team_json(team: JointTeam) -> dict:
    evaluation = team.evaluation
    return {"id": team.id, "evaluation_id": evaluation.id, "project_code": evaluation.project.code,
            "project": evaluation.project.name, "year": evaluation.year, "state": team.state.value,
            "conclusion": team.conclusion if team.state == TeamState.FINALISED else "",
            "finalised_at": seconds(team.finalised_at),
            "members": [{"id": m.id, "user_id": m.user_id, "name": m.user.display_name,
                         "organisation": m.organisation.name, "side": m.side.value, "role": m.role.value}
                        for m in team.members],
            "opinions": [{"member_id": o.member_id, "name": o.member.user.display_name, "side": o.member.side.value,
                          "text": o.text, "created_at": seconds(o.created_at)} for o in team.opinions],
            "lock_version": team.lock_version}


@api_route("/teams", summary="联合评价组 · joint evaluation teams", tags=["oversight"], query=TeamQuery,
           response=Page[TeamOut], errors=())
def api_teams(user, query: TeamQuery):
    stmt = filtered(visible(user, JointTeam).join(Evaluation, JointTeam.evaluation_id == Evaluation.id),
                    query, year=Evaluation.year, state=JointTeam.state)
    stmt = stmt.options(sa.orm.selectinload(JointTeam.members), sa.orm.selectinload(JointTeam.opinions))
    return paged(stmt.order_by(JointTeam.id), team_json, query)


@api_route("/teams/<int:team_id>", summary="一个联合评价组 · one joint evaluation team", tags=["oversight"],
           response=TeamOut, path={"team_id": "评价组 id · team id"})
def api_team(user, team_id):
    return team_json(load_or_404(JointTeam, team_id, "view", user=user))


class MemberIn(Schema):
    """要加入的成员 · a member to add"""
    user_id: DbId = Field(description="用户 id · user id")
    role: choice(TeamRole) = Field(description="组内角色 · role (lead, member, observer)")


class TeamIn(Schema):
    """一个重点评价的成员 · the members of one key evaluation's team"""
    evaluation_id: DbId = Field(description="重点评价 id · key evaluation id")
    members: list[MemberIn] = Field(min_length=1, max_length=50, description="成员 · members")


class BulkTeams(Body):
    """组建或补充联合评价组 · form or extend joint teams"""
    teams: list[TeamIn] = Field(min_length=1, max_length=200, description="评价组 · teams")


class SavedTeams(Schema):
    """保存后的评价组 · the teams as saved"""
    saved: list[TeamOut] = Field(description="评价组 · teams")


@api_route("/teams/bulk", methods=("POST",), tags=["oversight"], body=BulkTeams, response=SavedTeams,
           summary="批量组建联合评价组（全部成功或全部不保存） · form joint teams in bulk, all or nothing",
           description="每项为一个重点评价（财政评价）及其成员；已在组内且角色相同的成员跳过（可重复提交）。"
                       "任何一项被拒绝时整个请求不保存，422 返回该项的序号与原因。 · One item per key "
                       "evaluation with its members; a member already on the team in the same role is "
                       "skipped (repeatable). A refused item refuses the whole request: 422 with its index.",
           errors=(403, 404))
def api_bulk_teams(user, body: BulkTeams):
    if not can(user, "create", JointTeam):
        return api_error(403, "forbidden", "无权组建联合评价组。 · Forbidden.")
    items = [(t.evaluation_id, [(m.user_id, m.role) for m in t.members]) for t in body.teams]
    teams = api_write(operations.form_teams, items, actor=user)
    return {"saved": [team_json(t) for t in teams]}


# ---- packages for the People's Congress (报送人大) ----------------------------------------------------

class PackageQuery(PageQuery):
    """材料包筛选 · package filters"""
    year: Year | None = Field(None, description="年度 · year")
    kind: choice(PackageKind) | None = Field(None, description="类别 · kind")


class PackageOut(Schema):
    """一个版本的报送人大材料包 · one version of a package for the People's Congress"""
    id: int = Field(description="材料包 id · package id")
    year: int = Field(description="年度 · year")
    kind: choice(PackageKind) = Field(description="类别（随决算 / 随预算草案） · with the final accounts or the budget draft")
    version: int = Field(description="版本 · version")
    state: choice(PackageState) = Field(description="状态 · state")
    built_at: LocalDateTime | None = Field(description="生成时间 · built at")
    sha256: str = Field(description="压缩包 SHA-256 · the zip's SHA-256")
    size: int = Field(description="压缩包大小（字节） · size in bytes")
    files: list[str] = Field(description="包内文件 · files in the zip")
    figures: dict = Field(description="汇总数字 · summary figures")
    submitted_at: LocalDateTime | None = Field(description="报送时间 · submitted at")
    submitted_by: str | None = Field(description="报送人 · submitted by")
    submission_note: str = Field(description="报送说明 · note")


def package_json(package: CongressPackage) -> dict:
    contents = package.contents
    return {"id": package.id, "year": package.year, "kind": package.kind.value, "version": package.version,
            "state": package.state.value, "built_at": seconds(package.built_at), "sha256": package.sha256,
            "size": package.size, "files": list(contents.get("files", [])), "figures": contents.get("figures", {}),
            "submitted_at": seconds(package.submitted_at),
            "submitted_by": package.submitted_by.display_name if package.submitted_by else None,
            "submission_note": package.submission_note}


@api_route("/packages", summary="报送人大材料包 · packages for the People's Congress", tags=["oversight"],
           query=PackageQuery, response=Page[PackageOut], errors=())
def api_packages(user, query: PackageQuery):
    stmt = filtered(visible(user, CongressPackage), query, year=CongressPackage.year, kind=CongressPackage.kind)
    stmt = stmt.order_by(CongressPackage.year.desc(), CongressPackage.kind, CongressPackage.version.desc())
    return paged(stmt, package_json, query)


@api_route("/packages/<int:package_id>", summary="一个报送人大材料包 · one package", tags=["oversight"],
           response=PackageOut, path={"package_id": "材料包 id · package id"})
def api_package(user, package_id):
    return package_json(load_or_404(CongressPackage, package_id, "view", user=user))
