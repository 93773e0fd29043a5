"""Following orders up: reminders from the resident, escalation of overdue orders,
revealing the contact (audited), confirming the order's service records."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from wenming.accounts.types import Actor
from wenming.core import crypto
from wenming.core.audit import audit_record
from wenming.core.errors import Forbidden, RuleViolation
from wenming.demands import notify
from wenming.demands.models import (
    LIVE_STATES,
    WAITING_STATES,
    Order,
)
from wenming.demands.permissions import (
    can_manage,
    is_assignee,
    require_view,
)
from wenming.demands.services.intake import _resident_order
from wenming.demands.services.machine import (
    FREE_COMPLETE_HOURS,
    FREE_RESPONSE_HOURS,
    REMINDER_INTERVAL,
    REMINDER_MAX,
    RESIDENT_LABEL,
    S,
    _event,
    _locked,
)
from wenming.network.models import Unit
from wenming.records.models import RecordStatus, ServiceRecord

# ---------------------------------------------------------------- reminders


@transaction.atomic
def order_remind(
    *, order: Order, token: str = "", actor: Actor | None = None, now: dt.datetime | None = None
) -> Order:
    """The resident reminds (催单) an unfinished order: at most once per
    REMINDER_INTERVAL and REMINDER_MAX times per order, decided by one conditional
    UPDATE so that two presses at once count once. The unit's staff (and the
    assignee) are told."""
    order = _resident_order(order, token, actor)
    now = now or timezone.now()
    if order.state not in LIVE_STATES:
        raise RuleViolation(
            _("订单当前为“%(state)s”，不能催单。") % {"state": order.get_state_display()},
            code="bad_state",
        )
    if order.reminder_count >= REMINDER_MAX:
        raise RuleViolation(
            _("每个订单最多催单 %(n)s 次，工作人员会尽快处理。") % {"n": REMINDER_MAX},
            code="rate_limited",
        )
    updated = (
        Order.objects.filter(pk=order.pk, state__in=LIVE_STATES, reminder_count__lt=REMINDER_MAX)
        .filter(Q(last_reminded_at__isnull=True) | Q(last_reminded_at__lte=now - REMINDER_INTERVAL))
        .update(reminder_count=F("reminder_count") + 1, last_reminded_at=now, updated_at=now)
    )
    if not updated:
        hours = int(REMINDER_INTERVAL.total_seconds() // 3600)
        raise RuleViolation(
            _("您刚催过单，%(h)s 小时内只能催一次。") % {"h": hours}, code="rate_limited"
        )
    locked = _locked(order)
    _event(
        order=locked,
        action="remind",
        actor=None,
        note=_("第 %(n)s 次催单") % {"n": locked.reminder_count},
        at=now,
        who=RESIDENT_LABEL,
    )
    audit_record(
        actor=None,
        verb="order.remind",
        target=locked,
        region_code=locked.region_id,
        changes={"reminder_count": [locked.reminder_count - 1, locked.reminder_count]},
    )
    recipients = notify.unit_staff(locked.unit)
    if locked.assigned_team_id:
        recipients += notify.team_leaders(locked.assigned_team_id)
    notify.send(
        recipients=recipients,
        verb="order.remind",
        title=_("群众催单：%(t)s（%(n)s）") % {"t": locked.title, "n": locked.number},
        url=notify.manage_url(locked.pk),
        region_code=locked.region_id,
    )
    return locked


# ---------------------------------------------------------------- escalation


def _overdue_q(now: dt.datetime) -> Q:
    return Q(state__in=WAITING_STATES, respond_by__lt=now) | Q(state=S.TAKEN, complete_by__lt=now)


@transaction.atomic
def order_escalate(*, order: Order, now: dt.datetime | None = None) -> bool:
    """Move an overdue order's unit one level up the tree (station → institute →
    center) and tell the staff there; the time limit starts again there. An order at
    the top stays, and is not escalated again. Returns whether it moved."""
    now = now or timezone.now()
    locked = _locked(order)
    if not Order.objects.filter(pk=locked.pk).filter(_overdue_q(now)).exists():
        return False
    parent = (
        Unit.objects.filter(pk=locked.unit.parent_id, is_active=True).first()
        if locked.unit.parent_id
        else None
    )
    if parent is None:
        return False
    waiting = locked.state in WAITING_STATES
    hours = (
        (locked.menu_item.response_hours if waiting else locked.menu_item.complete_hours)
        if locked.menu_item
        else (FREE_RESPONSE_HOURS if waiting else FREE_COMPLETE_HOURS)
    )
    before = locked.unit
    locked.unit = parent
    locked.escalation_level += 1
    if waiting:
        locked.respond_by = now + dt.timedelta(hours=hours)
    else:
        locked.complete_by = now + dt.timedelta(hours=hours)
    locked.save()
    why = _("超过响应时限未接单") if waiting else _("超过办结时限未完成")
    _event(
        order=locked,
        action="escalate",
        actor=None,
        from_state=locked.state,
        to_state=locked.state,
        note=_("%(why)s，由 %(a)s 上报至 %(b)s") % {"why": why, "a": before.name, "b": parent.name},
        at=now,
    )
    audit_record(
        actor=None,
        verb="order.escalate",
        target=locked,
        region_code=locked.region_id,
        changes={"unit": [before.pk, parent.pk]},
        note=why,
    )
    notify.send(
        recipients=notify.unit_staff(parent),
        verb="order.escalate",
        title=_("超时上报：%(t)s（%(n)s）") % {"t": locked.title, "n": locked.number},
        body=why,
        url=notify.manage_url(locked.pk),
        region_code=locked.region_id,
        sms=True,
    )
    return True


def orders_escalate_overdue(*, now: dt.datetime | None = None) -> int:
    """The periodic job: escalate every overdue order one level (each in its own
    transaction, re-checked under its row lock). Returns how many moved."""
    now = now or timezone.now()
    moved = 0
    ids = list(
        Order.objects.filter(_overdue_q(now), unit__parent__isnull=False)
        .order_by("respond_by")
        .values_list("pk", flat=True)[:1000]
    )
    for pk in ids:
        order = Order.objects.select_related("unit").get(pk=pk)
        moved += order_escalate(order=order, now=now)
    return moved


# ---------------------------------------------------------------- personal data


@transaction.atomic
def order_contact_reveal(*, actor: Actor, order: Order, reason: str = "") -> tuple[str, str]:
    """The requester's name and phone, for the staff of the order's unit and the
    assignee while the order is theirs. Every reveal is audited."""
    order = Order.objects.select_related("unit").get(pk=order.pk)
    require_view(actor, order)
    allowed = can_manage(actor, order) or (
        is_assignee(actor, order) and order.state in (S.DISPATCHED, S.TAKEN)
    )
    if not allowed:
        raise Forbidden(_("您没有查看联系方式的权限。"))
    name = crypto.decrypt(order.requester_name_cipher)
    phone = crypto.decrypt(order.requester_phone_cipher)
    audit_record(
        actor=actor,
        verb="order.reveal",
        target=order,
        region_code=order.region_id,
        note=(reason or "").strip()[:300] or _("联系群众"),
    )
    return name, phone


# ---------------------------------------------------------------- the order's service records


@transaction.atomic
def order_records_confirm(*, actor: Actor, order: Order) -> int:
    """Confirm the pending service records of a completed order, by the records rules
    (the organising unit's staff confirm; see records.services.record_confirm)."""
    from wenming.records.services import record_confirm

    locked = _locked(order)
    require_view(actor, locked)
    count = 0
    for record in ServiceRecord.objects.filter(order=locked, status=RecordStatus.PENDING).order_by(
        "id"
    ):
        record_confirm(actor=actor, record=record)
        count += 1
    return count
