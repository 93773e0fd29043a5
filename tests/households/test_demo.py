"""The demo register: households in several villages, contact persons (the demo
volunteer among them), open, closed and overdue events, overdue care; loads once."""

from __future__ import annotations

from wenming.core.demo import demo_load
from wenming.households import selectors
from wenming.households.models import (
    Assignment,
    ContactPerson,
    EventState,
    Household,
    HouseholdEvent,
    OverdueAlert,
)
from wenming.volunteers.models import Volunteer


def test_the_demo_register(db):
    result = demo_load()["households"]
    assert result["households"] == 48 and result["contacts"] >= 4
    assert Household.objects.values("region_id").distinct().count() == 4
    demo_volunteer = ContactPerson.objects.get(
        user__volunteer__in=Volunteer.objects.filter(user__isnull=False, name="刘志愿")
    )
    assert demo_volunteer.open_households == 10
    assert Assignment.objects.filter(kind="pair", ended_at__isnull=True).exists()
    states = set(HouseholdEvent.objects.values_list("state", flat=True))
    assert {EventState.OPEN, EventState.ANSWERED, EventState.CLOSED} <= states
    assert OverdueAlert.objects.filter(subject="event").exists()
    assert OverdueAlert.objects.filter(subject="care").exists()
    assert HouseholdEvent.objects.filter(order__isnull=False).count() == 1
    rows = selectors.my_households(actor=demo_volunteer.user)
    assert len(rows) == 10 and rows[0].open_events
    assert demo_load()["households"] == {"households": 0, "contacts": 0, "events": 0, "visits": 0}
