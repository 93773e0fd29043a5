"""Volunteers hear about changes to their place: a waitlist promotion and a cancelled
activity reach them in the app and by SMS, written with the change itself."""

from __future__ import annotations

import pytest

from tests.activities.helpers import published, volunteer_user
from wenming.activities import services
from wenming.core.errors import RuleViolation
from wenming.notifications.models import Notification, OutboxMessage

pytestmark = pytest.mark.django_db


def test_a_promotion_from_the_waitlist_is_told_to_that_volunteer(cast, net):
    activity = published(cast.station_admin, net.station, quota=1, title="广场舞教学")
    first, second, third = (volunteer_user(cast.county_admin, n) for n in (1, 2, 3))
    place = services.signup_create(actor=first, activity=activity)
    services.signup_create(actor=second, activity=activity)
    services.signup_create(actor=third, activity=activity)
    assert not Notification.objects.exists()
    services.signup_cancel(actor=first, signup=place, reason="临时有事")
    (note,) = Notification.objects.all()
    assert note.recipient == second and note.verb == "signup.promote"
    assert "广场舞教学" in note.title and note.url == f"/activities/{activity.pk}/"
    assert OutboxMessage.objects.get().phone_masked == second.phone_masked


def test_cancelling_an_activity_tells_everyone_holding_a_place_or_waiting(cast, net):
    activity = published(cast.station_admin, net.station, quota=1, title="义诊进村")
    holder, waiting, gone = (volunteer_user(cast.county_admin, n) for n in (1, 2, 3))
    services.signup_create(actor=holder, activity=activity)
    services.signup_create(actor=waiting, activity=activity)
    left = services.signup_create(actor=gone, activity=activity)
    services.signup_cancel(actor=gone, signup=left)
    services.activity_transition(
        action="cancel", actor=cast.station_admin, activity=activity, reason="大风预警"
    )
    notes = Notification.objects.filter(verb="activity.cancel")
    assert {n.recipient for n in notes} == {holder, waiting}
    assert all("大风预警" in n.body for n in notes)
    assert OutboxMessage.objects.filter(verb="activity.cancel").count() == 2


def test_a_refused_cancel_tells_no_one(cast, net):
    activity = published(cast.station_admin, net.station)
    services.signup_create(actor=volunteer_user(cast.county_admin, 1), activity=activity)
    with pytest.raises(RuleViolation):
        services.activity_transition(
            action="cancel", actor=cast.station_admin, activity=activity, reason=""
        )
    assert not Notification.objects.exists() and not OutboxMessage.objects.exists()
