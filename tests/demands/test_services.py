"""The demands services' rules: who may do what, ordering validation, the private
link, rate limits, grabbing, completion into service records, rating, reminders and
escalation (with time travel)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.activities.helpers import volunteer_user
from tests.demands.helpers import (
    RESIDENT_PHONE,
    add_member,
    menu_item,
    order_input,
    state,
    submit,
    team_with_leader,
)
from wenming.core import crypto
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.demands import ratelimit, services
from wenming.demands.models import Order, OrderEvent, OrderPhoto, OrderState
from wenming.demands.permissions import grabbable_order_ids
from wenming.records import services as record_services
from wenming.records.models import RecordStatus, ServiceRecord
from wenming.volunteers.models import Volunteer

S = OrderState
T0 = dt.datetime(2026, 11, 28, 1, 0, tzinfo=dt.UTC)


@pytest.fixture
def item(cast, net):
    return menu_item(cast.station_admin, net.station)


@pytest.fixture
def team(cast, net, item):
    team, leader = team_with_leader(cast.station_admin, net.station, 1, "马庄文艺队")
    item.teams.add(team)
    team.leader = leader
    return team


def jpeg_upload(name: str = "p.jpg", size: tuple[int, int] = (40, 30)) -> SimpleUploadedFile:
    out = io.BytesIO()
    img = Image.new("RGB", size, (200, 10, 10))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    img.save(out, "JPEG", exif=exif)
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


# ---------------------------------------------------------------- ordering


def test_submit_stores_personal_data_encrypted_and_masked(item):
    order = submit(item)
    assert order.state == S.SUBMITTED and order.unit == item.unit
    assert order.requester_phone_masked == "139****5678"
    assert order.requester_name_masked == "王**"
    assert RESIDENT_PHONE not in order.requester_phone_cipher
    assert crypto.decrypt(order.requester_phone_cipher) == RESIDENT_PHONE
    assert crypto.decrypt(order.requester_name_cipher) == "王大爷"
    assert order.requester_phone_digest == crypto.digest(RESIDENT_PHONE)
    assert order.respond_by == order.requested_at + dt.timedelta(hours=24)
    assert order.link_token and order.link_token not in str(
        Order.objects.filter(pk=order.pk).values()[0]
    )
    assert [e.action for e in order.events.all()] == ["submit"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "长" * 21}, "name"),
        ({"phone": "12345"}, "phone"),
        ({"region_code": "320305005000"}, "region_code"),  # a town, not a village
        ({"region_code": "999999999999"}, "region_code"),
        ({"menu_item_code": "SNOPE"}, "menu_item_code"),
        ({"details": "字" * 1001}, "details"),
        ({"address": "址" * 201}, "address"),
        ({"kind": "other"}, "kind"),
    ],
)
def test_submit_validation_refuses_with_chinese_message(item, overrides, field):
    before = state()
    with pytest.raises(RuleViolation) as exc:
        submit(item, **overrides)
    assert exc.value.field == field
    assert any("\u4e00" <= ch <= "\u9fff" for ch in exc.value.message)
    assert state() == before


def test_menu_of_another_town_cannot_be_ordered(cast, net):
    other = menu_item(cast.county_admin, net.station2, title="唐庄送戏")
    with pytest.raises(RuleViolation) as exc:
        submit(other)  # the resident lives in 马庄, not 唐庄
    assert exc.value.field == "menu_item_code"


def test_free_request_lands_on_the_village_station(net):
    order = submit(None, kind="wish", details="想要一台收音机")
    assert order.unit == net.station and order.title == "微心愿"
    with pytest.raises(RuleViolation) as exc:
        submit(None, kind="help", details="")
    assert exc.value.field == "details"


def test_free_request_in_a_village_without_station_lands_on_the_institute(cast, net):
    from wenming.network.models import Region

    Region.objects.create(code="320305005201", name="新村", level=5, parent=net.town)
    order = submit(None, region_code="320305005201")
    assert order.unit == net.institute


def test_photo_is_checked_and_stripped(item):
    order = submit(item, photo=jpeg_upload())
    photo = OrderPhoto.objects.get(order=order)
    from django.core.files.storage import default_storage

    with default_storage.open(photo.image.name) as f, Image.open(f) as img:
        assert img.format == "JPEG" and not img.getexif()
    before = state()
    with pytest.raises(RuleViolation) as exc:
        submit(item, photo=SimpleUploadedFile("x.jpg", b"GIF89a not really", "image/jpeg"))
    assert exc.value.field == "photo"
    big = SimpleUploadedFile("big.jpg", b"0" * (5 * 1024 * 1024 + 1), "image/jpeg")
    with pytest.raises(RuleViolation) as exc:
        submit(item, photo=big)
    assert exc.value.code == "too_big"
    assert state() == before


def test_staff_order_for_a_resident_who_phones_in(cast, item):
    order = services.order_create(actor=cast.station_admin, data=order_input(item))
    assert order.channel == "phone" and order.created_by == cast.station_admin
    assert order.link_token
    with pytest.raises(NotFound):
        services.order_create(actor=cast.outsider, data=order_input(item))
    with pytest.raises(Forbidden):
        services.order_create(actor=cast.supervisor, data=order_input(item))
    with pytest.raises(NotFound):
        services.order_create(actor=cast.volunteer, data=order_input(item))


# ---------------------------------------------------------------- rate limits


def test_rate_limit_per_phone(item):
    for _ in range(ratelimit.PER_PHONE_HOUR[0]):
        submit(item)
    before = state()
    with pytest.raises(RuleViolation) as exc:
        submit(item, ip="10.0.0.2")
    assert exc.value.code == "rate_limited" and "一小时" in exc.value.message
    assert state() == before
    submit(item, phone="13912340000")  # another phone is fine
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(hours=2), tick=False):
        submit(item)  # the window has passed


def test_rate_limit_per_ip(item, monkeypatch):
    monkeypatch.setattr(ratelimit, "PER_IP_HOUR", (2, 3600))
    submit(item, phone="13900000101")
    submit(item, phone="13900000102")
    before = state()
    with pytest.raises(RuleViolation) as exc:
        submit(item, phone="13900000103")
    assert exc.value.code == "rate_limited" and "网络" in exc.value.message
    assert state() == before
    submit(item, phone="13900000103", ip="10.9.9.9")


def test_staff_ordering_is_not_rate_limited(cast, item):
    for _ in range(ratelimit.PER_PHONE_HOUR[0] + 2):
        services.order_create(actor=cast.station_admin, data=order_input(item))


# ---------------------------------------------------------------- the private link


def test_private_link_finds_only_its_own_order(item):
    a, b = submit(item), submit(item, phone="13900000222")
    assert services.order_by_link(a.number, a.link_token).pk == a.pk
    assert services.order_by_link(a.number.lower(), a.link_token).pk == a.pk
    for number, token in [
        (a.number, b.link_token),  # another order's token
        (b.number, a.link_token),
        (a.number, ""),
        (a.number, a.link_token[:-1]),
        ("NOPE-NOPE", a.link_token),
        (a.number, a.token_digest),  # the stored digest is not the key
    ]:
        with pytest.raises(NotFound):
            services.order_by_link(number, token)


def test_another_orders_token_cannot_rate_or_withdraw(cast, item, team):
    a, b = submit(item), submit(item, phone="13900000333")
    for o in (a, b):
        services.order_accept(actor=cast.station_admin, order=o)
        services.order_dispatch(actor=cast.station_admin, order=o, team=team)
        services.order_take(actor=team.leader, order=o)
    leader = Volunteer.objects.get(user=team.leader)
    services.order_complete(
        actor=team.leader, order=a, note="好", participants=[services.Participant(leader.pk, 30)]
    )
    before = state()
    with pytest.raises(NotFound):
        services.order_rate(order=a, token=b.link_token, stars=1)
    with pytest.raises(NotFound):
        services.order_withdraw(order=b, token=a.link_token)
    with pytest.raises(NotFound):
        services.order_remind(order=b, token=a.link_token)
    assert state() == before


def test_numbers_and_tokens_are_random_and_long(item):
    orders = [submit(item, phone=f"1390000{n:04d}", ip=f"10.0.1.{n}") for n in range(3)]
    numbers = {o.number for o in orders}
    assert len(numbers) == 3
    for o in orders:
        assert len(o.number) == 11 and o.number[5] == "-"
        assert len(o.link_token) >= 43  # 256 bits
        assert o.number.replace("-", "") not in o.link_token


# ---------------------------------------------------------------- who may act


def test_outsider_404_and_supervisor_403_change_nothing(cast, item, team):
    order = submit(item)
    before = state()
    for actor, error in [
        (cast.outsider, NotFound),
        (cast.volunteer, NotFound),
        (cast.supervisor, Forbidden),
    ]:
        with pytest.raises(error):
            services.order_accept(actor=actor, order=order)
        with pytest.raises(error):
            services.order_cancel(actor=actor, order=order, reason="x")
        with pytest.raises(error):
            services.order_contact_reveal(actor=actor, order=order)
    assert state() == before


def test_station_staff_act_institute_and_center_too(cast, item):
    for actor in (cast.station_admin, cast.institute_admin, cast.county_admin):
        order = submit(item, phone=f"139{actor.pk:08d}")
        services.order_accept(actor=actor, order=order)


def test_only_the_assignee_or_staff_take_and_complete(cast, net, item, team):
    _other_team, other_leader = team_with_leader(cast.station_admin, net.station, 2, "别队")
    order = submit(item)
    services.order_accept(actor=cast.station_admin, order=order)
    services.order_dispatch(actor=cast.station_admin, order=order, team=team)
    before = state()
    with pytest.raises((NotFound, Forbidden)):
        services.order_take(actor=other_leader, order=order)
    assert state() == before
    services.order_take(actor=team.leader, order=order)
    # Only active members of the assigned team count as participants.
    stranger = Volunteer.objects.get(user=other_leader)
    with pytest.raises(RuleViolation) as exc:
        services.order_complete(
            actor=team.leader, order=order, note="好",
            participants=[services.Participant(stranger.pk, 30)],
        )  # fmt: skip
    assert exc.value.field == "participants"


def test_reveal_contact_is_audited(cast, item, team):
    from wenming.core.models import AuditEvent

    order = submit(item)
    assert services.order_contact_reveal(actor=cast.station_admin, order=order) == (
        "王大爷",
        RESIDENT_PHONE,
    )
    assert AuditEvent.objects.filter(verb="order.reveal", target_id=str(order.pk)).count() == 1
    # The team leader only while the order is theirs.
    with pytest.raises((Forbidden, NotFound)):
        services.order_contact_reveal(actor=team.leader, order=order)
    services.order_accept(actor=cast.station_admin, order=order)
    services.order_dispatch(actor=cast.station_admin, order=order, team=team)
    assert services.order_contact_reveal(actor=team.leader, order=order)[1] == RESIDENT_PHONE


# ---------------------------------------------------------------- dispatch and grab


def test_dispatch_needs_one_assignee_and_a_future_deadline(cast, item, team):
    order = submit(item)
    services.order_accept(actor=cast.station_admin, order=order)
    before = state()
    with pytest.raises(RuleViolation):
        services.order_dispatch(actor=cast.station_admin, order=order)
    with pytest.raises(RuleViolation):
        services.order_dispatch(
            actor=cast.station_admin, order=order, team=team,
            due_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
        )  # fmt: skip
    assert state() == before
    due = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    services.order_dispatch(actor=cast.station_admin, order=order, team=team, due_at=due)
    order.refresh_from_db()
    assert order.assigned_team == team and order.complete_by == due


def test_dispatch_to_a_volunteer_who_takes_it(cast, item):
    user = volunteer_user(cast.station_admin, 7)
    volunteer = Volunteer.objects.get(user=user)
    order = submit(item)
    services.order_accept(actor=cast.station_admin, order=order)
    services.order_dispatch(actor=cast.station_admin, order=order, volunteer=volunteer)
    services.order_take(actor=user, order=order)
    services.order_complete(
        actor=user,
        order=order,
        note="已完成",
        participants=[services.Participant(volunteer.pk, 45)],
    )
    assert Order.objects.get(pk=order.pk).state == S.COMPLETED


def test_decline_returns_the_order_for_dispatch(cast, item, team):
    order = submit(item)
    services.order_accept(actor=cast.station_admin, order=order)
    services.order_dispatch(actor=cast.station_admin, order=order, team=team)
    with pytest.raises(RuleViolation):
        services.order_decline(actor=team.leader, order=order, reason="  ")
    services.order_decline(actor=team.leader, order=order, reason="本周人手不足")
    order.refresh_from_db()
    assert order.state == S.ACCEPTED and order.assigned_team is None
    assert order.events.last().note == "本周人手不足"


def test_grab_only_by_an_eligible_teams_leader(cast, net, item, team):
    outside_team, outside_leader = team_with_leader(cast.county_admin, net.station2, 3, "唐庄队")
    order = submit(item)
    services.order_accept(actor=cast.station_admin, order=order)
    services.order_open_for_grab(actor=cast.station_admin, order=order)
    before = state()
    with pytest.raises(Forbidden):
        services.order_grab(actor=outside_leader, order=order, team=outside_team)
    with pytest.raises(Forbidden):
        services.order_grab(actor=outside_leader, order=order, team=team)  # not its leader
    assert state() == before
    assert order.pk in grabbable_order_ids(team.leader)
    assert order.pk not in grabbable_order_ids(outside_leader)
    services.order_grab(actor=team.leader, order=order, team=team)
    order.refresh_from_db()
    assert order.state == S.TAKEN and order.assigned_team == team and order.taken_at
    second_team, second_leader = team_with_leader(cast.station_admin, net.station, 4, "第二队")
    item.teams.add(second_team)
    with pytest.raises(RuleViolation) as exc:
        services.order_grab(actor=second_leader, order=order, team=second_team)
    assert exc.value.code == "grabbed"


def test_free_request_can_be_grabbed_by_any_team_under_the_unit(cast, net):
    team, leader = team_with_leader(cast.station_admin, net.station, 5, "马庄综合队")
    order = submit(None)
    services.order_accept(actor=cast.station_admin, order=order)
    services.order_open_for_grab(actor=cast.station_admin, order=order)
    services.order_grab(actor=leader, order=order, team=team)


# ---------------------------------------------------------------- completion and rating


def _taken(cast, item, team):
    order = submit(item)
    services.order_accept(actor=cast.station_admin, order=order)
    services.order_dispatch(actor=cast.station_admin, order=order, team=team)
    services.order_take(actor=team.leader, order=order)
    return Order.objects.get(pk=order.pk), order.link_token


def test_completion_makes_pending_records_the_unit_confirms(cast, net, item, team):
    order, _token = _taken(cast, item, team)
    leader = Volunteer.objects.get(user=team.leader)
    member = Volunteer.objects.get(user=volunteer_user(cast.station_admin, 8))
    add_member(team, member)
    services.order_complete(
        actor=team.leader, order=order, note="理发两人次",
        participants=[services.Participant(leader.pk, 90), services.Participant(member.pk, 60)],
        photos=[jpeg_upload(), jpeg_upload("b.jpg")],
    )  # fmt: skip
    records = list(ServiceRecord.objects.filter(order=order).order_by("volunteer_id"))
    assert [(r.volunteer_id, r.minutes, r.status) for r in records] == sorted(
        [(leader.pk, 90, RecordStatus.PENDING), (member.pk, 60, RecordStatus.PENDING)]
    )
    assert all(r.unit == net.station and r.activity is None for r in records)
    assert OrderPhoto.objects.filter(order=order, kind="completion").count() == 2
    # Confirmed by whoever organised: the unit's staff; the team leader cannot.
    with pytest.raises((Forbidden, NotFound)):
        record_services.record_confirm(actor=team.leader, record=records[0])
    record_services.record_confirm(actor=cast.station_admin, record=records[0])
    leader.refresh_from_db()
    assert leader.confirmed_minutes == 90


def test_completion_needs_notes_and_sane_minutes(cast, item, team):
    order, _token = _taken(cast, item, team)
    leader = Volunteer.objects.get(user=team.leader)
    before = state()
    for note, minutes in [("", 30), ("好", 0), ("好", 13 * 60)]:
        with pytest.raises(RuleViolation):
            services.order_complete(
                actor=team.leader, order=order, note=note,
                participants=[services.Participant(leader.pk, minutes)],
            )  # fmt: skip
    with pytest.raises(RuleViolation):
        services.order_complete(actor=team.leader, order=order, note="好", participants=[])
    assert state() == before


def test_rating_and_low_rating_flag(cast, item, team):
    order, token = _taken(cast, item, team)
    leader = Volunteer.objects.get(user=team.leader)
    services.order_complete(
        actor=team.leader,
        order=order,
        note="好",
        participants=[services.Participant(leader.pk, 30)],
    )
    before = state()
    for stars in (0, 6):
        with pytest.raises(RuleViolation):
            services.order_rate(order=order, token=token, stars=stars)
    assert state() == before
    services.order_rate(order=order, token=token, stars=2, comment="来晚了")
    order.refresh_from_db()
    assert (order.state, order.rating, order.low_rating, order.rating_comment) == (
        S.RATED, 2, True, "来晚了",
    )  # fmt: skip
    with pytest.raises(RuleViolation):
        services.order_rate(order=order, token=token, stars=5)


# ---------------------------------------------------------------- reminders


def test_reminders_are_rate_limited(item):
    with time_machine.travel(T0, tick=False):
        order = submit(item)
    token = order.link_token
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        services.order_remind(order=order, token=token)
        before = state()
        with pytest.raises(RuleViolation) as exc:
            services.order_remind(order=order, token=token)
        assert exc.value.code == "rate_limited" and state() == before
    with time_machine.travel(T0 + dt.timedelta(hours=5, minutes=1), tick=False):
        services.order_remind(order=order, token=token)
    with time_machine.travel(T0 + dt.timedelta(hours=9, minutes=2), tick=False):
        services.order_remind(order=order, token=token)
    with time_machine.travel(T0 + dt.timedelta(hours=20), tick=False):
        with pytest.raises(RuleViolation) as exc:
            services.order_remind(order=order, token=token)
        assert "最多催单" in exc.value.message
    order.refresh_from_db()
    assert order.reminder_count == 3
    assert order.events.filter(action="remind").count() == 3


def test_no_reminder_on_a_closed_order(cast, item):
    order = submit(item)
    services.order_cancel(actor=cast.station_admin, order=order, reason="重复")
    with pytest.raises(RuleViolation):
        services.order_remind(order=order, token=order.link_token)


# ---------------------------------------------------------------- escalation


def test_escalation_station_institute_center_with_time_travel(cast, net, item):
    with time_machine.travel(T0, tick=False):
        order = submit(item)  # 24 h to be taken on
    with time_machine.travel(T0 + dt.timedelta(hours=23), tick=False):
        assert services.orders_escalate_overdue() == 0
    with time_machine.travel(T0 + dt.timedelta(hours=25), tick=False):
        assert services.orders_escalate_overdue() == 1
        assert services.orders_escalate_overdue() == 0  # the clock restarted there
    order.refresh_from_db()
    assert order.unit == net.institute and order.escalation_level == 1
    assert order.respond_by == T0 + dt.timedelta(hours=49)
    # The station can no longer act; the institute can.
    with pytest.raises((Forbidden, NotFound)):
        services.order_accept(actor=cast.station_admin, order=order)
    with time_machine.travel(T0 + dt.timedelta(hours=50), tick=False):
        assert services.orders_escalate_overdue() == 1
    order.refresh_from_db()
    assert order.unit == net.center
    with time_machine.travel(T0 + dt.timedelta(hours=200), tick=False):
        assert services.orders_escalate_overdue() == 0  # the center is the top
    notes = list(order.events.filter(action="escalate").values_list("note", flat=True))
    assert len(notes) == 2 and "上报至" in notes[0]


def test_taken_order_escalates_when_not_completed_in_time(cast, net, item, team):
    with time_machine.travel(T0, tick=False):
        order, _token = _taken(cast, item, team)
    assert order.complete_by == T0 + dt.timedelta(hours=72)
    with time_machine.travel(T0 + dt.timedelta(hours=71), tick=False):
        assert services.orders_escalate_overdue() == 0
    with time_machine.travel(T0 + dt.timedelta(hours=73), tick=False):
        assert services.orders_escalate_overdue() == 1
    order.refresh_from_db()
    assert order.unit == net.institute and order.state == S.TAKEN


def test_finished_orders_never_escalate(cast, item):
    with time_machine.travel(T0, tick=False):
        order = submit(item)
        services.order_reject(actor=cast.station_admin, order=order, reason="不在服务范围")
    with time_machine.travel(T0 + dt.timedelta(days=10), tick=False):
        assert services.orders_escalate_overdue() == 0


def test_periodic_task_runs_the_escalation(item):
    from wenming.demands.tasks import escalate_overdue_orders

    with time_machine.travel(T0, tick=False):
        submit(item)
    with time_machine.travel(T0 + dt.timedelta(hours=30), tick=False):
        assert escalate_overdue_orders.call_local() == 1


def test_timeline_records_every_step(cast, item, team):
    order, _token = _taken(cast, item, team)
    events = list(OrderEvent.objects.filter(order=order).values_list("action", "actor_label"))
    assert events == [
        ("submit", "群众"),
        ("accept", cast.station_admin.name),
        ("dispatch", cast.station_admin.name),
        ("take", team.leader.name),
    ]


def test_key_rotation_re_encrypts_the_requester(cast, item, settings):
    import base64
    import hashlib

    from wenming.core.keyrotation import data_key_rotate

    # The development key everything was written under so far (see crypto._keyring).
    dev = hashlib.sha256(b"wenming-dev:" + settings.SECRET_KEY.encode()).digest()
    old = base64.b64encode(dev).decode()
    new = base64.b64encode(b"n" * 32).decode()
    order = submit(item)
    settings.WENMING_DATA_KEY = f"{new},{old}"
    data_key_rotate()
    order.refresh_from_db()
    settings.WENMING_DATA_KEY = new
    assert crypto.decrypt(order.requester_phone_cipher) == RESIDENT_PHONE
    assert crypto.decrypt(order.requester_name_cipher) == "王大爷"
    assert order.requester_phone_digest == crypto.digest(RESIDENT_PHONE)
    # The phone's rate limits and staff search keep finding it.
    from wenming.demands import selectors

    assert list(selectors.staff_order_list(actor=cast.station_admin, search=RESIDENT_PHONE)) == [
        order
    ]


def test_internal_steps_stay_off_the_residents_timeline(cast, item, team):
    from wenming.demands import selectors

    order = submit(item)
    services.order_accept(actor=cast.station_admin, order=order)
    services.order_dispatch(actor=cast.station_admin, order=order, team=team)
    services.order_decline(actor=team.leader, order=order, reason="队里有矛盾")
    services.order_open_for_grab(actor=cast.station_admin, order=order)
    services.order_recall(actor=cast.station_admin, order=order, reason="内部调整")
    public = [e.action for e in selectors.public_timeline(order)]
    assert public == ["submit", "accept", "dispatch", "open_grab"]
    assert [e.action for e in selectors.staff_timeline(order)][-2:] == ["open_grab", "recall"]


def test_completion_respects_the_daily_cap_of_the_ledger(cast, item, team, settings):
    settings.SERVICE_MINUTES_PER_DAY = 100
    leader = Volunteer.objects.get(user=team.leader)
    minutes = []
    for n in range(2):
        order, _token = _taken(cast, item, team) if n == 0 else _taken2(cast, item, team)
        services.order_complete(
            actor=team.leader, order=order, note="好",
            participants=[services.Participant(leader.pk, 80)],
        )  # fmt: skip
        minutes.append(ServiceRecord.objects.get(order=order).minutes)
    assert minutes == [80, 20]


def _taken2(cast, item, team):
    order = submit(item, phone="13900000555")
    services.order_accept(actor=cast.station_admin, order=order)
    services.order_dispatch(actor=cast.station_admin, order=order, team=team)
    services.order_take(actor=team.leader, order=order)
    return Order.objects.get(pk=order.pk), order.link_token


def test_menu_teams_must_be_in_the_county(cast, net):
    from tests.demands.helpers import make_team

    outside = make_team(net.other_center, "外县队")
    before = state()
    with pytest.raises(RuleViolation) as exc:
        menu_item(cast.sysadmin, net.center, team_ids=[outside.pk])
    assert exc.value.field == "team_ids" and state() == before


def test_the_timeline_is_append_only_in_the_database(item):
    from django.db import DatabaseError, transaction

    order = submit(item)
    event = OrderEvent.objects.get(order=order)
    with pytest.raises(DatabaseError), transaction.atomic():
        OrderEvent.objects.filter(pk=event.pk).update(note="改写")
    event.refresh_from_db()
    assert event.note != "改写"
