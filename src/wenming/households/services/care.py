"""Keeping in touch: contacts and visits (which answer events), and the alerts when an
event or a tagged household waits too long."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from wenming.accounts.types import Actor, user_id_of, user_of
from wenming.core import regions as rc
from wenming.core.access import require
from wenming.core.audit import audit_record
from wenming.core.errors import NotFound, RuleViolation
from wenming.core.roles import Perm
from wenming.households.models import (
    AlertLevel,
    AlertSubject,
    Channel,
    ContactPerson,
    EventState,
    Household,
    HouseholdEvent,
    OverdueAlert,
    Visit,
)
from wenming.households.policy import (
    Policy,
    care_due_at,
    household_cadence,
    policy_for,
)
from wenming.households.selectors import station_staff
from wenming.households.services.events import _entry, _event_url, _transition, contacts_of
from wenming.notifications.services import notify

# ---------------------------------------------------------------- contacts (visits)

FUTURE_SLACK = dt.timedelta(minutes=5)


@transaction.atomic
def visit_log(
    *,
    actor: Actor,
    household: Household,
    channel: str,
    notes: str = "",
    happened_at: dt.datetime | None = None,
    event: HouseholdEvent | None = None,
    close: bool = False,
    outcome: str = "",
    now: dt.datetime | None = None,
) -> Visit:
    """The contact person (or staff managing the village) logs a contact with the
    household. With an event: the first contact answers it (in time or late, against
    its due time), and `close` closes it with an outcome."""
    contact = ContactPerson.objects.filter(
        user_id=user_id_of(actor),
        assignments__household=household,
        assignments__ended_at__isnull=True,
    ).first()
    if contact is None:
        require(actor, Perm.HOUSEHOLD_MANAGE, household.region_id, view_perm=Perm.HOUSEHOLD_VIEW)
    now = now or timezone.now()
    happened_at = happened_at or now
    if channel not in Channel.values:
        raise RuleViolation(_("请选择联系方式。"), field="channel")
    if happened_at > now + FUTURE_SLACK:
        raise RuleViolation(_("联系时间不能晚于现在。"), field="happened_at")
    notes = (notes or "").strip()
    if len(notes) > 1000:
        raise RuleViolation(_("情况记录最多 1000 个字。"), field="notes")
    locked_event = None
    if event is not None:
        if event.household_id != household.pk:
            raise NotFound(_("找不到该事项。"))
        locked_event = HouseholdEvent.objects.select_for_update().get(pk=event.pk)
        if locked_event.state not in (EventState.OPEN, EventState.ANSWERED):
            raise RuleViolation(_("该事项已经办结或撤销。"), field="event")
        # Pages give minutes: a contact in the minute of the report counts from the report.
        if happened_at < locked_event.reported_at.replace(second=0, microsecond=0):
            raise RuleViolation(_("联系时间不能早于事项报告时间。"), field="happened_at")
        happened_at = max(happened_at, locked_event.reported_at)
    if close:
        if locked_event is None:
            raise RuleViolation(_("请选择要办结的事项。"), field="event")
        outcome = (outcome or notes).strip()
        if not outcome:
            raise RuleViolation(_("办结事项请写明办理结果。"), field="outcome")
    visit = Visit.objects.create(
        household=household,
        region_id=household.region_id,
        contact=contact,
        by=user_of(actor),
        channel=channel,
        happened_at=happened_at,
        notes=notes,
        event=locked_event,
    )
    Household.objects.filter(pk=household.pk).filter(
        Q(last_contact_at__isnull=True) | Q(last_contact_at__lt=happened_at)
    ).update(last_contact_at=happened_at)
    changes: dict[str, Any] = {"channel": channel, "event": getattr(locked_event, "pk", None)}
    if locked_event is not None:
        ev = locked_event
        text = _("%(channel)s：%(notes)s") % {
            "channel": Channel(channel).label,
            "notes": notes or "—",
        }
        fields = []
        if ev.first_contact_at is None:
            ev.first_contact_at = happened_at
            fields.append("first_contact_at")
            late = happened_at > ev.due_at
            text += " " + (_("（首次联系，超时）") if late else _("（首次联系，按时）"))
        if close:
            _transition(ev, EventState.CLOSED, actor=actor, at=now, why=text)
            ev.closed_at = now
            ev.closed_by = user_of(actor)
            ev.outcome = outcome[:500]
            fields += ["state", "closed_at", "closed_by", "outcome"]
            changes["state"] = [EventState.OPEN, EventState.CLOSED]
        elif ev.state == EventState.OPEN:
            _transition(ev, EventState.ANSWERED, actor=actor, at=now, why=text)
            fields.append("state")
        else:
            _entry(ev, actor=actor, at=now, text=text)
        if fields:
            ev.save(update_fields=fields)
    audit_record(
        actor=actor,
        verb="household.visit",
        target=household,
        region_code=household.region_id,
        changes=changes,
    )
    return visit


# ---------------------------------------------------------------- overdue alerts


@dataclass
class OverdueResult:
    event_alerts: int = 0
    care_alerts: int = 0
    notified: int = 0


def _raise_alert(
    *,
    subject: str,
    household: Household,
    event: HouseholdEvent | None,
    due_at: dt.datetime,
    level: int,
    now: dt.datetime,
) -> OverdueAlert | None:
    """Record one alert unless it exists (the unique constraints decide); notify."""
    try:
        with transaction.atomic():
            alert = OverdueAlert.objects.create(
                subject=subject,
                household=household,
                event=event,
                region_id=household.region_id,
                due_at=due_at,
                level=level,
                created_at=now,
            )
    except IntegrityError:
        return None
    if level == AlertLevel.CONTACT:
        recipients = [c.user for c in contacts_of(household)]
    else:
        recipients = station_staff(household.region_id)
    if subject == AlertSubject.EVENT:
        assert event is not None
        title = _("事项超时未联系：%(kind)s") % {"kind": event.get_kind_display()}
        url = _event_url(event)
        _entry(
            event,
            actor=None,
            at=now,
            text=(
                _("超时提醒已发给联系人") if level == AlertLevel.CONTACT else _("超时已上报站点")
            ),
        )
    else:
        title = _("关爱走访逾期：%(address)s") % {"address": household.address}
        url = reverse("households:detail", args=[household.pk])
    body = _("%(address)s 应于 %(due)s 前联系。") % {
        "address": household.address,
        "due": timezone.localtime(due_at).strftime("%Y-%m-%d %H:%M"),
    }
    alert.recipients = notify(
        recipients=recipients,
        verb=f"household.overdue_{subject}",
        title=title,
        body=body,
        url=url,
        region_code=household.region_id,
        sms=True,
    )
    alert.save(update_fields=["recipients"])
    return alert


def overdue_scan(*, now: dt.datetime | None = None) -> OverdueResult:
    """The periodic job. An open event past its due time alerts its contact person; past
    twice its response limit, the station. A tagged household not contacted within its
    cadence alerts the contact person; past twice the cadence, the station. Each alert
    is sent once (OverdueAlert's unique constraints)."""
    now = now or timezone.now()
    result = OverdueResult()
    events = (
        HouseholdEvent.objects.filter(state=EventState.OPEN, due_at__lte=now)
        .select_related("household")
        .order_by("due_at", "id")
    )
    for event in events.iterator(chunk_size=500):
        limit = event.due_at - event.reported_at
        levels = [AlertLevel.CONTACT]
        if now >= event.due_at + limit or not contacts_of(event.household):
            levels.append(AlertLevel.STATION)
        for level in levels:
            with transaction.atomic():
                alert = _raise_alert(
                    subject=AlertSubject.EVENT,
                    household=event.household,
                    event=event,
                    due_at=event.due_at,
                    level=level,
                    now=now,
                )
            if alert is not None:
                result.event_alerts += 1
                result.notified += alert.recipients
    policies: dict[str, Policy] = {}
    tagged = (
        Household.objects.filter(is_active=True, tags__isnull=False)
        .distinct()
        .prefetch_related("tags")
        .order_by("id")
    )
    for household in tagged.iterator(chunk_size=500):
        county = rc.county_of(household.region_id)
        policy = policies.get(county)
        if policy is None:
            policy = policies[county] = policy_for(household.region_id)
        days = household_cadence(household, policy)
        if days is None:
            continue
        due = care_due_at(household, days)
        if due > now:
            continue
        levels = [AlertLevel.CONTACT]
        if now >= due + dt.timedelta(days=days) or not contacts_of(household):
            levels.append(AlertLevel.STATION)
        for level in levels:
            with transaction.atomic():
                alert = _raise_alert(
                    subject=AlertSubject.CARE,
                    household=household,
                    event=None,
                    due_at=due,
                    level=level,
                    now=now,
                )
            if alert is not None:
                result.care_alerts += 1
                result.notified += alert.recipients
    return result
