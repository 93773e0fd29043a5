"""Who hears about an order: the resident by SMS (number and private link), the unit's
staff on a new order, a reminder and a low rating, the team leader on dispatch, the
next level's staff on escalation."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from tests.demands.helpers import RESIDENT_PHONE, menu_item, submit, team_with_leader
from wenming.core import crypto
from wenming.demands import services
from wenming.notifications.models import Notification, OutboxMessage
from wenming.volunteers.models import Volunteer

T0 = dt.datetime(2026, 11, 28, 1, 0, tzinfo=dt.UTC)


@pytest.fixture
def item(cast, net):
    return menu_item(cast.station_admin, net.station)


def inbox(user, verb):
    return list(Notification.objects.filter(recipient=user, verb=verb))


def test_resident_gets_an_sms_with_number_and_private_link(cast, item, settings):
    settings.WENMING_PUBLIC_URL = "https://wm.example.cn"
    order = submit(item)
    sms = OutboxMessage.objects.get(verb="order.submit")
    assert crypto.decrypt(sms.phone_cipher) == RESIDENT_PHONE
    assert order.number in sms.text
    assert f"https://wm.example.cn/demands/o/{order.number}/{order.link_token}/" in sms.text
    # The unit's staff see the new order in their inbox; other units' do not.
    assert len(inbox(cast.station_admin, "order.submit")) == 1
    assert inbox(cast.institute_admin, "order.submit") == []


def test_dispatch_notifies_the_team_leader_with_sms(cast, net, item):
    team, leader = team_with_leader(cast.station_admin, net.station, 1)
    order = submit(item)
    services.order_accept(actor=cast.station_admin, order=order)
    services.order_dispatch(actor=cast.station_admin, order=order, team=team)
    (note,) = inbox(leader, "order.dispatch")
    assert order.number in note.title and note.url == "/demands/tasks/"
    assert OutboxMessage.objects.filter(verb="order.dispatch").count() == 1


def test_escalation_notifies_the_next_level(cast, net, item):
    with time_machine.travel(T0, tick=False):
        order = submit(item)
    with time_machine.travel(T0 + dt.timedelta(hours=30), tick=False):
        services.orders_escalate_overdue()
    (note,) = inbox(cast.institute_admin, "order.escalate")
    assert order.number in note.title
    assert inbox(cast.county_admin, "order.escalate") == []


def test_reminder_and_low_rating_notify_the_unit(cast, net, item):
    team, leader = team_with_leader(cast.station_admin, net.station, 1)
    order = submit(item)
    services.order_remind(order=order, token=order.link_token)
    assert len(inbox(cast.station_admin, "order.remind")) == 1
    services.order_accept(actor=cast.station_admin, order=order)
    services.order_dispatch(actor=cast.station_admin, order=order, team=team)
    services.order_take(actor=leader, order=order)
    services.order_complete(
        actor=leader, order=order, note="好",
        participants=[services.Participant(Volunteer.objects.get(user=leader).pk, 30)],
    )  # fmt: skip
    services.order_rate(order=order, token=order.link_token, stars=1, comment="没来")
    (note,) = inbox(cast.station_admin, "order.low_rating")
    assert "1 星" in note.title and note.body == "没来"


def test_refused_step_notifies_nobody(cast, item):
    order = submit(item)
    before = (Notification.objects.count(), OutboxMessage.objects.count())
    with pytest.raises(Exception):  # noqa: B017 - any refusal
        services.order_accept(actor=cast.outsider, order=order)
    assert (Notification.objects.count(), OutboxMessage.objects.count()) == before
