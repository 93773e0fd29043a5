"""Unit figures are grouped in the database, in a fixed number of queries, and equal
what a plain count over every order gives."""

from __future__ import annotations

import datetime as dt
import statistics

import pytest

from tests.demands.helpers import menu_item, order_input
from wenming.demands import selectors, services
from wenming.demands.models import Order, OrderState

T0 = dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC)


def _orders(cast, net, n: int, start: int = 0) -> None:
    """n orders at the station and the institute, in varied states and timings."""
    from wenming.demands.models import MenuItem

    station_item = MenuItem.objects.filter(title="理发").first() or menu_item(
        cast.county_admin, net.station, title="理发"
    )
    town_item = MenuItem.objects.filter(title="义诊").first() or menu_item(
        cast.county_admin, net.institute, title="义诊"
    )
    states = [OrderState.SUBMITTED, OrderState.TAKEN, OrderState.COMPLETED, OrderState.RATED]
    for k in range(start, start + n):
        item = station_item if k % 2 else town_item
        order = services.order_submit(
            data=order_input(item, phone=f"1371236{k:04d}"), ip=f"10.9.{k // 200}.{k % 200}"
        )
        state = states[k % 4]
        values = {"state": state, "requested_at": T0 + dt.timedelta(hours=k)}
        if state != OrderState.SUBMITTED:
            values["taken_at"] = values["requested_at"] + dt.timedelta(hours=1 + k % 5)
        if state in (OrderState.COMPLETED, OrderState.RATED):
            values["completed_at"] = values["requested_at"] + dt.timedelta(hours=10 + k % 7)
            values["complete_by"] = values["requested_at"] + dt.timedelta(hours=13)
        if state == OrderState.RATED:
            values["rating"] = 1 + k % 5
            values["low_rating"] = values["rating"] <= 2
        Order.objects.filter(pk=order.pk).update(**values)


def _reference(unit_id: int) -> dict:
    rows = list(Order.objects.filter(unit_id=unit_id))
    accept = [(o.taken_at - o.requested_at).total_seconds() / 3600 for o in rows if o.taken_at]
    complete = [
        (o.completed_at - o.requested_at).total_seconds() / 3600 for o in rows if o.completed_at
    ]
    timed = [o for o in rows if o.completed_at and o.complete_by]
    ratings = [o.rating for o in rows if o.rating]
    return {
        "total": len(rows),
        "median_accept_hours": round(statistics.median(accept), 1) if accept else None,
        "median_complete_hours": round(statistics.median(complete), 1) if complete else None,
        "on_time_share": (
            round(sum(o.completed_at <= o.complete_by for o in timed) / len(timed), 3)
            if timed
            else None
        ),
        "average_rating": round(sum(ratings) / len(ratings), 2) if ratings else None,
        "low_ratings": sum(1 for o in rows if o.low_rating),
    }


@pytest.mark.parametrize("n", [1, 4, 23])
def test_figures_equal_a_plain_count(cast, net, n):
    _orders(cast, net, n)
    figures = selectors.unit_figures(actor=cast.county_admin)
    assert figures
    for f in figures:
        got = {k: getattr(f, k) for k in _reference(f.unit.pk)}
        assert got == _reference(f.unit.pk)
        assert sum(f.by_state.values()) == f.total


def test_figures_take_a_fixed_number_of_queries(cast, net, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _orders(cast, net, 4)
    with CaptureQueriesContext(connection) as few:
        selectors.unit_figures(actor=cast.county_admin)
    _orders(cast, net, 30, start=4)
    with django_assert_num_queries(len(few.captured_queries)):
        selectors.unit_figures(actor=cast.county_admin)


def test_figures_are_scoped(cast, net):
    _orders(cast, net, 6)
    assert selectors.unit_figures(actor=cast.outsider) == []
    station_only = selectors.unit_figures(actor=cast.station_admin)
    assert {f.unit.pk for f in station_only} == {net.station.pk}
