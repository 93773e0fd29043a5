"""20 teams grab one open order at the same moment (PostgreSQL, one connection per
thread): exactly one wins, the other 19 are told it is gone, and the order's timeline
holds exactly one grab."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from tests.demands.helpers import menu_item, submit, team_with_leader
from wenming.accounts.models import User
from wenming.core.errors import RuleViolation
from wenming.demands import services
from wenming.demands.models import Order, OrderEvent, OrderState
from wenming.volunteers.models import Team

TEAMS = 20


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_20_teams_grab_at_once_exactly_one_wins(cast, net):
    item = menu_item(cast.station_admin, net.station)
    pairs = [
        team_with_leader(cast.station_admin, net.station, n, f"抢单队{n}") for n in range(TEAMS)
    ]
    item.teams.add(*[t for t, _u in pairs])
    order = submit(item)
    services.order_accept(actor=cast.station_admin, order=order)
    services.order_open_for_grab(actor=cast.station_admin, order=order)
    go = threading.Event()
    wins: list[int] = []
    losses: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def attempt(team_id: int, user_id: int) -> None:
        go.wait(timeout=30)
        try:
            actor = User.objects.get(pk=user_id)
            team = Team.objects.get(pk=team_id)
            target = Order.objects.get(pk=order.pk)
            services.order_grab(actor=actor, order=target, team=team)
            with lock:
                wins.append(team_id)
        except RuleViolation as exc:
            with lock:
                losses.append(exc.code)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(t.pk, u.pk)) for t, u in pairs]
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join()
    assert errors == []
    assert len(wins) == 1
    assert losses == ["grabbed"] * (TEAMS - 1)
    order.refresh_from_db()
    assert order.state == OrderState.TAKEN and order.assigned_team_id == wins[0]
    grabs = OrderEvent.objects.filter(order=order, action="grab")
    assert list(grabs.values_list("team_id", flat=True)) == wins
