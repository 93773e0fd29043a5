"""Who may see and handle a fund. Managers (FUND_MANAGE over the fund's region) record
donations and refunds; viewers (FUND_VIEW: the county's admins, supervisors) see donors'
names and the ledger, read-only; anyone else learns nothing (404). The public disclosure
needs no permission and shows donors' names only where they agreed."""

from __future__ import annotations

from wenming.accounts.types import Actor
from wenming.core.access import in_scope, require
from wenming.core.roles import Perm
from wenming.fund.models import Fund


def can_manage(actor: Actor, fund: Fund) -> bool:
    return in_scope(actor, Perm.FUND_MANAGE, fund.region_id)


def require_manager(actor: Actor, fund: Fund) -> None:
    require(actor, Perm.FUND_MANAGE, fund.region_id, view_perm=Perm.FUND_VIEW)


def require_manager_at(actor: Actor, region_code: str) -> None:
    require(actor, Perm.FUND_MANAGE, region_code, view_perm=Perm.FUND_VIEW)
