"""The network pages: tree, list, detail, edit, create, staff grants and revokes."""

from __future__ import annotations

import re

import pytest

from tests.conftest import PASSWORD
from tests.network.snapshot import db_state
from tests.shared import queries_for
from wenming.accounts.models import User
from wenming.core.models import AuditEvent
from wenming.core.roles import Role
from wenming.network.models import RoleGrant, Unit, UnitKind

VILLAGE = "320305005204"
REQUIRED = "这个字段是必填项。"


# Who may not grant or revoke roles at a 马庄 unit, and how they are refused: read-only
# and non-granting roles see it (403), outsiders and volunteers do not (404).
DENIED_ON_COUNTY_GRANTS = [
    ("supervisor", 403),
    ("team_leader", 403),
    ("station_admin", 403),
    ("outsider", 404),
    ("volunteer", 404),
]


def html(response) -> str:
    return response.content.decode()


def units_on_page(response) -> list[str]:
    return [u.name for u in response.context["page"]]


# ---------------------------------------------------------------- anonymous


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/network/"),
        ("get", "/network/units/"),
        ("get", "/network/units/new/"),
        ("post", "/network/units/new/"),
        ("get", "/network/units/{unit}/"),
        ("get", "/network/units/{unit}/children/"),
        ("get", "/network/units/{unit}/edit/"),
        ("post", "/network/units/{unit}/edit/"),
        ("get", "/network/units/{unit}/staff/add/"),
        ("post", "/network/units/{unit}/staff/add/"),
        ("get", "/network/grants/{grant}/revoke/"),
        ("post", "/network/grants/{grant}/revoke/"),
    ],
)
def test_anonymous_is_sent_to_login(client, cast, net, method, path):
    grant = RoleGrant.objects.get(user=cast.station_admin)
    url = path.format(unit=net.station.pk, grant=grant.pk)
    before = db_state()
    response = getattr(client, method)(
        url, {"name": "x", "reason": "x"} if method == "post" else {}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert db_state() == before


# ---------------------------------------------------------------- tree


def test_tree_county_admin_sees_center_with_towns_open(login, cast, net):
    client = login(cast.county_admin)
    response = client.get("/network/")
    assert response.status_code == 200
    assert [u.pk for u in response.context["roots"]] == [net.center.pk]
    assert [u.name for u in response.context["opened"]] == [
        "潘安湖街道新时代文明实践所",
        "青山泉镇新时代文明实践所",
    ]
    page = html(response)
    assert "泉山区新时代文明实践中心" not in page
    # The institutes are rendered inside the center's node, with a "+" to load stations.
    center_block = page.split(f'id="children-{net.center.pk}"', 1)[1]
    assert "潘安湖街道新时代文明实践所" in center_block
    assert f'hx-get="/network/units/{net.institute.pk}/children/"' in page
    assert f'hx-get="/network/units/{net.center.pk}/children/"' not in page


def test_tree_sysadmin_sees_both_centers_closed(login, cast, net):
    response = login(cast.sysadmin).get("/network/")
    assert response.status_code == 200
    assert [u.name for u in response.context["roots"]] == [
        "贾汪区新时代文明实践中心",
        "泉山区新时代文明实践中心",
    ]
    assert response.context["opened"] == []
    assert f'hx-get="/network/units/{net.center.pk}/children/"' in html(response)


def test_tree_station_admin_sees_only_its_station(login, cast, net):
    response = login(cast.station_admin).get("/network/")
    assert [u.pk for u in response.context["roots"]] == [net.station.pk]
    assert [u.pk for u in response.context["opened"]] == [net.point.pk]
    assert "唐庄" not in html(response)
    assert "新时代文明实践所" not in html(response)


def test_tree_volunteer_forbidden(login, cast, net):
    assert login(cast.volunteer).get("/network/").status_code == 403


def test_children_fragment(login, cast, net):
    client = login(cast.county_admin)
    response = client.get(f"/network/units/{net.institute.pk}/children/")
    assert response.status_code == 200
    assert [u.name for u in response.context["children"]] == [
        "唐庄新时代文明实践站",
        "马庄新时代文明实践站",
    ]
    assert "<html" not in html(response)  # a fragment, not a page


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("sysadmin", 200),
        ("supervisor", 200),
        ("team_leader", 200),
        ("outsider", 404),
        ("volunteer", 404),
        ("station_admin", 404),
    ],
)
def test_children_fragment_scope(login, cast, net, who, status):
    response = login(getattr(cast, who)).get(f"/network/units/{net.institute.pk}/children/")
    assert response.status_code == status


