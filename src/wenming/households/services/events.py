"""The ten events (十必联): reported by staff, the contact person or the household itself,
answered, closed or cancelled, each step on the event's timeline; an event that needs
services becomes a resident order."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.utils.translation import pgettext_lazy

from wenming.accounts.phones import normalize_phone
from wenming.accounts.types import Actor, user_id_of, user_of, user_or_none
from wenming.core import crypto, ratelimit
from wenming.core.access import actor_label, require
from wenming.core.audit import audit_record
from wenming.core.errors import NotFound, RuleViolation
from wenming.core.middleware import current_ip
from wenming.core.roles import Perm
from wenming.core.statemachine import StateMachine, Transition
from wenming.demands.models import Channel as OrderChannel
from wenming.demands.models import RequestKind
from wenming.demands.services import OrderInput, order_create
from wenming.households import permissions
from wenming.households.models import (
    ContactPerson,
    EventEntry,
    EventKind,
    EventState,
    Household,
    HouseholdEvent,
    Relation,
    ReportChannel,
)
from wenming.households.policy import (
    policy_for,
)
from wenming.households.selectors import station_staff
from wenming.notifications.services import notify

# ---------------------------------------------------------------- events


def _entry(
    event: HouseholdEvent,
    *,
    actor: Actor | None,
    at: dt.datetime,
    text: str,
    from_state: str = "",
    to_state: str = "",
) -> EventEntry:
    user = user_or_none(actor)
    label = actor_label(user) if user is not None else _("系统")
    return EventEntry.objects.create(
        event=event,
        at=at,
        actor=user,
        actor_label=label[:100],
        from_state=from_state,
        to_state=to_state,
        text=text[:500],
    )


# The one table of an event's moves: a contact answers it, staff close or cancel it.
EVENT_MACHINE = StateMachine(
    [
        Transition("answer", frozenset({EventState.OPEN}), EventState.ANSWERED, _l("联系")),
        Transition(
            "close", frozenset({EventState.OPEN, EventState.ANSWERED}), EventState.CLOSED,
            _l("办结"),
        ),
        Transition(
            "cancel", frozenset({EventState.OPEN, EventState.ANSWERED}), EventState.CANCELLED,
            _l("撤销"), reason_required=True, destructive=True,
        ),
    ],
    subject=pgettext_lazy("state machine subject", "事项"),
    refused_code="bad_transition",
)  # fmt: skip


def _transition(
    event: HouseholdEvent, target: str, *, actor: Actor, at: dt.datetime, why: str
) -> None:
    """Move a locked event to `target` along EVENT_MACHINE and put the step on its
    timeline (who, when, why); the caller saves the event and audits."""
    transition = EVENT_MACHINE.by_target(event, target)
    source, _target = EVENT_MACHINE.move(event, transition, actor=actor, save=False, audit=False)
    _entry(event, actor=actor, at=at, text=why, from_state=source, to_state=target)


def contacts_of(household: Household) -> list[ContactPerson]:
    return list(
        ContactPerson.objects.filter(
            assignments__household=household, assignments__ended_at__isnull=True
        )
        .select_related("user")
        .distinct()
    )


def _event_url(event: HouseholdEvent) -> str:
    return reverse("households:event", args=[event.pk])


def _create_event(
    *,
    household: Household,
    kind: str,
    summary: str,
    channel: str,
    actor: Actor | None,
    now: dt.datetime,
    reporter_phone: str = "",
) -> HouseholdEvent:
    if kind not in EventKind.values:
        raise RuleViolation(_("请选择事项类型。"), field="kind")
    summary = (summary or "").strip()
    if not summary:
        raise RuleViolation(_("请简要说明情况。"), field="summary")
    if len(summary) > 500:
        raise RuleViolation(_("情况说明最多 500 个字。"), field="summary")
    if not household.is_active:
        raise RuleViolation(_("该户已不在册。"))
    limit = policy_for(household.region_id).response_limit(kind)
    event = HouseholdEvent.objects.create(
        household=household,
        region_id=household.region_id,
        kind=kind,
        summary=summary,
        channel=channel,
        reported_by=user_or_none(actor),
        reporter_phone_masked=crypto.mask_phone(reporter_phone) if reporter_phone else "",
        reported_at=now,
        due_at=now + limit,
    )
    _entry(
        event,
        actor=actor,
        at=now,
        text=_("%(channel)s报告：%(kind)s")
        % {
            "channel": ReportChannel(channel).label,
            "kind": EventKind(kind).label,
        },
        to_state=EventState.OPEN,
    )
    contacts = contacts_of(household)
    # Without a contact person, the station's staff hear of it at once.
    people = [c.user for c in contacts] if contacts else station_staff(household.region_id)
    recipients = [u for u in people if u.pk != user_id_of(actor)]
    notify(
        recipients=recipients,
        verb="household.event",
        title=_("包挂户有新事项：%(kind)s") % {"kind": EventKind(kind).label},
        body=_("%(address)s：%(summary)s。请在 %(due)s 前联系。")
        % {
            "address": household.address,
            "summary": summary[:60],
            "due": timezone.localtime(event.due_at).strftime("%m-%d %H:%M"),
        },
        url=_event_url(event),
        region_code=household.region_id,
        sms=kind == EventKind.EMERGENCY,
    )
    return event


@transaction.atomic
def event_report(
    *,
    actor: Actor,
    household: Household,
    kind: str,
    summary: str,
    now: dt.datetime | None = None,
) -> HouseholdEvent:
    """Staff managing the village, or the household's contact person, report one of the
    ten events; it is due for a first contact within the kind's response limit."""
    as_contact = permissions.require_contact_or_manage(actor, household)
    channel = ReportChannel.CONTACT if as_contact else ReportChannel.STAFF
    event = _create_event(
        household=household,
        kind=kind,
        summary=summary,
        channel=channel,
        actor=actor,
        now=now or timezone.now(),
    )
    audit_record(
        actor=actor,
        verb="household.event_report",
        target=event,
        region_code=household.region_id,
        changes={"kind": kind, "channel": channel},
    )
    return event


