"""The demo menus and orders: a menu at each level, orders in every state, one
escalated; a second load changes nothing."""

from __future__ import annotations

from wenming.core.demo import demo_load
from wenming.demands.models import MenuItem, Order, OrderEvent, OrderState
from wenming.network.models import UnitKind
from wenming.records.models import ServiceRecord


def test_demo_demands(db):
    result = demo_load()
    assert result["demands"] == {"menu_items": 8, "orders": 12}
    kinds = set(MenuItem.objects.values_list("unit__kind", flat=True))
    assert kinds == {UnitKind.CENTER, UnitKind.INSTITUTE, UnitKind.STATION, UnitKind.POINT}
    assert set(Order.objects.values_list("state", flat=True)) == set(OrderState.values)
    assert Order.objects.filter(escalation_level=1, unit__kind=UnitKind.INSTITUTE).count() == 1
    assert Order.objects.filter(low_rating=True).count() == 1
    # Nothing else is overdue yet: the escalation job leaves the demo alone at first.
    from wenming.demands.services import orders_escalate_overdue

    assert orders_escalate_overdue() == 0
    assert ServiceRecord.objects.filter(order__isnull=False).count() == 3
    assert OrderEvent.objects.count() > 30


def test_demo_demands_load_once(db):
    demo_load()
    before = (
        list(Order.objects.values()),
        list(MenuItem.objects.values()),
        OrderEvent.objects.count(),
    )
    assert demo_load()["demands"] == {"menu_items": 0, "orders": 0}
    assert (
        list(Order.objects.values()),
        list(MenuItem.objects.values()),
        OrderEvent.objects.count(),
    ) == before