# ---------------------------------------------------------------- unit list


def test_unit_list_scoped(login, cast, net):
    response = login(cast.county_admin).get("/network/units/")
    assert response.status_code == 200
    assert units_on_page(response) == [
        "贾汪区新时代文明实践中心",
        "潘安湖街道新时代文明实践所",
        "唐庄新时代文明实践站",
        "马庄村文化礼堂实践点",
        "马庄新时代文明实践站",
        "青山泉镇新时代文明实践所",
        "马庄村新时代文明实践站",
    ]
    assert "泉山区" not in html(response)


def test_unit_list_station_admin_sees_only_its_village(login, cast, net):
    response = login(cast.station_admin).get("/network/units/")
    assert units_on_page(response) == ["马庄村文化礼堂实践点", "马庄新时代文明实践站"]
    assert {u.region_id for u in response.context["page"]} == {VILLAGE}


def test_unit_list_search_and_kind(login, cast, net):
    client = login(cast.county_admin)
    assert units_on_page(client.get("/network/units/", {"q": "唐庄"})) == ["唐庄新时代文明实践站"]
    # The search also matches the region's name.
    assert units_on_page(client.get("/network/units/", {"q": "村委会"})) == [
        "唐庄新时代文明实践站",
        "马庄村文化礼堂实践点",
        "马庄新时代文明实践站",
    ]
    assert units_on_page(client.get("/network/units/", {"kind": "station"})) == [
        "唐庄新时代文明实践站",
        "马庄新时代文明实践站",
        "马庄村新时代文明实践站",
    ]
    assert units_on_page(client.get("/network/units/", {"kind": "point", "q": "马庄"})) == [
        "马庄村文化礼堂实践点"
    ]
    # An unknown kind is ignored rather than an error.
    assert len(units_on_page(client.get("/network/units/", {"kind": "bogus"}))) == 7
    empty = client.get("/network/units/", {"q": "不存在的单位"})
    assert units_on_page(empty) == []
    assert "没有符合条件的单位。" in html(empty)


def test_unit_list_paging(login, cast, net, settings):
    for i in range(30):
        Unit.objects.create(
            kind=UnitKind.POINT, name=f"点{i:02d}", region_id="320305000000", parent=net.center
        )
    client = login(cast.county_admin)
    first = client.get("/network/units/")
    second = client.get("/network/units/", {"page": 2})
    assert first.context["page"].paginator.count == 37
    assert len(units_on_page(first)) == settings.WENMING_PAGE_SIZE == 25
    assert len(units_on_page(second)) == 12
    assert set(units_on_page(first)).isdisjoint(units_on_page(second))
    # Out-of-range pages clamp to the last one.
    assert units_on_page(client.get("/network/units/", {"page": 99})) == units_on_page(second)


# ---------------------------------------------------------------- unit detail


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("sysadmin", 200),
        ("county_admin", 200),
        ("institute_admin", 200),
        ("station_admin", 200),
        ("supervisor", 200),
        ("team_leader", 200),
        ("volunteer", 404),
        ("outsider", 404),
    ],
)
def test_unit_detail_access(login, cast, net, who, status):
    response = login(getattr(cast, who)).get(f"/network/units/{net.station.pk}/")
    assert response.status_code == status
    if status == 200:
        can_manage = who in {"sysadmin", "county_admin", "institute_admin", "station_admin"}
        assert response.context["can_manage"] is can_manage
        assert (f"/network/units/{net.station.pk}/edit/" in html(response)) is can_manage


def test_unit_detail_staff_shows_masked_phones_only(login, cast, net):
    response = login(cast.county_admin).get(f"/network/units/{net.station.pk}/")
    page = html(response)
    staff = {(g.user.name, g.role) for g in response.context["staff"]}
    # Volunteers hold a grant on the village but are not staff.
    assert staff == {("站管理员", "station_admin")}
    assert cast.station_admin.phone_masked in page
    assert cast.station_admin.phone_masked != cast.station_admin.phone
    for user in (cast.station_admin, cast.volunteer):
        assert user.phone not in page
    assert cast.volunteer.phone_masked not in page
    assert [a.pk for a in response.context["ancestors"]] == [net.center.pk, net.institute.pk]
    assert [c.pk for c in response.context["children"]] == [net.point.pk]


# ---------------------------------------------------------------- edit