# Rate limits of the household's own reports (per card code and per client address).
REPORTS_PER_CODE_PER_HOUR = 5
REPORTS_PER_IP_PER_HOUR = 20


def _report_hit(code: str) -> None:
    """Count a report against the card and the client's address; over either limit it
    is refused (the counters are not reset, so a flood stays refused for the hour)."""
    ip = current_ip.get() or "unknown"
    over = False
    for key, limit in (
        (f"hh-report:code:{code}", REPORTS_PER_CODE_PER_HOUR),
        (f"hh-report:ip:{ip}", REPORTS_PER_IP_PER_HOUR),
    ):
        over = not ratelimit.hit(key, limit, 3600) or over
    if over:
        raise RuleViolation(
            _("提交过于频繁，请稍后再试；紧急情况请直接拨打联系人电话。"), code="rate_limited"
        )


@transaction.atomic
def event_report_by_household(
    *, code: str, kind: str, summary: str, phone: str = "", now: dt.datetime | None = None
) -> HouseholdEvent:
    """The household itself reports through the link on its contact card (no account).
    The card code is the only key; a wrong code is simply not found. Each report counts
    against the card and the client's address (an hour's window), whoever calls."""
    household = Household.objects.filter(
        report_code=(code or "").strip().upper(), is_active=True
    ).first()
    if household is None:
        raise NotFound(_("联系卡编码不正确。"))
    _report_hit(household.report_code)
    phone = normalize_phone(phone) if (phone or "").strip() else ""
    event = _create_event(
        household=household,
        kind=kind,
        summary=summary,
        channel=ReportChannel.HOUSEHOLD,
        actor=None,
        now=now or timezone.now(),
        reporter_phone=phone,
    )
    audit_record(
        actor=None,
        verb="household.event_report",
        target=event,
        region_code=household.region_id,
        changes={"kind": kind, "channel": ReportChannel.HOUSEHOLD},
    )
    return event


