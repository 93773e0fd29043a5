"""Volunteer teams (志愿服务队): services (writes) and selectors (reads).

Who may do what, and why:

- **Staff** see the teams under their VOLUNTEER_VIEW prefixes and create, edit, appoint
and dismiss leaders, decide requests and remove members under their VOLUNTEER_MANAGE
prefixes (a team's region is its owning unit's, copied onto the team). - **A team's
active leader** decides join requests and removes ordinary members of that team only.
Leadership is a `Membership` with role `leader`, not a staff grant: it gives no access
to other volunteers' records. Only staff remove a leader. - **A volunteer** (no staff
role needed) must be able to find a team to join: they see the active teams of their own
county and any team they have a membership of — the team's name, type, unit, member
count and hours, never other members' personal data. An active member sees the names and
roles of the team's members (they serve together); leaders and staff also see masked
numbers and hours. - Anyone else: the team does not exist for them (404). Someone who
can see a team but may not change it gets 403.

Every write runs in one transaction, checks the actor in the service (not only in the
view) and records an audit event. Rows whose state changes are locked first
(`select_for_update`); "one open membership per team and volunteer" is the database's
partial unique constraint, never a check-then-act.

A package: `permissions` (who the actor is to a team), `selectors` (reads), `services`
(teams and memberships), and the team pages (`views`, `forms`, `urls`) and API (`api`).
The package re-exports the selectors and services."""

from wenming.volunteers.teams.permissions import (
    NAME_MAX,
    OPEN_STATUSES,
    REASON_MAX,
)
from wenming.volunteers.teams.selectors import (
    TEAM_CHOICES_MAX,
    TeamAccess,
    membership_get,
    memberships_of,
    team_access,
    team_choices,
    team_count,
    team_get,
    team_list,
    team_members,
    team_pending,
    team_types,
    team_units,
)
from wenming.volunteers.teams.services import (
    TEAM_AUDITED,
    leader_appoint,
    leader_dismiss,
    membership_approve,
    membership_reject,
    membership_remove,
    team_create,
    team_join_request,
    team_leave,
    team_update,
)

__all__ = [
    "NAME_MAX",
    "OPEN_STATUSES",
    "REASON_MAX",
    "TEAM_AUDITED",
    "TEAM_CHOICES_MAX",
    "TeamAccess",
    "leader_appoint",
    "leader_dismiss",
    "membership_approve",
    "membership_get",
    "membership_reject",
    "membership_remove",
    "memberships_of",
    "team_access",
    "team_choices",
    "team_count",
    "team_create",
    "team_get",
    "team_join_request",
    "team_leave",
    "team_list",
    "team_members",
    "team_pending",
    "team_types",
    "team_units",
    "team_update",
]
