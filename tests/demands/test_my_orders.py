"""我的点单: a logged-in resident lists the orders they placed and follows, reminds,
withdraws and rates them without the private link; nobody else's order is reachable."""

from __future__ import annotations

import pytest

from tests.conftest import make_user
from tests.demands.helpers import menu_item, order_input, resident, state
from tests.demands.helpers import submit as submit_anonymously
from wenming.core.errors import NotFound
from wenming.demands import services
from wenming.demands.models import OrderState


def submit(item, actor=None, ip="10.0.0.1"):
    if actor is None:
        return submit_anonymously(item, ip=ip, phone="13712349999")
    # A phone per order: the per-phone hourly limit is not what these tests are about.
    phone = f"1371235{ip.split('.')[-1].zfill(4)}"
    return services.order_submit(data=order_input(item, phone=phone), ip=ip, actor=actor)


@pytest.fixture
def item(cast, net):
    return menu_item(cast.county_admin, net.station)


def test_my_orders_lists_only_mine(client, cast, item):
    me = resident()
    mine = [submit(item, actor=me, ip=f"10.0.0.{n}") for n in range(2)]
    other = submit(item, ip="10.0.1.1")  # anonymous, another phone
    client.force_login(me)
    page = client.get("/demands/mine/")
    assert page.status_code == 200
    text = page.content.decode()
    for o in mine:
        assert f'id="my-order-{o.number}"' in text
    assert other.number not in text


def test_my_orders_page_has_constant_queries(client, cast, item, django_assert_max_num_queries):
    me = resident()
    client.force_login(me)
    submit(item, actor=me, ip="10.0.3.1")
    client.get("/demands/mine/")
    for n in range(5):
        submit(item, actor=me, ip=f"10.0.2.{n}")
    with django_assert_max_num_queries(8):
        client.get("/demands/mine/")


def test_my_order_page_and_remind_without_the_link(client, cast, item):
    me = resident()
    order = submit(item, actor=me)
    client.force_login(me)
    page = client.get(f"/demands/mine/{order.number}/")
    assert page.status_code == 200
    assert order.title in page.content.decode()
    assert f"/demands/mine/{order.number}/remind/" in page.content.decode()
    response = client.post(f"/demands/mine/{order.number}/remind/")
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.reminder_count == 1


def test_someone_elses_order_is_not_found_and_unchanged(client, cast, item):
    me = resident()
    order = submit(item, actor=me)
    stranger = make_user("13700000002", "路人")
    client.force_login(stranger)
    assert client.get(f"/demands/mine/{order.number}/").status_code == 404
    before = state()
    assert client.post(f"/demands/mine/{order.number}/withdraw/").status_code == 404
    assert state() == before
    # Nor through the service without a token.
    with pytest.raises(NotFound):
        services.order_withdraw(order=order, actor=stranger)
    with pytest.raises(NotFound):
        services.order_withdraw(order=order)
    assert state() == before


def test_anonymous_is_sent_to_log_in(client, cast, item):
    order = submit(item)
    response = client.get(f"/demands/mine/{order.number}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_withdraw_as_the_requester(client, cast, item):
    me = resident()
    order = submit(item, actor=me)
    services.order_withdraw(order=order, actor=me, reason="不需要了")
    order.refresh_from_db()
    assert order.state == OrderState.CANCELLED
