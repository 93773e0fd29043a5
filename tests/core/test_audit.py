"""The audit log: services write it, nobody rewrites it, and the list page is scoped."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext, override_settings

from tests.conftest import PASSWORD, make_user
from wenming.accounts.services import password_change, user_create
from wenming.core.audit import audit_record, diff, snapshot
from wenming.core.middleware import current_ip
from wenming.core.models import AuditEvent
from wenming.network.models import Unit, UnitKind
from wenming.network.services import unit_create, unit_update

SHANGHAI = ZoneInfo("Asia/Shanghai")

# ---------------------------------------------------------------- services write audit rows


def test_unit_create_records_actor_verb_target_region_and_changes(cast, net):
    unit = unit_create(
        actor=cast.station_admin,
        kind=UnitKind.POINT,
        name="马庄农家书屋",
        region_code="320305005204",
        address=" 马庄村 1 号 ",
    )
    event = AuditEvent.objects.get(verb="unit.create")
    assert event.actor_id == cast.station_admin.pk
    assert event.actor_label == f"站管理员 (#{cast.station_admin.pk})"
    assert event.target_type == "network.unit"
    assert event.target_id == str(unit.pk)
    assert event.target_label == "马庄农家书屋"
    assert event.region_code == "320305005204"
    assert event.ip is None  # not in a request
    assert event.changes == {
        "kind": [None, "point"],
        "name": [None, "马庄农家书屋"],
        "region": [None, "320305005204"],
        "parent": [None, net.station.pk],
        "address": [None, "马庄村 1 号"],
        "phone": [None, ""],
        "description": [None, ""],
        "is_active": [None, True],
    }


def test_unit_update_records_before_and_after_of_changed_fields_only(cast, net):
    unit_update(actor=cast.county_admin, unit=net.station, name="马庄村新时代文明实践站", phone="")
    event = AuditEvent.objects.get(verb="unit.update")
    assert event.changes == {"name": ["马庄新时代文明实践站", "马庄村新时代文明实践站"]}
    assert event.target_id == str(net.station.pk)
    assert event.region_code == "320305005204"
    assert event.actor_id == cast.county_admin.pk


def test_a_no_op_update_records_nothing(cast, net):
    unit_update(actor=cast.county_admin, unit=net.station, name=net.station.name)
    assert not AuditEvent.objects.filter(verb="unit.update").exists()


def test_a_refused_write_records_nothing(cast, net):
    before = AuditEvent.objects.count()
    with pytest.raises(Exception) as info:
        unit_update(actor=cast.supervisor, unit=net.station, name="改名")
    assert info.value.status == 403
    assert AuditEvent.objects.count() == before
    assert Unit.objects.get(pk=net.station.pk).name == "马庄新时代文明实践站"


def test_user_create_records_the_masked_phone_only(cast):
    user = user_create(
        actor=cast.county_admin,
        phone="13712345678",
        name="新用户",
        password=PASSWORD,
        region_code="320305000000",
    )
    event = AuditEvent.objects.get(verb="user.create")
    assert event.target_id == str(user.pk)
    assert event.target_type == "accounts.user"
    assert event.changes == {"name": [None, "新用户"], "phone": [None, "137****5678"]}
    assert "13712345678" not in str(event.changes) + event.target_label + event.note


def test_password_change_records_no_secret(cast):
    user = cast.volunteer
    password_change(user=user, old_password=PASSWORD, new_password="Another-pass-2027")
    event = AuditEvent.objects.get(verb="user.password_change")
    assert event.actor_id == user.pk
    assert event.changes == {}
    assert "Another" not in str(event.changes) + event.note


def test_audit_record_without_actor_is_the_system(db):
    event = audit_record(actor=None, verb="demo.load", target=None, region_code="", note="x" * 600)
    assert event.actor_id is None
    assert event.actor_label == "系统"
    assert event.target_type == "system"
    assert event.target_id == ""
    assert len(event.note) == 500


def test_snapshot_and_diff(net):
    snap = snapshot(net.station, ["kind", "region", "parent", "is_active", "created_at"])
    assert snap["kind"] == "station"
    assert snap["region"] == "320305005204"
    assert snap["parent"] == net.institute.pk
    assert snap["is_active"] is True
    assert snap["created_at"] == net.station.created_at.isoformat()
    assert diff({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 4}) == {"b": [2, 3], "c": [None, 4]}
    assert diff({"a": 1}, {"a": 1}) == {}


def test_ip_comes_from_the_request_through_the_middleware(cast, client):
    response = client.post(
        "/accounts/login/",
        {"phone": "13900000003", "password": PASSWORD},
        REMOTE_ADDR="203.0.113.7",
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(verb="user.login")
    assert event.ip == "203.0.113.7"
    assert event.actor_id == cast.station_admin.pk
    # The request's address does not outlive the request.
    assert current_ip.get() is None


def test_ip_ignores_forwarded_for_unless_behind_a_proxy(cast, client):
    client.post(
        "/accounts/login/",
        {"phone": "13900000003", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.5",
        HTTP_X_FORWARDED_FOR="198.51.100.9",
    )
    assert AuditEvent.objects.get(verb="user.login").ip == "10.0.0.5"


@override_settings(AXES_IPWARE_PROXY_COUNT=1)
def test_ip_behind_one_proxy_is_the_last_forwarded_address(cast, client):
    client.post(
        "/accounts/login/",
        {"phone": "13900000003", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.5",
        HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.9",
    )
    assert AuditEvent.objects.get(verb="user.login").ip == "198.51.100.9"


# ---------------------------------------------------------------- append-only


@pytest.fixture
def event(db) -> AuditEvent:
    return audit_record(
        actor=None, verb="demo.load", target=None, region_code="320305000000", note="原始"
    )


def _unchanged(event: AuditEvent) -> None:
    row = AuditEvent.objects.get(pk=event.pk)
    assert (row.verb, row.note, row.region_code) == ("demo.load", "原始", "320305000000")


def test_save_on_an_existing_row_is_refused(event):
    event.note = "改过"
    with pytest.raises(PermissionError):
        event.save()
    _unchanged(event)


def test_queryset_update_is_refused(event):
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(note="改过")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().update(note="改过")
    event.note = "改过"
    with pytest.raises(PermissionError), transaction.atomic():
        AuditEvent.objects.bulk_update([event], ["note"])
    _unchanged(event)


def test_queryset_and_instance_delete_are_refused(event):
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    with pytest.raises(PermissionError):
        event.delete()
    _unchanged(event)


def test_the_database_refuses_a_raw_update(event):
    table = AuditEvent._meta.db_table
    with (
        pytest.raises(DatabaseError) as info,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"UPDATE {table} SET note = %s WHERE id = %s", ["改过", event.pk])
    assert "append-only" in str(info.value)
    _unchanged(event)


def test_the_database_refuses_a_raw_update_of_every_row(event):
    table = AuditEvent._meta.db_table
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET verb = 'user.login'")
    _unchanged(event)


# ---------------------------------------------------------------- the list page


def _record(actor, verb: str, region_code: str) -> AuditEvent:
    return audit_record(actor=actor, verb=verb, target=None, region_code=region_code)


@pytest.fixture
def events(cast):
    """Events around the tree, written by the county admin (not by the viewers)."""
    admin = cast.county_admin
    return {
        "village": _record(admin, "unit.update", "320305005204"),
        "village2": _record(admin, "unit.update", "320305005200"),
        "town": _record(admin, "unit.create", "320305005000"),
        "other_town": _record(admin, "unit.create", "320305102200"),
        "county": _record(admin, "grant.create", "320305000000"),
        "other_county": _record(cast.outsider, "unit.create", "320311001001"),
        "other_city": _record(None, "regions.import", "320100000000"),
        "system": _record(None, "maintenance.purge", ""),
    }


def _listed(response) -> set[int]:
    assert response.status_code == 200
    return {e.pk for e in response.context["page"].object_list}


def _ids(events, *names) -> set[int]:
    return {events[n].pk for n in names}


def _own(user) -> set[int]:
    return set(AuditEvent.objects.filter(actor=user).values_list("pk", flat=True))


def test_station_admin_sees_its_village_and_its_own_actions(cast, events, login):
    client = login(cast.station_admin)
    own_login = AuditEvent.objects.get(verb="user.login", actor=cast.station_admin)
    listed = _listed(client.get("/audit/"))
    assert listed == _ids(events, "village") | {own_login.pk}
    assert events["other_town"].pk not in listed


def test_supervisor_sees_its_city(cast, events, login):
    client = login(cast.supervisor)
    listed = _listed(client.get("/audit/"))
    assert listed == (
        _ids(events, "village", "village2", "town", "other_town", "county", "other_county")
        | _own(cast.supervisor)
    )


def test_outsider_sees_only_its_county(cast, events, login):
    client = login(cast.outsider)
    listed = _listed(client.get("/audit/"))
    assert listed == _ids(events, "other_county") | _own(cast.outsider)


def test_county_admin_sees_its_county_and_other_counties_events_stay_hidden(cast, events, login):
    client = login(cast.county_admin)
    listed = _listed(client.get("/audit/"))
    assert listed == (
        _ids(events, "village", "village2", "town", "other_town", "county")
        | _own(cast.county_admin)
    )


def test_volunteer_without_audit_view_sees_only_its_own(cast, events, login):
    client = login(cast.volunteer)
    mine = _own(cast.volunteer)
    assert len(mine) == 1  # its login
    assert _listed(client.get("/audit/")) == mine
    assert _listed(client.get("/audit/?mine=0")) == mine
    # Its login has no region, so a region filter leaves nothing; never others' events.
    assert _listed(client.get("/audit/?mine=0&region=3203")) == set()


def test_mine_filter(cast, events, login):
    client = login(cast.county_admin)
    assert _listed(client.get("/audit/?mine=1")) == _own(cast.county_admin)


def test_anonymous_is_sent_to_login(events, client):
    response = client.get("/audit/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_audit_page_is_get_only(cast, login):
    client = login(cast.county_admin)
    assert client.post("/audit/").status_code == 405


def test_verb_filter(cast, events, login):
    client = login(cast.supervisor)
    assert _listed(client.get("/audit/?verb=unit.create")) == _ids(
        events, "town", "other_town", "other_county"
    )
    # An unknown verb is ignored rather than matching nothing or erroring.
    assert _listed(client.get("/audit/?verb=nope")) == _listed(client.get("/audit/"))


def test_region_prefix_filter(cast, events, login):
    client = login(cast.supervisor)
    assert _listed(client.get("/audit/?region=320305005")) == _ids(
        events, "village", "village2", "town"
    )
    # Non-digits are stripped from the prefix.
    assert _listed(client.get("/audit/?region=3203-05-005")) == _ids(
        events, "village", "village2", "town"
    )
    # The filter narrows the scope, never widens it.
    assert _listed(client.get("/audit/?region=3201")) == set()


def test_actor_filter(cast, events, login):
    client = login(cast.supervisor)
    assert _listed(client.get("/audit/?actor=外县")) == _ids(events, "other_county")


def test_date_filters_use_shanghai_days(cast, login):
    admin = cast.county_admin
    # 2026-03-01 17:30 UTC is already 2026-03-02 01:30 in Shanghai.
    with time_machine.travel(dt.datetime(2026, 3, 1, 15, 0, tzinfo=dt.UTC), tick=False):
        day1 = _record(admin, "unit.update", "320305005204")
    with time_machine.travel(dt.datetime(2026, 3, 1, 17, 30, tzinfo=dt.UTC), tick=False):
        day2 = _record(admin, "unit.update", "320305005204")
    with time_machine.travel(dt.datetime(2026, 3, 5, 2, 0, tzinfo=SHANGHAI), tick=False):
        day5 = _record(admin, "unit.update", "320305005204")
    client = login(cast.station_admin)
    ids = {day1.pk, day2.pk, day5.pk}
    assert _listed(client.get("/audit/?from=2026-03-02&verb=unit.update")) & ids == {
        day2.pk,
        day5.pk,
    }
    assert _listed(client.get("/audit/?to=2026-03-01&verb=unit.update")) & ids == {day1.pk}
    assert _listed(client.get("/audit/?from=2026-03-02&to=2026-03-04")) & ids == {day2.pk}
    # A malformed date is ignored.
    assert _listed(client.get("/audit/?from=2026-13-45&verb=unit.update")) & ids == ids


def test_page_shows_ip_and_changes(cast, login):
    client = login(cast.station_admin)
    audit_record(
        actor=cast.county_admin,
        verb="unit.update",
        target=None,
        region_code="320305005204",
        changes={"name": ["旧名", "新名"]},
    )
    text = client.get("/audit/").content.decode()
    assert "旧名" in text and "新名" in text
    assert "修改单位" in text  # the verb's label, not its code
    assert "127.0.0.1" in text  # the login, recorded through the middleware


@pytest.mark.parametrize("viewer", ["station_admin", "supervisor", "volunteer"])
def test_audit_page_query_count_is_constant(cast, login, viewer):
    user = getattr(cast, viewer)
    client = login(user)

    def queries_after_adding(count: int) -> tuple[int, int]:
        for i in range(count):
            audit_record(
                actor=user,
                verb="unit.update",
                target=cast.county_admin,
                region_code="320305005204",
                changes={"n": [i, i + 1]},
            )
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/audit/")
        assert response.status_code == 200
        return len(ctx.captured_queries), len(response.context["page"].object_list)

    few, rows_few = queries_after_adding(5)
    many, rows_many = queries_after_adding(45)
    assert 5 <= rows_few < 25 and rows_many == 25
    assert few == many
    # session (none when it comes from the Redis cache), user, grants, count, page
    from django.conf import settings

    cached_session = settings.SESSION_ENGINE.endswith("cached_db")
    assert many == (4 if cached_session else 5), many


def test_pagination_clamps_to_the_last_page(cast, login):
    client = login(cast.station_admin)
    for _ in range(30):
        _record(cast.station_admin, "unit.update", "320305005204")
    total = AuditEvent.objects.filter(actor=cast.station_admin).count()
    first = client.get("/audit/").context["page"]
    last = client.get("/audit/?page=99").context["page"]
    assert first.paginator.count == total
    assert len(first.object_list) + len(last.object_list) == total
    assert client.get("/audit/?page=abc").status_code == 200


def test_user_without_any_grant_sees_its_own_events(events, login):
    user = make_user("13600000000", "普通用户")
    client = login(user)
    assert _listed(client.get("/audit/")) == _own(user)
    assert len(_own(user)) == 1


def test_a_user_with_history_can_still_be_deleted(cast, net):
    """The actor link is not nulled on delete (that UPDATE would hit the append-only
    trigger); the event keeps who it was through actor_label."""
    from wenming.accounts.models import User
    from wenming.network.models import RoleGrant
    from wenming.network.services import unit_update

    unit_update(actor=cast.station_admin, unit=net.station, address="马庄村 1 号")
    event = AuditEvent.objects.get(verb="unit.update")
    RoleGrant.objects.filter(user=cast.station_admin).delete()
    User.objects.filter(pk=cast.station_admin.pk).delete()
    event = AuditEvent.objects.get(pk=event.pk)
    assert event.actor_id == cast.station_admin.pk
    assert event.actor_label.startswith("站管理员")


def test_the_demos_actions_are_not_its_peoples_own(db):
    """Seeds act as demo people through the real services; their events say 演示数据
    and do not show under those people's 我最近的操作."""
    from wenming.accounts.models import User
    from wenming.core.demo import demo_load
    from wenming.core.models import AuditEvent
    from wenming.core.selectors import audit_list

    demo_load()
    station_admin = User.objects.get_by_phone("13800000003")
    assert AuditEvent.objects.filter(actor_label__startswith="演示数据（张站长").exists()
    assert not audit_list(actor=station_admin, mine=True).exists()
    assert not AuditEvent.objects.filter(actor__isnull=False).exists()
