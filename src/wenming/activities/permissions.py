"""Who may do what with an activity. The services check these before they act and the
pages ask the same ones for their buttons:

- the owner (ACTIVITY_MANAGE over the activity's region) edits it (in draft or while
  published), moves it through its states and manages its photos (unless cancelled);
- the approver (ACTIVITY_MANAGE over the owning unit's parent) approves or rejects it;
- the organiser (the owner, or the organising team's active leader) runs its check-in
  screen, attendance and service records (records asks these too);
- viewers (ACTIVITY_VIEW) see it in any state, read-only (403 on writes)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from wenming.accounts.types import Actor
from wenming.activities.models import Activity, ActivityState
from wenming.core import regions as rc
from wenming.core.access import in_scope, require
from wenming.core.errors import Forbidden
from wenming.core.roles import Perm
from wenming.network.models import Unit
from wenming.volunteers.leaders import leads_team


def is_team_leader(actor: Actor, activity: Activity) -> bool:
    """Is the actor the acting leader of the activity's organising team (an active
    team)?"""
    return leads_team(actor, activity.team_id)


def can_organise(actor: Actor, activity: Activity) -> bool:
    return in_scope(actor, Perm.ACTIVITY_MANAGE, activity.region_id) or is_team_leader(
        actor, activity
    )


def require_organiser(actor: Actor, activity: Activity) -> None:
    """The organiser (ACTIVITY_MANAGE over the activity's region) or the organising team's
    active leader; a viewer is read-only (403), anyone else an outsider (404)."""
    if is_team_leader(actor, activity):
        return
    require(actor, Perm.ACTIVITY_MANAGE, activity.region_id, view_perm=Perm.ACTIVITY_VIEW)


# States in which the owner may still edit an activity.
EDITABLE_STATES = (ActivityState.DRAFT, ActivityState.PUBLISHED)


def can_view(actor: Actor, activity: Activity) -> bool:
    """Staff who see the activity in any state (its roster, its moves)."""
    return in_scope(actor, Perm.ACTIVITY_VIEW, activity.region_id)


def can_manage(actor: Actor, activity: Activity) -> bool:
    return in_scope(actor, Perm.ACTIVITY_MANAGE, activity.region_id)


def can_edit(actor: Actor, activity: Activity) -> bool:
    return can_manage(actor, activity) and activity.state in EDITABLE_STATES


def can_manage_photos(actor: Actor, activity: Activity) -> bool:
    return can_manage(actor, activity) and activity.state != ActivityState.CANCELLED


def require_owner(actor: Actor, activity: Activity) -> None:
    require(actor, Perm.ACTIVITY_MANAGE, activity.region_id, view_perm=Perm.ACTIVITY_VIEW)


def approver_region(unit: Unit) -> str:
    """The region whose staff approve the unit's activities: the parent unit's region,
    else the region above the unit's own."""
    if unit.parent_id is not None:
        return Unit.objects.only("region_id").get(pk=unit.parent_id).region_id
    return rc.parent_of(unit.region_id) or unit.region_id


def require_approver(actor: Actor, activity: Activity) -> None:
    if in_scope(actor, Perm.ACTIVITY_MANAGE, approver_region(activity.unit)):
        return
    require_owner(actor, activity)  # outsiders 404, read-only 403
    raise Forbidden(_("只有上级单位可以审核本单位的活动。"))