@transaction.atomic
def event_cancel(*, actor: Actor, event: HouseholdEvent, reason: str) -> HouseholdEvent:
    """Staff withdraw an event reported in error (a duplicate, a prank), with a reason."""
    require(actor, Perm.HOUSEHOLD_MANAGE, event.region_id, view_perm=Perm.HOUSEHOLD_VIEW)
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation(_("请写明原因。"), field="reason")
    locked = HouseholdEvent.objects.select_for_update().get(pk=event.pk)
    now = timezone.now()
    _transition(locked, EventState.CANCELLED, actor=actor, at=now, why=_("撤销：") + reason)
    locked.closed_at = now
    locked.closed_by = user_of(actor)
    locked.outcome = reason[:500]
    locked.save(update_fields=["state", "closed_at", "closed_by", "outcome"])
    audit_record(
        actor=actor,
        verb="household.event_cancel",
        target=locked,
        region_code=locked.region_id,
        changes={"state": [EventState.OPEN, EventState.CANCELLED]},
        note=reason[:300],
    )
    return locked


# ---------------------------------------------------------------- event → resident order


def _requester(household: Household) -> tuple[str, str]:
    """The name and phone an order is placed under: the head of the household if they
    have a phone, else the first member who has one."""
    members = sorted(
        (m for m in household.members.all() if m.phone_cipher),
        key=lambda m: (m.relation != Relation.HEAD, m.pk),
    )
    if not members:
        raise RuleViolation(
            _("该户没有登记手机号码，不能转为点单：请先补充成员的手机号码。"), field="phone"
        )
    member = members[0]
    return crypto.decrypt(member.name_cipher), crypto.decrypt(member.phone_cipher)


@transaction.atomic
def household_event_to_order(
    *,
    actor: Actor,
    event: HouseholdEvent,
    menu_item_code: str = "",
    details: str = "",
    preferred_time: str = "",
) -> Any:
    """An event that needs services becomes a resident order (点单) in one step: the
    order is placed on the household's behalf (channel 入户走访, under the name and phone
    of its head) through `demands.services.order_create`, in this transaction, and the
    two are linked both ways. With a menu item it is a menu order, else a request for
    help (我要求助). Staff who manage both the household and demand in the village only;
    an event is converted at most once, and only while it is open or answered."""
    require(actor, Perm.HOUSEHOLD_MANAGE, event.region_id, view_perm=Perm.HOUSEHOLD_VIEW)
    locked = HouseholdEvent.objects.select_for_update().select_related("household").get(pk=event.pk)
    if locked.order_id is not None:
        raise RuleViolation(_("该事项已经转为点单。"), code="already_ordered")
    if locked.state not in (EventState.OPEN, EventState.ANSWERED):
        raise RuleViolation(_("该事项已经办结或撤销，不能转为点单。"), code="bad_transition")
    household = locked.household
    name, phone = _requester(household)
    text = (details or "").strip() or locked.summary
    order = order_create(
        actor=actor,
        data=OrderInput(
            name=name,
            phone=phone,
            region_code=household.region_id,
            menu_item_code=menu_item_code,
            kind=RequestKind.MENU if menu_item_code else RequestKind.HELP,
            address=household.address,
            preferred_time=preferred_time,
            details=f"【十必联·{locked.get_kind_display()}】{text}"[:1000],
            title=f"{locked.get_kind_display()}：{locked.summary}"[:60],
        ),
        channel=OrderChannel.HOUSEHOLD,
    )
    locked.order = order
    locked.save(update_fields=["order"])
    _entry(
        locked,
        actor=actor,
        at=timezone.now(),
        text=_("已转为群众点单，订单号 %(n)s") % {"n": order.number},
    )
    audit_record(
        actor=actor,
        verb="household.event_order",
        target=locked,
        region_code=locked.region_id,
        changes={"order": order.pk, "number": order.number},
    )
    return order
