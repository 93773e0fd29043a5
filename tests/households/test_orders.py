"""An event that needs services becomes a resident order in one step, linked both ways;
refused conversions change nothing."""

from __future__ import annotations

import pytest

from tests.households.helpers import household, state
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.demands.models import Channel, Order, OrderState, RequestKind
from wenming.households import services
from wenming.households.models import EventState, HouseholdEvent

pytestmark = pytest.mark.django_db


def orders() -> list[int]:
    return list(Order.objects.values_list("pk", flat=True))


def test_conversion_places_the_order_and_keeps_the_link(cast):
    h = household(cast.station_admin, 1)
    event = services.event_report(
        actor=cast.station_admin, household=h, kind="difficulty", summary="屋顶漏雨"
    )
    order = services.household_event_to_order(
        actor=cast.station_admin, event=event, details="需要维修屋顶", preferred_time="周末"
    )
    event.refresh_from_db()
    assert event.order == order
    assert Order.objects.get(pk=order.pk).household_event == event  # the reverse accessor
    assert order.channel == Channel.HOUSEHOLD and order.kind == RequestKind.HELP
    assert order.state == OrderState.SUBMITTED and order.region_id == h.region_id
    assert order.requester_phone_masked == "135****0001" and order.address == h.address
    assert "需要维修屋顶" in order.details
    last = event.entries.order_by("id").last()
    assert last is not None and order.number in last.text
    # Once only.
    before = (state(), orders())
    with pytest.raises(RuleViolation) as exc:
        services.household_event_to_order(actor=cast.station_admin, event=event)
    assert exc.value.code == "already_ordered"
    assert (state(), orders()) == before


def test_conversion_is_refused_to_read_only_outsiders_and_closed_events(cast):
    h = household(cast.station_admin, 1)
    event = services.event_report(
        actor=cast.station_admin, household=h, kind="illness", summary="住院"
    )
    before = (state(), orders())
    with pytest.raises(Forbidden):
        services.household_event_to_order(actor=cast.supervisor, event=event)
    with pytest.raises(NotFound):
        services.household_event_to_order(actor=cast.outsider, event=event)
    assert (state(), orders()) == before
    services.event_cancel(actor=cast.station_admin, event=event, reason="重复")
    before = (state(), orders())
    with pytest.raises(RuleViolation):
        services.household_event_to_order(actor=cast.station_admin, event=event)
    assert (state(), orders()) == before


def test_a_household_without_a_phone_cannot_be_ordered_for(cast):
    h = household(cast.station_admin, 1, members=[services.MemberInput("李奶奶", "head")])
    event = services.event_report(
        actor=cast.station_admin, household=h, kind="difficulty", summary="缺衣"
    )
    before = (state(), orders())
    with pytest.raises(RuleViolation) as exc:
        services.household_event_to_order(actor=cast.station_admin, event=event)
    assert exc.value.field == "phone"
    assert (state(), orders()) == before


def test_a_failing_order_rolls_the_event_back(cast):
    h = household(cast.station_admin, 1)
    event = services.event_report(
        actor=cast.station_admin, household=h, kind="difficulty", summary="x"
    )
    before = (state(), orders())
    with pytest.raises(RuleViolation):
        services.household_event_to_order(
            actor=cast.station_admin, event=event, menu_item_code="NO-SUCH-ITEM"
        )
    assert (state(), orders()) == before
    assert HouseholdEvent.objects.get().order is None
    assert HouseholdEvent.objects.get().state == EventState.OPEN


def test_the_event_page_converts_and_shows_the_order(cast, login):
    h = household(cast.station_admin, 1)
    event = services.event_report(
        actor=cast.station_admin, household=h, kind="difficulty", summary="屋顶漏雨"
    )
    client = login(cast.station_admin)
    page = client.get(f"/households/events/{event.pk}/").content.decode()
    assert "转为点单" in page
    response = client.post(
        f"/households/events/{event.pk}/order/", {"menu_item": "", "details": "请派维修队"}
    )
    assert response.status_code == 302
    order = Order.objects.get()
    page = client.get(f"/households/events/{event.pk}/").content.decode()
    assert order.number in page and f"/demands/manage/{order.pk}/" in page
    assert (
        login(cast.supervisor).post(f"/households/events/{event.pk}/order/", {}).status_code == 403
    )


def test_a_menu_order_from_the_villages_menu(cast, net):
    from tests.demands.helpers import menu_item

    item = menu_item(cast.county_admin, net.station)
    h = household(cast.station_admin, 1)
    event = services.event_report(
        actor=cast.station_admin, household=h, kind="illness", summary="需要上门理发"
    )
    order = services.household_event_to_order(
        actor=cast.station_admin, event=event, menu_item_code=item.code
    )
    assert order.kind == RequestKind.MENU and order.menu_item == item
    assert order.unit == item.unit


def test_conversion_through_the_api(cast, login):
    h = household(cast.station_admin, 1)
    event = services.event_report(
        actor=cast.station_admin, household=h, kind="difficulty", summary="缺粮"
    )
    client = login(cast.station_admin)
    response = client.post(
        f"/api/households/events/{event.pk}/order",
        {"details": "送米面油"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    order = Order.objects.get()
    assert body["order_id"] == order.pk and body["number"] == order.number
    assert body["event"]["order_id"] == order.pk
    again = client.post(
        f"/api/households/events/{event.pk}/order", {}, content_type="application/json"
    )
    assert again.status_code == 400 and again.json()["code"] == "already_ordered"
