"""The order state machine, exhaustively: from every state, every action either moves
the order exactly as TRANSITIONS says or is refused with nothing changed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.demands.helpers import menu_item, state, submit, team_with_leader
from wenming.core.errors import RuleViolation
from wenming.demands import services
from wenming.demands.models import Order, OrderEvent, OrderState
from wenming.volunteers.models import Volunteer

S = OrderState


class World:
    def __init__(self, cast: Any, net: Any) -> None:
        self.cast = cast
        self.staff = cast.sysadmin
        self.item = menu_item(cast.station_admin, net.station)
        self.team, self.leader = team_with_leader(cast.station_admin, net.station, 1)
        self.item.teams.add(self.team)
        self.leader_volunteer = Volunteer.objects.get(user=self.leader)

    def order_in(self, target: str) -> tuple[Order, str]:
        order = submit(self.item)
        token = order.link_token
        path = {
            S.SUBMITTED: [],
            S.ACCEPTED: ["accept"],
            S.REJECTED: ["reject"],
            S.DISPATCHED: ["accept", "dispatch"],
            S.OPEN: ["accept", "open_grab"],
            S.TAKEN: ["accept", "dispatch", "take"],
            S.COMPLETED: ["accept", "dispatch", "take", "complete"],
            S.RATED: ["accept", "dispatch", "take", "complete", "rate"],
            S.CANCELLED: ["cancel"],
        }[target]
        for action in path:
            self.do(action, Order.objects.get(pk=order.pk), token)
        order = Order.objects.get(pk=order.pk)
        assert order.state == target
        return order, token

    def do(self, action: str, order: Order, token: str) -> Order:
        calls: dict[str, Callable[[], Order]] = {
            "accept": lambda: services.order_accept(actor=self.staff, order=order),
            "reject": lambda: services.order_reject(
                actor=self.staff, order=order, reason="不属于服务范围"
            ),
            "dispatch": lambda: services.order_dispatch(
                actor=self.staff, order=order, team=self.team
            ),
            "open_grab": lambda: services.order_open_for_grab(actor=self.staff, order=order),
            "recall": lambda: services.order_recall(actor=self.staff, order=order, reason="改派"),
            "take": lambda: services.order_take(actor=self.staff, order=order),
            "grab": lambda: services.order_grab(actor=self.leader, order=order, team=self.team),
            "decline": lambda: services.order_decline(
                actor=self.staff, order=order, reason="人手不足"
            ),
            "complete": lambda: services.order_complete(
                actor=self.staff,
                order=order,
                note="已上门理发",
                participants=[services.Participant(self.leader_volunteer.pk, 60)],
            ),
            "rate": lambda: services.order_rate(order=order, token=token, stars=5, comment="好"),
            "cancel": lambda: services.order_cancel(
                actor=self.staff, order=order, reason="重复下单"
            ),
            "withdraw": lambda: services.order_withdraw(order=order, token=token),
        }
        return calls[action]()


CASES = [(s, a) for s in S.values for a in services.TRANSITIONS]


@pytest.mark.parametrize(("source", "action"), CASES)
def test_every_action_from_every_state(cast, net, source, action):
    world = World(cast, net)
    order, token = world.order_in(source)
    transition = services.TRANSITIONS[action]
    if source in transition.sources:
        events = OrderEvent.objects.filter(order=order).count()
        moved = world.do(action, order, token)
        assert Order.objects.get(pk=order.pk).state == transition.target == moved.state
        last = OrderEvent.objects.filter(order=order).last()
        assert OrderEvent.objects.filter(order=order).count() == events + 1
        assert (last.action, last.from_state, last.to_state) == (action, source, transition.target)
    else:
        before = state()
        with pytest.raises(RuleViolation):
            world.do(action, order, token)
        assert state() == before


def test_every_state_is_reachable_and_every_action_has_a_service():
    targets = {t.target for t in services.TRANSITIONS.values()} | {S.SUBMITTED}
    assert targets == set(S.values)
    sources = set().union(*(t.sources for t in services.TRANSITIONS.values()))
    # Terminal states: nothing leaves them.
    assert set(S.values) - sources == {S.REJECTED, S.RATED, S.CANCELLED}


def test_one_entry_point_takes_every_step_and_refuses_unknown_ones(cast, net):
    """Pages and API both go through services.order_act."""
    from tests.demands.helpers import menu_item, state, submit
    from wenming.core.errors import NotFound
    from wenming.demands import services as demand_services

    order = submit(menu_item(cast.county_admin, net.station))
    before = state()
    with pytest.raises(NotFound):
        demand_services.order_act(
            actor=cast.county_admin,
            order=order,
            action="delete",
            data=demand_services.OrderActionInput(),
        )
    assert state() == before
    moved = demand_services.order_act(
        actor=cast.county_admin,
        order=order,
        action="accept",
        data=demand_services.OrderActionInput(note="收到"),
    )
    assert moved.state == "accepted"
    assert set(demand_services.ORDER_ACTIONS) <= set(demand_services.TRANSITIONS)
