"""Response deadlines and care cadences with time travel: the periodic job alerts the
contact person when something is overdue, the station when it stays overdue, and never
twice for the same overdue."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from tests.households.helpers import T0, contact, household
from wenming.households import selectors, services, tasks
from wenming.households.models import AlertLevel, AlertSubject, OverdueAlert
from wenming.notifications.models import Notification, OutboxMessage

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)


def alerts() -> list[tuple[str, int]]:
    return list(OverdueAlert.objects.order_by("id").values_list("subject", "level"))


def test_an_emergency_not_contacted_in_two_hours_alerts_the_contact_then_the_station(cast):
    with time_machine.travel(T0, tick=False):
        h = household(cast.station_admin, 1)
        c = contact(cast.county_admin)
        services.assignment_create(actor=cast.station_admin, household=h, contact=c, kind="group")
        event = services.event_report(
            actor=cast.station_admin, household=h, kind="emergency", summary="老人摔倒"
        )
    assert event.due_at == T0 + 2 * H
    assert services.overdue_scan(now=T0 + 2 * H - dt.timedelta(seconds=1)).event_alerts == 0
    first = services.overdue_scan(now=T0 + 2 * H)
    assert (first.event_alerts, first.notified) == (1, 1)
    assert alerts() == [(AlertSubject.EVENT, AlertLevel.CONTACT)]
    notes = Notification.objects.filter(verb="household.overdue_event")
    assert [n.recipient_id for n in notes] == [c.user_id]
    assert notes.get().url == f"/households/events/{event.pk}/"
    assert OutboxMessage.objects.filter(verb="household.overdue_event").count() == 1
    # Run again and again: no second alert for the same overdue.
    assert services.overdue_scan(now=T0 + 3 * H).event_alerts == 0
    escalated = services.overdue_scan(now=T0 + 4 * H)  # twice the limit: the station
    assert escalated.event_alerts == 1
    assert escalated.notified == 1  # the station admin of 马庄村委会
    assert alerts() == [
        (AlertSubject.EVENT, AlertLevel.CONTACT),
        (AlertSubject.EVENT, AlertLevel.STATION),
    ]
    assert services.overdue_scan(now=T0 + 10 * H).event_alerts == 0
    recipients = Notification.objects.filter(verb="household.overdue_event").order_by("id")
    assert [n.recipient_id for n in recipients] == [c.user_id, cast.station_admin.pk]
    texts = list(event.entries.values_list("text", flat=True))
    assert texts[-2:] == ["超时提醒已发给联系人", "超时已上报站点"]


def test_an_event_answered_in_time_raises_nothing(cast):
    h = household(cast.station_admin, 1)
    event = services.event_report(
        actor=cast.station_admin, household=h, kind="bereavement", summary="老人过世", now=T0
    )
    services.visit_log(
        actor=cast.station_admin, household=h, channel="visit", event=event,
        happened_at=T0 + 20 * H, now=T0 + 20 * H,
    )  # fmt: skip
    assert services.overdue_scan(now=T0 + 100 * H).event_alerts == 0
    total, _rows = selectors.figures(actor=cast.county_admin, region_code="320305000000")
    assert (total.answered, total.answered_in_time, total.in_time_percent) == (1, 1, 100)
    assert total.median_response_hours == 20.0


def test_an_event_without_a_contact_person_goes_straight_to_the_station(cast):
    h = household(cast.station_admin, 1)
    services.event_report(actor=cast.station_admin, household=h, kind="happy", summary="x", now=T0)
    result = services.overdue_scan(now=T0 + 3 * D)
    assert result.event_alerts == 2
    assert alerts() == [
        (AlertSubject.EVENT, AlertLevel.CONTACT),
        (AlertSubject.EVENT, AlertLevel.STATION),
    ]


def test_an_empty_nest_elder_not_visited_for_seven_days(cast):
    with time_machine.travel(T0, tick=False):
        h = household(cast.station_admin, 1, tags=("empty_nest",))
        household(cast.station_admin, 2, tags=("veteran",))  # no cadence for veterans
        c = contact(cast.county_admin)
        services.assignment_create(actor=cast.station_admin, household=h, contact=c, kind="pair")
    assert services.overdue_scan(now=T0 + 7 * D - H).care_alerts == 0
    assert services.overdue_scan(now=T0 + 7 * D).care_alerts == 1
    assert services.overdue_scan(now=T0 + 8 * D).care_alerts == 0
    total, _rows = selectors.figures(
        actor=cast.station_admin, region_code="320305005204", now=T0 + 8 * D
    )
    assert total.overdue_care == 1
    # A visit starts a new cadence: the next overdue is a new one.
    with time_machine.travel(T0 + 8 * D, tick=False):
        services.visit_log(actor=c.user, household=h, channel="visit", notes="身体好")
    assert services.overdue_scan(now=T0 + 14 * D).care_alerts == 0
    assert services.overdue_scan(now=T0 + 15 * D).care_alerts == 1
    assert services.overdue_scan(now=T0 + 22 * D).care_alerts == 1  # twice: the station
    assert alerts() == [
        (AlertSubject.CARE, AlertLevel.CONTACT),
        (AlertSubject.CARE, AlertLevel.CONTACT),
        (AlertSubject.CARE, AlertLevel.STATION),
    ]


def test_the_cadence_is_a_setting(cast):
    services.household_policy_set(
        actor=cast.county_admin,
        region_code="320305000000",
        assignment_limit=10,
        response_hours={},
        cadence_days={"empty_nest": 3, "left_behind_child": 14},
    )
    with time_machine.travel(T0, tick=False):
        household(cast.station_admin, 1, tags=("empty_nest", "left_behind_child"))
    assert services.overdue_scan(now=T0 + 3 * D).care_alerts == 2  # no contact person


def test_the_periodic_task_is_the_scan(cast):
    with time_machine.travel(T0, tick=False):
        h = household(cast.station_admin, 1)
        services.event_report(actor=cast.station_admin, household=h, kind="emergency", summary="x")
    with time_machine.travel(T0 + 5 * H, tick=False):
        result = tasks.households_overdue_alerts.call_local()
    assert result.event_alerts == 2
