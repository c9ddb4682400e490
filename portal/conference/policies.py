"""Who may see and change the joint-conference records.

Readers: conference members, the congress observer, administrators and the two bureaus' staff
(finance officers, audit liaisons, signers). Editors of meetings, actions, the library and the
plans: the bureaus' staff (finance officers, audit liaisons, conference members) — the observer
never edits. Budget units and agencies see nothing here except an action owned by their
organisation (or a unit under it), whose progress they may report."""
import sqlalchemy as sa

from portal.accounts.models import Role
from portal.conference.models import Action, ActionNote, Meeting, PlanBureau, PlanItem, SharedDocument
from portal.core import reach
from portal.core.permissions import org_subtree_ids, policy, scope


def is_reader(user) -> bool:
    """Reads meetings, the library, the plans, the overview and every action (reach: conference)."""
    return reach.reaches_all(user, "conference")


def is_editor(user) -> bool:
    """Bureau staff who run the conference's business (reach: conference write); never the observer."""
    return (user.is_bureau and reach.reaches(user, "conference", reach.WRITE)
            and Role.OBSERVER not in reach.effective_roles(user))


def owns_action(user, action: Action) -> bool:
    """The action's owner organisation (or its department above it) — units and agencies included."""
    if not reach.has_scope(user, "action", reach.OWNED):
        return False
    return action.owner_org_id in org_subtree_ids(user.organisation_id)


@policy(Meeting)
def meeting_policy(user, action, meeting) -> bool:
    if action == "view":
        return is_reader(user)
    if action in ("create", "edit"):
        return is_editor(user)
    return False


@scope(Meeting)
def visible_meetings(user, stmt):
    return stmt if is_reader(user) else stmt.where(sa.false())


@policy(Action)
def action_policy(user, action_name, action) -> bool:
    if isinstance(action, type):  # the list: readers every action, units and agencies their own
        if action_name == "view":
            return is_reader(user) or reach.has_scope(user, "action", reach.OWNED)
        if action_name == "bulk":  # the list's bar; each action is asked again for its step
            return is_editor(user) or reach.has_scope(user, "action", reach.OWNED, reach.WRITE)
        return is_editor(user)
    if action_name == "view":
        return is_reader(user) or owns_action(user, action)
    if action_name == "progress":  # add a progress note, start work
        return is_editor(user) or (owns_action(user, action)
                                   and reach.has_scope(user, "action", reach.OWNED, reach.WRITE))
    if action_name in ("edit", "link", "decide"):  # done / dropped / reopen / links
        return is_editor(user)
    return False


@scope(Action)
def visible_actions(user, stmt):
    if is_reader(user):
        return stmt
    if reach.has_scope(user, "action", reach.OWNED):
        return stmt.where(Action.owner_org_id.in_(org_subtree_ids(user.organisation_id)))
    return stmt.where(sa.false())


@policy(ActionNote)
def note_policy(user, action_name, note) -> bool:
    if isinstance(note, type):
        return False
    return action_name == "view" and action_policy(user, "view", note.action)


@policy(SharedDocument)
def document_policy(user, action, document) -> bool:
    if action == "view":
        return is_reader(user)
    if action in ("create", "share"):
        return is_editor(user)
    if action == "edit":  # the sharing bureau corrects its own entry
        return is_editor(user) and not isinstance(document, type) \
            and document.shared_by_org_id == user.organisation_id
    return False


@scope(SharedDocument)
def visible_documents(user, stmt):
    return stmt if is_reader(user) else stmt.where(sa.false())


def plan_bureau_of(user) -> PlanBureau | None:
    if user.is_finance:
        return PlanBureau.FINANCE
    if user.is_audit:
        return PlanBureau.AUDIT
    return None


@policy(PlanItem)
def plan_policy(user, action, item) -> bool:
    if action == "view":
        return is_reader(user)
    if action in ("create", "edit", "delete"):
        if not is_editor(user) or plan_bureau_of(user) is None:
            return False
        # each bureau keeps its own plan
        return isinstance(item, type) or item.bureau == plan_bureau_of(user)
    return False


@scope(PlanItem)
def visible_plan_items(user, stmt):
    return stmt if is_reader(user) else stmt.where(sa.false())
