"""Roles and what each may do.

A role is granted to a user on a region (see `network.RoleGrant`); what the role allows
applies to the subtree under that region's code prefix. This table is the single place
that says which role may do what; services ask `wenming.core.access` about it.
"""

from __future__ import annotations

import enum

from django.db import models
from django.utils.translation import gettext_lazy as _

from wenming.core.regions import Level


class Role(models.TextChoices):
    SYSADMIN = "sysadmin", _("系统管理员")
    COUNTY_ADMIN = "county_admin", _("中心管理员")
    INSTITUTE_ADMIN = "institute_admin", _("所管理员")
    STATION_ADMIN = "station_admin", _("站管理员")
    TEAM_LEADER = "team_leader", _("队长")
    VOLUNTEER = "volunteer", _("志愿者")
    RESIDENT = "resident", _("群众")
    SUPERVISOR = "supervisor", _("督导（市/省文明办，只读）")
    MEDIA_EDITOR = "media_editor", _("融媒体编辑")
    FUND_MANAGER = "fund_manager", _("基金管理员")
    STORE_KEEPER = "store_keeper", _("爱心超市管理员")


class Perm(enum.StrEnum):
    NETWORK_VIEW = "network.view"  # see the unit tree, units and their staff
    NETWORK_MANAGE = "network.manage"  # create and edit units
    GRANTS_MANAGE = "grants.manage"  # grant and revoke staff roles
    AUDIT_VIEW = "audit.view"  # browse the audit log
    ADMIN_SITE = "admin.site"  # the Django admin (read-only inspection)
    VOLUNTEER_VIEW = "volunteer.view"  # lists and profiles of volunteers (masked)
    VOLUNTEER_MANAGE = "volunteer.manage"  # register, review, edit volunteers
    PERSONAL_REVEAL = "personal.reveal"  # reveal one ID or phone number (audited)
    ACTIVITY_VIEW = "activity.view"  # activities in any state, their rosters
    ACTIVITY_MANAGE = "activity.manage"  # create, edit, move activities through their states
    DEMAND_VIEW = "demand.view"  # residents' orders (masked), the service menu, figures
    DEMAND_MANAGE = "demand.manage"  # review, dispatch, close orders; edit the service menu
    HOUSEHOLD_VIEW = "household.view"  # the household contact register (十必联), masked
    HOUSEHOLD_MANAGE = "household.manage"  # households, contact persons, assignments, events
    FUND_VIEW = "fund.view"  # a fund's donations (with donors' names), grants, ledger
    FUND_MANAGE = "fund.manage"  # record donations, decide grants, pay out, correct
    STORE_MANAGE = "store.manage"  # run a love store (爱心超市): goods, stock, pickups


# County and town (institute) admins may do the same things, each in their own subtree.
_ADMIN_PERMS = frozenset(
    {
        Perm.NETWORK_VIEW,
        Perm.NETWORK_MANAGE,
        Perm.GRANTS_MANAGE,
        Perm.AUDIT_VIEW,
        Perm.VOLUNTEER_VIEW,
        Perm.VOLUNTEER_MANAGE,
        Perm.PERSONAL_REVEAL,
        Perm.ACTIVITY_VIEW,
        Perm.ACTIVITY_MANAGE,
        Perm.DEMAND_VIEW,
        Perm.DEMAND_MANAGE,
        Perm.HOUSEHOLD_VIEW,
        Perm.HOUSEHOLD_MANAGE,
    }
)