def test_unit_edit_by_manager(login, cast, net):
    client = login(cast.station_admin)
    url = f"/network/units/{net.station.pk}/edit/"
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "name": "马庄村实践站",
            "address": "马庄村",
            "phone": "",
            "description": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/network/units/{net.station.pk}/"
    net.station.refresh_from_db()
    assert (net.station.name, net.station.address) == ("马庄村实践站", "马庄村")
    event = AuditEvent.objects.get(verb="unit.update")
    assert (event.actor_id, event.changes["name"]) == (
        cast.station_admin.pk,
        ["马庄新时代文明实践站", "马庄村实践站"],
    )


@pytest.mark.parametrize(
    ("who", "status"),
    [("supervisor", 403), ("team_leader", 403), ("outsider", 404), ("volunteer", 404)],
)
def test_unit_edit_denied(login, cast, net, who, status):
    client = login(getattr(cast, who))
    url = f"/network/units/{net.station.pk}/edit/"
    before = db_state()
    assert client.get(url).status_code == status
    assert client.post(url, {"name": "被改了", "is_active": "on"}).status_code == status
    assert db_state() == before


@pytest.mark.parametrize(
    ("name", "error"), [("", REQUIRED), ("马庄村文化礼堂实践点", "同一区划内已有同名单位。")]
)
def test_unit_edit_bad_input_shows_chinese_error(login, cast, net, name, error):
    client = login(cast.county_admin)
    before = db_state()
    response = client.post(
        f"/network/units/{net.station.pk}/edit/", {"name": name, "is_active": "on"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == [error]
    assert error in html(response)
    assert db_state() == before


# ---------------------------------------------------------------- create


def _create_data(**overrides: str) -> dict[str, str]:
    return {
        "kind": "point",
        "name": "马庄农家书屋",
        "region": VILLAGE,
        "address": "马庄村 8 号",
        "phone": "",
        "description": "",
        **overrides,
    }


@pytest.mark.parametrize("who", ["sysadmin", "county_admin", "institute_admin", "station_admin"])
def test_unit_create_by_manager(login, cast, net, who):
    client = login(getattr(cast, who))
    form_page = client.get("/network/units/new/")
    assert form_page.status_code == 200
    assert VILLAGE in dict(form_page.context["form"].fields["region"].choices)
    response = client.post("/network/units/new/", _create_data())
    assert response.status_code == 302
    unit = Unit.objects.get(name="马庄农家书屋")
    assert response["Location"] == f"/network/units/{unit.pk}/"
    assert (unit.kind, unit.region_id, unit.parent_id, unit.address) == (
        "point",
        VILLAGE,
        net.station.pk,
        "马庄村 8 号",
    )
    assert AuditEvent.objects.filter(verb="unit.create", actor=getattr(cast, who)).count() == 1


def test_unit_create_region_choices_are_the_managed_subtree(login, cast, net):
    response = login(cast.station_admin).get("/network/units/new/")
    assert list(dict(response.context["form"].fields["region"].choices)) == [VILLAGE]
    narrowed = login(cast.county_admin).get("/network/units/new/", {"region": "320305005000"})
    assert list(dict(narrowed.context["form"].fields["region"].choices)) == [
        "320305005000",
        "320305005200",
        "320305005204",
    ]


@pytest.mark.parametrize("who", ["supervisor", "team_leader", "volunteer"])
def test_unit_create_denied_for_read_only(login, cast, net, who):
    client = login(getattr(cast, who))
    before = db_state()
    assert client.get("/network/units/new/").status_code == 403
    assert client.post("/network/units/new/", _create_data()).status_code == 403
    assert db_state() == before


def test_unit_create_outsider_cannot_pick_our_region(login, cast, net):
    client = login(cast.outsider)
    before = db_state()
    response = client.post("/network/units/new/", _create_data())
    assert response.status_code == 200
    assert "选择一个有效的选项" in response.context["form"].errors["region"][0]
    assert db_state() == before


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        (_create_data(name=""), "name", REQUIRED),
        (_create_data(kind="center"), "region", "新时代文明实践中心 应设在县（区）一级。"),
        (_create_data(kind="station"), "region", "该区划已有新时代文明实践站。"),
        (_create_data(name="马庄村文化礼堂实践点"), "name", "同一区划内已有同名单位。"),
    ],
)
def test_unit_create_bad_input_shows_chinese_error(login, cast, net, data, field, error):
    client = login(cast.county_admin)
    before = db_state()
    response = client.post("/network/units/new/", data)
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [error]
    assert error in html(response)
    assert db_state() == before


# ---------------------------------------------------------------- grant (add staff)


def _grant_url(net) -> str:
    return f"/network/units/{net.station.pk}/staff/add/"


