"""Who hears about an order's steps, through `wenming.notifications` (in-app and SMS,
written through an outbox inside the caller's transaction, so none is lost).

The helpers here only choose the recipients and the words; the notifications app
delivers them."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.urls import reverse

from wenming.accounts.models import User
from wenming.core.roles import ROLE_PERMS, Perm, Role
from wenming.network.models import Unit
from wenming.network.selectors import staff_on_duty
from wenming.notifications.services import notify, notify_phone
from wenming.volunteers.leaders import leader_user_ids

# The roles that handle orders at a unit (the system admin is not on duty anywhere).
_DUTY_ROLES = [r for r, perms in ROLE_PERMS.items() if Perm.DEMAND_MANAGE in perms]
_DUTY_ROLES = [r for r in _DUTY_ROLES if r != Role.SYSADMIN]


def unit_staff(unit: Unit) -> list[User]:
    """The staff on duty at a unit: active grants of an order-handling role on its
    region."""
    return staff_on_duty(unit.region_id, roles=_DUTY_ROLES)


def team_leaders(team_id: int) -> list[User]:
    return list(User.objects.filter(pk__in=list(leader_user_ids(team_id)), is_active=True))


def manage_url(order_id: int) -> str:
    return reverse("demands:manage_detail", args=[order_id])


def tasks_url() -> str:
    return reverse("demands:tasks")


def send(
    *,
    recipients: Iterable[User],
    verb: str,
    title: str,
    body: str = "",
    url: str = "",
    region_code: str = "",
    sms: bool = False,
) -> int:
    """In-app notifications (and SMS when asked) for `recipients`, in the caller's
    transaction."""
    return notify(
        recipients=recipients,
        verb=verb,
        title=title,
        body=body,
        url=url,
        region_code=region_code,
        sms=sms,
    )


def send_phone(*, phone: str, text: str, verb: str, region_code: str = "") -> None:
    """An SMS to a resident without an account (queued in the outbox)."""
    notify_phone(phone=phone, text=text, verb=verb, region_code=region_code)


def absolute(path: str) -> str:
    """A link for a text message: WENMING_PUBLIC_URL + path when it is set."""
    return settings.WENMING_PUBLIC_URL + path
