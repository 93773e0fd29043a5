"""The demands pages: the public menu, ordering form, private page and board; staff
list, detail with actions, the menu editor and figures; the assignee's tasks."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.conftest import session_queries
from tests.demands.helpers import RESIDENT_PHONE, menu_item, submit, team_with_leader
from wenming.demands import ratelimit, services
from wenming.demands.models import MenuItem, Order, OrderState
from wenming.records.models import ServiceRecord
from wenming.volunteers.models import Volunteer

S = OrderState


@pytest.fixture
def item(cast, net):
    return menu_item(cast.station_admin, net.station)


@pytest.fixture
def team(cast, net, item):
    team, leader = team_with_leader(cast.station_admin, net.station, 1, "马庄文艺队")
    item.teams.add(team)
    team.leader = leader
    return team


def _form(item, **overrides):
    data = {
        "name": "王大爷",
        "phone": RESIDENT_PHONE,
        "region_code": "320305005204",
        "address": "三组 12 号",
        "preferred_time": "周六上午",
        "details": "",
    }
    data.update(overrides)
    return data


def test_menu_shows_village_town_and_county(client, cast, net, item):
    menu_item(cast.county_admin, net.center, title="法律咨询", work_item="policy")
    menu_item(cast.county_admin, net.station2, title="唐庄送戏")
    response = client.get(reverse("demands:menu"), {"village": "320305005204"})
    text = response.content.decode()
    assert response.status_code == 200
    assert "上门理发" in text and "法律咨询" in text and "唐庄送戏" not in text


def test_anonymous_order_lands_on_the_private_page(client, item):
    url = reverse("demands:order") + f"?item={item.code}"
    assert client.get(url).status_code == 200
    response = client.post(url, _form(item), follow=True)
    assert response.status_code == 200
    order = Order.objects.get()
    path = response.redirect_chain[-1][0]
    assert re.fullmatch(rf"/demands/o/{order.number}/[-_A-Za-z0-9]{{43}}/", path)
    text = response.content.decode()
    assert order.number in text and "点单成功" in text
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "王大爷" not in text and RESIDENT_PHONE not in text


def test_order_form_errors_are_clear_chinese(client, item):
    url = reverse("demands:order") + f"?item={item.code}"
    response = client.post(url, _form(item, phone="123", name="", region_code=""))
    text = response.content.decode()
    assert response.status_code == 200 and Order.objects.count() == 0
    # Every problem at once, each on its field: not one per submit.
    errors = response.context["form"].errors
    assert errors == {
        "name": ["请填写您的姓名。"],
        "phone": ["手机号码格式不正确。"],
        "region_code": ["请选择您所在的村（社区）。"],
    }
    for message in ("请填写您的姓名", "手机号码格式不正确", "请选择您所在的村（社区）"):
        assert message in text


def test_a_logged_in_resident_finds_the_form_filled_in(client, item):
    from tests.conftest import make_user
    from wenming.core.roles import Role

    resident = make_user("13700000001", "陈大爷", Role.RESIDENT, "320305005204")
    client.force_login(resident)
    form = client.get(reverse("demands:order") + f"?item={item.code}").context["form"]
    assert form.initial == {
        "name": "陈大爷",
        "phone": "13700000001",
        "region_code": "320305005204",
    }


def test_rate_limit_shows_a_message(client, item):
    url = reverse("demands:order") + f"?item={item.code}"
    for _ in range(ratelimit.PER_PHONE_HOUR[0]):
        assert client.post(url, _form(item)).status_code == 302
    response = client.post(url, _form(item))
    assert response.status_code == 200 and "一小时内最多点单" in response.content.decode()
    assert Order.objects.count() == ratelimit.PER_PHONE_HOUR[0]


def test_private_page_rate_remind_withdraw(client, cast, item, team):
    order = submit(item)
    url = services.private_link(order, order.link_token)
    assert client.get(url).status_code == 200
    client.post(url + "remind/")
    assert Order.objects.get(pk=order.pk).reminder_count == 1
    assert client.get(f"/demands/o/{order.number}/{'x' * 43}/").status_code == 404
    other = submit(item, phone="13900000444")
    assert client.get(f"/demands/o/{other.number}/{order.link_token}/").status_code == 404
    assert client.post(f"/demands/o/{other.number}/{order.link_token}/withdraw/").status_code == 404
    assert Order.objects.get(pk=other.pk).state == S.SUBMITTED
    services.order_accept(actor=cast.station_admin, order=order)
    services.order_dispatch(actor=cast.station_admin, order=order, team=team)
    services.order_take(actor=team.leader, order=order)
    leader = Volunteer.objects.get(user=team.leader)
    services.order_complete(
        actor=team.leader,
        order=order,
        note="好",
        participants=[services.Participant(leader.pk, 30)],
    )
    client.post(url + "rate/", {"stars": "4", "comment": "很好"})
    order.refresh_from_db()
    assert (order.state, order.rating) == (S.RATED, 4)


def test_board_has_no_personal_data(client, cast, item, team):
    order = submit(item)
    services.order_accept(actor=cast.station_admin, order=order)
    services.order_dispatch(actor=cast.station_admin, order=order, team=team)
    services.order_take(actor=team.leader, order=order)
    leader = Volunteer.objects.get(user=team.leader)
    services.order_complete(
        actor=team.leader,
        order=order,
        note="好",
        participants=[services.Participant(leader.pk, 30)],
    )
    text = client.get(reverse("demands:board")).content.decode()
    assert "上门理发" in text and "马庄文艺队" in text
    for secret in ("王大爷", "王**", RESIDENT_PHONE, "139****5678", "三组", order.number):
        assert secret not in text


def test_board_query_count_is_constant(client, cast, item, team, django_assert_num_queries):
    for n in range(3):
        order = submit(item, phone=f"1390000{n:04d}")
        Order.objects.filter(pk=order.pk).update(state=S.COMPLETED, assigned_team=team)
    with django_assert_num_queries(3):  # count, page, towns
        client.get(reverse("demands:board"))


def test_staff_list_scoped_and_counted(client, login, cast, item, django_assert_num_queries):
    for n in range(3):
        submit(item, phone=f"1390000{n:04d}")
    c = login(cast.station_admin)
    response = c.get(reverse("demands:manage"))
    assert response.status_code == 200 and response.content.decode().count("上门理发") == 3
    with django_assert_num_queries(4 + session_queries()):
        c.get(reverse("demands:manage"))
    submit(item, phone="13900009999")
    with django_assert_num_queries(4 + session_queries()):
        c.get(reverse("demands:manage"))
    c = login(cast.outsider)
    assert "上门理发" not in c.get(reverse("demands:manage")).content.decode()
    c = login(cast.volunteer)
    assert c.get(reverse("demands:manage")).status_code == 403


def test_staff_detail_outsider_404_supervisor_readonly(client, login, cast, item):
    order = submit(item)
    url = reverse("demands:manage_detail", args=[order.pk])
    assert login(cast.outsider).get(url).status_code == 404
    c = login(cast.supervisor)
    assert c.get(url).status_code == 200
    assert c.post(reverse("demands:manage_action", args=[order.pk, "accept"])).status_code == 403
    assert Order.objects.get(pk=order.pk).state == S.SUBMITTED
    assert (
        login(cast.outsider)
        .post(reverse("demands:manage_action", args=[order.pk, "accept"]))
        .status_code
        == 404
    )


def test_dispatch_take_complete_through_the_pages(client, login, cast, item, team):
    order = submit(item)
    c = login(cast.station_admin)
    c.post(reverse("demands:manage_action", args=[order.pk, "accept"]))
    page = c.get(reverse("demands:manage_detail", args=[order.pk])).content.decode()
    assert "马庄文艺队" in page and "距离" in page and "同村" in page
    c.post(
        reverse("demands:manage_action", args=[order.pk, "dispatch"]),
        {"assignee": f"team:{team.pk}", "due_at": "2099-01-01T10:00"},
    )
    assert Order.objects.get(pk=order.pk).state == S.DISPATCHED
    c = login(team.leader)
    assert "上门理发" in c.get(reverse("demands:tasks")).content.decode()
    c.post(reverse("demands:manage_action", args=[order.pk, "take"]))
    assert Order.objects.get(pk=order.pk).state == S.TAKEN
    leader = Volunteer.objects.get(user=team.leader)
    c.post(
        reverse("demands:manage_action", args=[order.pk, "complete"]),
        {"note": "理发完成", "volunteer": [str(leader.pk)], f"minutes_{leader.pk}": "75"},
    )
    assert Order.objects.get(pk=order.pk).state == S.COMPLETED
    assert ServiceRecord.objects.get(order=order).minutes == 75


def test_contact_reveal_page(client, login, cast, item):
    order = submit(item)
    c = login(cast.station_admin)
    response = c.post(reverse("demands:contact", args=[order.pk]))
    assert RESIDENT_PHONE in response.content.decode()
    assert (
        login(cast.supervisor).post(reverse("demands:contact", args=[order.pk])).status_code == 403
    )


def test_staff_order_for_resident_page(client, login, cast, item):
    c = login(cast.station_admin)
    assert c.get(reverse("demands:manage_create")).status_code == 200
    response = c.post(
        reverse("demands:manage_create"),
        {**_form(item), "channel": "phone", "menu_item_code": item.code},
    )
    order = Order.objects.get()
    assert response.status_code == 302 and order.channel == "phone"


def test_menu_editor(client, login, cast, net):
    c = login(cast.station_admin)
    response = c.post(
        reverse("demands:menu_create"),
        {
            "unit_id": net.station.pk,
            "title": "代写家书",
            "work_item": "values",
            "delivery_mode": "venue",
            "response_hours": 12,
            "complete_hours": 48,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    item = MenuItem.objects.get(title="代写家书")
    code = item.code
    c.post(
        reverse("demands:menu_edit", args=[item.pk]),
        {"unit_id": net.station.pk, "title": "代写书信", "work_item": "values",
         "delivery_mode": "venue", "response_hours": 12, "complete_hours": 48},
    )  # fmt: skip
    item.refresh_from_db()
    assert item.title == "代写书信" and item.code == code and not item.is_active
    assert login(cast.supervisor).get(reverse("demands:menu_create")).status_code == 403
    assert login(cast.outsider).get(reverse("demands:menu_edit", args=[item.pk])).status_code == 404


def test_figures_page(client, login, cast, item):
    submit(item)
    response = login(cast.county_admin).get(reverse("demands:figures"))
    assert response.status_code == 200 and "马庄新时代文明实践站" in response.content.decode()


def test_unit_confirms_the_order_records_on_the_order_page(client, login, cast, item, team):
    order = submit(item)
    services.order_accept(actor=cast.station_admin, order=order)
    services.order_dispatch(actor=cast.station_admin, order=order, team=team)
    services.order_take(actor=team.leader, order=order)
    leader = Volunteer.objects.get(user=team.leader)
    services.order_complete(
        actor=team.leader,
        order=order,
        note="好",
        participants=[services.Participant(leader.pk, 50)],
    )
    url = reverse("demands:manage_action", args=[order.pk, "confirm_records"])
    assert login(cast.supervisor).post(url).status_code == 403
    c = login(cast.station_admin)
    assert (
        "confirm-records"
        in c.get(reverse("demands:manage_detail", args=[order.pk])).content.decode()
    )
    c.post(url)
    assert ServiceRecord.objects.get(order=order).status == "confirmed"
    leader.refresh_from_db()
    assert leader.confirmed_minutes == 50


def test_tasks_page_query_count_is_constant(
    client, login, cast, item, team, django_assert_num_queries
):
    def open_order(n):
        order = submit(item, phone=f"1390001{n:04d}")
        services.order_accept(actor=cast.station_admin, order=order)
        services.order_open_for_grab(actor=cast.station_admin, order=order)

    open_order(0)
    c = login(team.leader)
    c.get(reverse("demands:tasks"))
    with django_assert_num_queries(13 + session_queries()) as ctx:
        c.get(reverse("demands:tasks"))
    for n in range(1, 4):
        open_order(n)
    with django_assert_num_queries(len(ctx)):
        text = c.get(reverse("demands:tasks")).content.decode()
    assert text.count("抢单</button>") == 4


def test_volunteer_sees_the_order_record_in_my_records(client, login, cast, item, team):
    order = submit(item)
    services.order_accept(actor=cast.station_admin, order=order)
    services.order_dispatch(actor=cast.station_admin, order=order, team=team)
    services.order_take(actor=team.leader, order=order)
    leader = Volunteer.objects.get(user=team.leader)
    services.order_complete(
        actor=team.leader,
        order=order,
        note="好",
        participants=[services.Participant(leader.pk, 45)],
    )
    text = login(team.leader).get(reverse("records:mine")).content.decode()
    assert "群众点单：上门理发" in text and "待确认" in text