def test_grant_new_phone_creates_user_with_initial_password(login, cast, net):
    client = login(cast.county_admin)
    page = client.get(_grant_url(net))
    assert page.status_code == 200
    assert "station_admin" in dict(page.context["form"].fields["role"].choices)
    response = client.post(
        _grant_url(net),
        {
            "phone": "137 0000 0077",
            "name": "新站长",
            "role": "station_admin",
            "password": "Init-pass-77",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/network/units/{net.station.pk}/"
    user = User.objects.get_by_phone("13700000077")
    assert user.name == "新站长"
    assert user.check_password("Init-pass-77")
    grant = RoleGrant.objects.get(user=user)
    assert (grant.role, grant.region_id, grant.unit_id, grant.granted_by_id) == (
        "station_admin",
        VILLAGE,
        net.station.pk,
        cast.county_admin.pk,
    )
    assert list(
        AuditEvent.objects.filter(actor=cast.county_admin)
        .exclude(verb="user.login")
        .order_by("id")
        .values_list("verb", flat=True)
    ) == ["user.create", "grant.create"]
    # Both audit rows sit at the village, where the county's auditors see them.
    assert set(
        AuditEvent.objects.filter(verb__in=["user.create", "grant.create"]).values_list(
            "region_code", flat=True
        )
    ) == {VILLAGE}
    # The plaintext number is never shown on the unit page.
    detail = html(client.get(f"/network/units/{net.station.pk}/"))
    assert user.phone_masked in detail
    assert "13700000077" not in detail


def test_grant_refused_after_the_user_was_made_leaves_no_login(login, cast, net, monkeypatch):
    """The new login and the grant are one transaction: a refused grant undoes both."""
    from wenming.core.errors import RuleViolation
    from wenming.network import services

    def refuse(**kwargs):
        assert User.objects.filter(pk=kwargs["user"].pk).exists()  # the login was made
        raise RuleViolation("该用户已在此区划拥有这个角色。", field="role")

    monkeypatch.setattr(services, "grant_role", refuse)
    client = login(cast.county_admin)
    before = db_state()
    response = client.post(
        _grant_url(net),
        {"phone": "13700000076", "name": "半途", "role": "volunteer", "password": "Init-pass-76"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["role"] == ["该用户已在此区划拥有这个角色。"]
    assert db_state() == before


def test_grant_new_phone_with_weak_password_is_a_form_error(login, cast, net):
    client = login(cast.county_admin)
    before = db_state()
    response = client.post(
        _grant_url(net),
        {"phone": "13700000075", "name": "弱密码", "role": "volunteer", "password": "12345678"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["password"] == [
        "这个密码太常见了，请换一个。 密码不能全是数字。"
    ]
    assert db_state() == before


def test_grant_existing_phone_reuses_the_user(login, cast, net):
    client = login(cast.institute_admin)
    users = User.objects.count()
    response = client.post(
        _grant_url(net),
        {"phone": cast.volunteer.phone, "name": "别的名字", "role": "team_leader", "password": ""},
    )
    assert response.status_code == 302
    assert User.objects.count() == users
    cast.volunteer.refresh_from_db()
    assert cast.volunteer.name == "志愿者"
    assert RoleGrant.objects.filter(
        user=cast.volunteer, role="team_leader", region_id=VILLAGE, revoked_at__isnull=True
    ).exists()


def test_grant_new_phone_without_password_is_a_form_error(login, cast, net):
    client = login(cast.county_admin)
    before = db_state()
    response = client.post(
        _grant_url(net),
        {"phone": "13700000078", "name": "没密码", "role": "volunteer", "password": ""},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["password"] == ["该手机号码尚未注册，请设置初始密码。"]
    assert "该手机号码尚未注册，请设置初始密码。" in html(response)
    assert db_state() == before


def test_grant_duplicate_is_a_form_error(login, cast, net):
    client = login(cast.county_admin)
    before = db_state()
    response = client.post(
        _grant_url(net),
        {"phone": cast.station_admin.phone, "name": "x", "role": "station_admin", "password": ""},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["role"] == ["该用户已在此区划拥有这个角色。"]
    assert db_state() == before


def test_grant_role_not_offered_is_refused(login, cast, net):
    """An institute admin is not offered county_admin; posting it anyway is a form error."""
    client = login(cast.institute_admin)
    before = db_state()
    response = client.post(
        _grant_url(net),
        {"phone": cast.volunteer.phone, "name": "x", "role": "county_admin", "password": ""},
    )
    assert response.status_code == 200
    assert "county_admin" not in dict(response.context["form"].fields["role"].choices)
    assert "选择一个有效的选项" in response.context["form"].errors["role"][0]
    assert db_state() == before


@pytest.mark.parametrize(("who", "status"), DENIED_ON_COUNTY_GRANTS)
def test_grant_denied(login, cast, net, who, status):
    client = login(getattr(cast, who))
    before = db_state()
    assert client.get(_grant_url(net)).status_code == status
    response = client.post(
        _grant_url(net),
        {"phone": "13700000079", "name": "某人", "role": "volunteer", "password": PASSWORD},
    )
    assert response.status_code == status
    assert db_state() == before


# ---------------------------------------------------------------- revoke


def test_revoke_get_confirms_post_revokes(login, cast, net):
    client = login(cast.county_admin)
    grant = RoleGrant.objects.get(user=cast.station_admin)
    url = f"/network/grants/{grant.pk}/revoke/"
    before = db_state()
    page = client.get(url)
    assert page.status_code == 200
    assert "确定要撤销 站管理员 在 马庄村委会 的“站管理员”角色吗" in html(page)
    assert db_state() == before
    response = client.post(url, {"reason": "调岗"})
    assert response.status_code == 302
    assert response["Location"] == f"/network/units/{net.station.pk}/"
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    assert grant.revoked_by_id == cast.county_admin.pk
    assert AuditEvent.objects.get(verb="grant.revoke").note == "调岗"
    # Gone from the staff list, and the revoked grant is no longer reachable.
    staff = client.get(f"/network/units/{net.station.pk}/").context["staff"]
    assert list(staff) == []
    assert client.get(url).status_code == 404


def test_revoke_grant_without_unit_goes_back_to_tree(login, cast, net):
    client = login(cast.county_admin)
    grant = RoleGrant.objects.get(user=cast.volunteer)
    response = client.post(f"/network/grants/{grant.pk}/revoke/", {"reason": "搬走"})
    assert (response.status_code, response["Location"]) == (302, "/network/")


def test_revoke_needs_a_reason(login, cast, net):
    client = login(cast.county_admin)
    grant = RoleGrant.objects.get(user=cast.station_admin)
    before = db_state()
    response = client.post(f"/network/grants/{grant.pk}/revoke/", {"reason": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == [REQUIRED]
    assert db_state() == before


def test_revoke_own_admin_role_is_a_form_error(login, cast, net):
    client = login(cast.county_admin)
    grant = RoleGrant.objects.get(user=cast.county_admin)
    before = db_state()
    response = client.post(f"/network/grants/{grant.pk}/revoke/", {"reason": "试试"})
    assert response.status_code == 200
    assert "不能撤销自己的管理角色" in html(response)
    assert db_state() == before


@pytest.mark.parametrize(("who", "status"), DENIED_ON_COUNTY_GRANTS)
def test_revoke_denied(login, cast, net, who, status):
    client = login(getattr(cast, who))
    grant = RoleGrant.objects.get(user=cast.volunteer)
    url = f"/network/grants/{grant.pk}/revoke/"
    before = db_state()
    assert client.get(url).status_code == status
    assert client.post(url, {"reason": "越权"}).status_code == status
    assert client.post(url, {"reason": ""}).status_code == status
    assert db_state() == before


def test_revoke_role_beyond_granter_is_forbidden(login, cast, net):
    from tests.conftest import make_user

    supervisor = make_user("13700000080", "区督导", Role.SUPERVISOR, "320305000000")
    grant = RoleGrant.objects.get(user=supervisor)
    client = login(cast.county_admin)
    before = db_state()
    assert client.post(f"/network/grants/{grant.pk}/revoke/", {"reason": "x"}).status_code == 403
    assert db_state() == before


# ---------------------------------------------------------------- query counts


_count_queries = queries_for


def _add_points(net, start: int, count: int) -> None:
    Unit.objects.bulk_create(
        Unit(
            kind=UnitKind.POINT, name=f"实践点{i:03d}", region_id="320305000000", parent=net.center
        )
        for i in range(start, start + count)
    )


def test_pages_make_a_constant_number_of_queries(login, cast, net):
    client = login(cast.county_admin)
    urls = [
        "/network/units/",
        "/network/",
        f"/network/units/{net.center.pk}/children/",
        f"/network/units/{net.center.pk}/",
        f"/network/units/{net.point.pk}/",
    ]
    _add_points(net, 0, 5)
    client.get("/network/")  # warm up anything cached per process
    few = {url: _count_queries(client, url) for url in urls}
    _add_points(net, 5, 35)
    many = {url: _count_queries(client, url) for url in urls}
    assert few == many
    assert len(re.findall("实践点0", html(client.get(urls[2])))) == 40
