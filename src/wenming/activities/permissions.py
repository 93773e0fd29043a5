"""Who may organise an activity: its check-in screen, its attendance and its service
records. Records' services and pages, and activities' pages, ask these."""

from __future__ import annotations

from wenming.accounts.types import Actor
from wenming.activities.models import Activity
from wenming.core.access import in_scope, require
from wenming.core.roles import Perm
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
