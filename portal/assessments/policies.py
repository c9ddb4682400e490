"""Who may see and change ex-ante assessments (reach: the `assessment` rows of portal/core/reach.py).

Bureau staff, the conference and the congress observer read every assessment; finance
performance officers arrange and conclude them; a unit liaison applies for its own and its
subordinate units' projects; a commissioned agency reads and scores the assessments it was
commissioned for, a review expert those they were assigned to."""
import sqlalchemy as sa

from portal.accounts.models import Role
from portal.assessments.models import Assessment, AssessmentRound, ScoreSheet
from portal.core import reach
from portal.core.permissions import org_subtree_ids, policy, scope

KIND = "assessment"


def is_finance_officer(user) -> bool:
    return Role.FINANCE_OFFICER in reach.effective_roles(user)


def _commissioned(user, assessment) -> bool:
    return any(r.agency_id == user.organisation_id for r in assessment.rounds)


def _assigned(user, assessment) -> bool:
    return any(s.assessor_id == user.id for r in assessment.rounds for s in r.sheets)


def in_reach(user, assessment, mode: str = reach.READ) -> bool:
    found = reach.scopes(user, KIND, mode)
    if reach.ALL in found:
        return True
    if reach.SUBTREE in found and assessment.unit_id in org_subtree_ids(user.organisation_id):
        return True
    if reach.OWN_ORG in found and _commissioned(user, assessment):
        return True
    return reach.ASSIGNED in found and _assigned(user, assessment)


@policy(Assessment)
def assessment_policy(user, action, assessment) -> bool:
    if isinstance(assessment, type):
        if action == "view":
            return reach.reaches(user, KIND)
        if action == "create":  # a unit applies; finance may file on a unit's behalf
            return bool(reach.scopes(user, KIND, reach.WRITE) & {reach.ALL, reach.SUBTREE})
        if action == "overview":  # the figures across departments
            return reach.reaches_all(user, KIND)
        return reach.reaches_all(user, KIND, reach.WRITE)  # manage: arrange, conclude, publish figures
    if action == "view":
        return in_reach(user, assessment)
    if action == "edit":  # the application (its state is checked by the operations)
        found = reach.scopes(user, KIND, reach.WRITE)
        return reach.ALL in found or (reach.SUBTREE in found
                                      and assessment.unit_id in org_subtree_ids(user.organisation_id))
    if action == "manage":
        return reach.reaches_all(user, KIND, reach.WRITE)
    return False


@scope(Assessment)
def visible_assessments(user, stmt):
    found = reach.scopes(user, KIND)
    if reach.ALL in found:
        return stmt
    conditions = []
    if reach.SUBTREE in found:
        conditions.append(Assessment.unit_id.in_(org_subtree_ids(user.organisation_id)))
    if reach.OWN_ORG in found:
        conditions.append(Assessment.id.in_(sa.select(AssessmentRound.assessment_id)
                                            .where(AssessmentRound.agency_id == user.organisation_id)))
    if reach.ASSIGNED in found:
        conditions.append(Assessment.id.in_(sa.select(AssessmentRound.assessment_id).join(ScoreSheet)
                                            .where(ScoreSheet.assessor_id == user.id)))
    return stmt.where(sa.or_(*conditions)) if conditions else stmt.where(sa.false())


def own_sheet(user, sheet) -> bool:
    """The assessor's own sheet, or the commissioned agency's sheet for its staff."""
    if sheet.assessor_id is not None:
        return sheet.assessor_id == user.id and reach.reaches(user, KIND, reach.WRITE)
    return (sheet.agency_id == user.organisation_id and reach.has_scope(user, KIND, reach.OWN_ORG, reach.WRITE))


@policy(ScoreSheet)
def sheet_policy(user, action, sheet) -> bool:
    if isinstance(sheet, type):
        return action == "view" and reach.reaches(user, KIND)
    if action == "edit":
        return own_sheet(user, sheet)
    if action == "view":  # finance and the other bureaus read every sheet; an assessor their own
        return reach.reaches_all(user, KIND) or own_sheet(user, sheet)
    return False


@policy(AssessmentRound)
def round_policy(user, action, rnd) -> bool:
    if isinstance(rnd, type):
        return action == "view" and reach.reaches(user, KIND)
    return assessment_policy(user, action, rnd.assessment)