ROLE_PERMS: dict[str, frozenset[Perm]] = {
    Role.SYSADMIN: frozenset(Perm),
    Role.COUNTY_ADMIN: _ADMIN_PERMS,
    Role.INSTITUTE_ADMIN: _ADMIN_PERMS,
    Role.STATION_ADMIN: frozenset(
        {
            Perm.NETWORK_VIEW,
            Perm.NETWORK_MANAGE,
            Perm.AUDIT_VIEW,
            Perm.VOLUNTEER_VIEW,
            Perm.VOLUNTEER_MANAGE,
            Perm.ACTIVITY_VIEW,
            Perm.ACTIVITY_MANAGE,
            Perm.DEMAND_VIEW,
            Perm.DEMAND_MANAGE,
            Perm.HOUSEHOLD_VIEW,
            Perm.HOUSEHOLD_MANAGE,
        }
    ),
    Role.SUPERVISOR: frozenset(
        {
            Perm.NETWORK_VIEW,
            Perm.AUDIT_VIEW,
            Perm.VOLUNTEER_VIEW,
            Perm.ACTIVITY_VIEW,
            Perm.DEMAND_VIEW,
            Perm.HOUSEHOLD_VIEW,
        }
    ),
    Role.TEAM_LEADER: frozenset({Perm.NETWORK_VIEW, Perm.VOLUNTEER_VIEW, Perm.ACTIVITY_VIEW}),
    Role.MEDIA_EDITOR: frozenset({Perm.NETWORK_VIEW}),
    # The fund's and the store's own permissions are granted by their domains
    # (fund/domain.py, `grants`); these roles start with seeing the network.
    Role.FUND_MANAGER: frozenset({Perm.NETWORK_VIEW}),
    Role.STORE_KEEPER: frozenset({Perm.NETWORK_VIEW}),
    Role.VOLUNTEER: frozenset(),
    Role.RESIDENT: frozenset(),
}

# Which roles a holder of a role may grant (inside its own GRANTS_MANAGE scope).
GRANTABLE_ROLES: dict[str, frozenset[str]] = {
    Role.SYSADMIN: frozenset(Role.values),
    Role.COUNTY_ADMIN: frozenset(
        {
            Role.COUNTY_ADMIN,
            Role.INSTITUTE_ADMIN,
            Role.STATION_ADMIN,
            Role.TEAM_LEADER,
            Role.MEDIA_EDITOR,
            Role.FUND_MANAGER,
            Role.STORE_KEEPER,
            Role.VOLUNTEER,
            Role.RESIDENT,
        }
    ),
    Role.INSTITUTE_ADMIN: frozenset(
        {
            Role.INSTITUTE_ADMIN,
            Role.STATION_ADMIN,
            Role.TEAM_LEADER,
            Role.STORE_KEEPER,
            Role.VOLUNTEER,
            Role.RESIDENT,
        }
    ),
}

# The region levels a role may be granted on.
ROLE_LEVELS: dict[str, frozenset[Level]] = {
    Role.SYSADMIN: frozenset({Level.PROVINCE, Level.CITY, Level.COUNTY}),
    Role.COUNTY_ADMIN: frozenset({Level.COUNTY}),
    Role.INSTITUTE_ADMIN: frozenset({Level.TOWN}),
    Role.STATION_ADMIN: frozenset({Level.VILLAGE}),
    Role.SUPERVISOR: frozenset({Level.PROVINCE, Level.CITY, Level.COUNTY}),
    Role.MEDIA_EDITOR: frozenset({Level.COUNTY}),
    Role.FUND_MANAGER: frozenset({Level.COUNTY}),
    Role.STORE_KEEPER: frozenset({Level.COUNTY, Level.TOWN, Level.VILLAGE}),
    Role.TEAM_LEADER: frozenset({Level.COUNTY, Level.TOWN, Level.VILLAGE}),
    Role.VOLUNTEER: frozenset({Level.COUNTY, Level.TOWN, Level.VILLAGE}),
    Role.RESIDENT: frozenset({Level.COUNTY, Level.TOWN, Level.VILLAGE}),
}

STAFF_ROLES = frozenset(
    {
        Role.SYSADMIN,
        Role.COUNTY_ADMIN,
        Role.INSTITUTE_ADMIN,
        Role.STATION_ADMIN,
        Role.SUPERVISOR,
        Role.MEDIA_EDITOR,
        Role.TEAM_LEADER,
        Role.FUND_MANAGER,
        Role.STORE_KEEPER,
    }
)
