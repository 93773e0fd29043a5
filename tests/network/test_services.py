"""The network's write services: units, role grants, regions.

Every service is called by each member of the cast; a refused call must leave every
row (units, grants, regions, users, audit events) exactly as it was."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from tests.conftest import REGIONS, make_user
from tests.network.snapshot import db_state
from wenming.accounts.models import User
from wenming.core.access import grants_of
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.core.models import AuditEvent
from wenming.core.regions import Level
from wenming.core.roles import GRANTABLE_ROLES, ROLE_LEVELS, Role
from wenming.network import selectors, services
from wenming.network.models import Region, RoleGrant, Unit, UnitKind
from wenming.network.services import (
    grant_revoke,
    grant_role,
    regions_import,
    staff_user_for_grant,
    unit_create,
    unit_update,
)

VILLAGE = "320305005204"  # 马庄村委会, with a station and a point
TOWN = "320305005000"  # 潘安湖街道
COUNTY = "320305000000"  # 贾汪区
LEVEL_REGION = {
    Level.PROVINCE: "320000000000",
    Level.CITY: "320300000000",
    Level.COUNTY: COUNTY,
    Level.TOWN: TOWN,
    Level.VILLAGE: VILLAGE,
}

# Who may do what on 马庄村 (the village of the cast's station admin and volunteer).
MANAGERS = ["sysadmin", "county_admin", "institute_admin", "station_admin"]
GRANTERS = ["sysadmin", "county_admin", "institute_admin"]
ACTOR_OUTCOMES_MANAGE = {
    **dict.fromkeys(MANAGERS),
    "supervisor": Forbidden,
    "team_leader": Forbidden,
    "volunteer": NotFound,
    "outsider": NotFound,
}
ACTOR_OUTCOMES_GRANT = {
    **dict.fromkeys(GRANTERS),
    "station_admin": Forbidden,  # manages units but not grants
    "supervisor": Forbidden,
    "team_leader": Forbidden,
    "volunteer": NotFound,
    "outsider": NotFound,
}


def fresh(user: User) -> User:
    """A new instance, so that no grant cache from before a change survives."""
    return User.objects.get(pk=user.pk)


def add_region(code: str, name: str) -> Region:
    regions_import(actor=None, rows=[(code, name)])
    return Region.objects.get(code=code)


# ---------------------------------------------------------------- unit_create


@pytest.mark.parametrize("who", list(ACTOR_OUTCOMES_MANAGE))
def test_unit_create_by_each_actor(cast, net, who):
    actor = getattr(cast, who)
    expected = ACTOR_OUTCOMES_MANAGE[who]
    if expected is None:
        unit = unit_create(
            actor=actor, kind=UnitKind.POINT, name="马庄农家书屋", region_code=VILLAGE
        )
        assert (unit.kind, unit.region_id, unit.parent_id) == ("point", VILLAGE, net.station.pk)
        event = AuditEvent.objects.get(verb="unit.create", target_id=str(unit.pk))
        assert event.actor_id == actor.pk
        assert event.region_code == VILLAGE
        assert event.changes["name"] == [None, "马庄农家书屋"]
        assert event.changes["parent"] == [None, net.station.pk]
    else:
        before = db_state()
        with pytest.raises(expected):
            unit_create(actor=actor, kind=UnitKind.POINT, name="马庄农家书屋", region_code=VILLAGE)
        assert db_state() == before


def test_unit_create_anonymous_is_not_found(net):
    before = db_state()
    with pytest.raises(NotFound):
        unit_create(actor=None, kind=UnitKind.POINT, name="无名", region_code=VILLAGE)
    assert db_state() == before


def test_unit_create_each_kind_at_its_level_with_derived_parent(cast, net):
    admin = cast.sysadmin
    add_region("320322000000", "沛县")
    add_region("320322100000", "龙固镇")
    add_region("320322100201", "龙固村")
    center = unit_create(
        actor=admin, kind=UnitKind.CENTER, name="沛县中心", region_code="320322000000"
    )
    institute = unit_create(
        actor=admin, kind=UnitKind.INSTITUTE, name="龙固镇所", region_code="320322100000"
    )
    station = unit_create(
        actor=admin, kind=UnitKind.STATION, name="龙固村站", region_code="320322100201"
    )
    assert center.parent_id is None
    assert institute.parent_id == center.pk
    assert station.parent_id == institute.pk
    # A point hangs under the unit of its own region, or the nearest one above it.
    at_county = unit_create(
        actor=admin, kind=UnitKind.POINT, name="沛县图书馆", region_code="320322000000"
    )
    at_village = unit_create(
        actor=admin, kind=UnitKind.POINT, name="龙固村礼堂", region_code="320322100201"
    )
    at_province = unit_create(
        actor=admin, kind=UnitKind.POINT, name="省级示范点", region_code="320000000000"
    )
    assert at_county.parent_id == center.pk
    assert at_village.parent_id == station.pk
    assert at_province.parent_id is None
    assert AuditEvent.objects.filter(verb="unit.create").count() == 6


def test_unit_create_station_without_institute_hangs_under_center(cast, net):
    add_region("320305999000", "新设镇")
    add_region("320305999201", "新设村")
    station = unit_create(
        actor=cast.county_admin, kind=UnitKind.STATION, name="新设村站", region_code="320305999201"
    )
    assert station.parent_id == net.center.pk


def test_unit_create_point_in_village_without_station_hangs_under_institute(cast, net):
    add_region("320305005299", "新村")
    point = unit_create(
        actor=cast.institute_admin, kind=UnitKind.POINT, name="新村点", region_code="320305005299"
    )
    assert point.parent_id == net.institute.pk


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        (UnitKind.CENTER, TOWN),
        (UnitKind.CENTER, VILLAGE),
        (UnitKind.CENTER, "320300000000"),
        (UnitKind.INSTITUTE, COUNTY),
        (UnitKind.INSTITUTE, VILLAGE),
        (UnitKind.STATION, TOWN),
        (UnitKind.STATION, COUNTY),
    ],
)
def test_unit_create_wrong_level_refused(cast, net, kind, code):
    before = db_state()
    with pytest.raises(RuleViolation) as exc:
        unit_create(actor=cast.sysadmin, kind=kind, name="错位单位", region_code=code)
    assert exc.value.field == "region"
    assert "一级" in exc.value.message
    assert db_state() == before


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        (UnitKind.CENTER, COUNTY),  # 贾汪区 already has its center
        (UnitKind.INSTITUTE, TOWN),
        (UnitKind.STATION, VILLAGE),
    ],
)
def test_unit_create_second_unit_of_a_level_refused(cast, net, kind, code):
    before = db_state()
    with pytest.raises(RuleViolation) as exc:
        unit_create(actor=cast.county_admin, kind=kind, name="第二个", region_code=code)
    assert exc.value.field == "region"
    assert exc.value.message.startswith("该区划已有")
    assert db_state() == before


def test_unit_create_duplicate_name_in_region_refused(cast, net):
    before = db_state()
    with pytest.raises(RuleViolation) as exc:
        unit_create(
            actor=cast.county_admin,
            kind=UnitKind.POINT,
            name=f"  {net.point.name} ",
            region_code=VILLAGE,
        )
    assert (exc.value.field, exc.value.message) == ("name", "同一区划内已有同名单位。")
    assert db_state() == before


def test_unit_create_same_name_in_another_region_allowed(cast, net):
    unit = unit_create(
        actor=cast.county_admin, kind=UnitKind.POINT, name=net.point.name, region_code=TOWN
    )
    assert unit.parent_id == net.institute.pk


@pytest.mark.parametrize(
    ("kind", "name", "code", "error", "field"),
    [
        (UnitKind.POINT, "   ", VILLAGE, RuleViolation, "name"),
        ("school", "学校", VILLAGE, RuleViolation, "kind"),
        (UnitKind.POINT, "无此区划", "320305005999", NotFound, None),
        (UnitKind.POINT, "坏代码", "abc", NotFound, None),
    ],
)
def test_unit_create_bad_input_refused(cast, net, kind, name, code, error, field):
    before = db_state()
    with pytest.raises(error) as exc:
        unit_create(actor=cast.county_admin, kind=kind, name=name, region_code=code)
    assert exc.value.field == field
    assert db_state() == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "长" * 101, "名称最多 100 个字。"),
        ("address", "址" * 201, "地址最多 200 个字。"),
        ("phone", "1" * 31, "联系电话最多 30 个字。"),
        ("name", "坏\x00名", "名称含有不允许的字符。"),
        ("description", "坏\x00简介", "简介含有不允许的字符。"),
        ("description", "简" * 5001, "简介最多 5000 个字。"),
    ],
)
def test_unit_create_and_update_refuse_text_the_database_cannot_hold(
    cast, net, field, value, message
):
    """Too long or NUL-bearing text is a rule violation, not a database error."""
    before = db_state()
    data = {"name": "新点", field: value}
    with pytest.raises(RuleViolation) as exc:
        unit_create(actor=cast.county_admin, kind=UnitKind.POINT, region_code=VILLAGE, **data)
    assert (exc.value.field, exc.value.message) == (field, message)
    with pytest.raises(RuleViolation) as exc:
        unit_update(actor=cast.county_admin, unit=net.station, **{field: value})
    assert (exc.value.field, exc.value.message) == (field, message)
    assert db_state() == before


def test_unit_create_strips_fields(cast, net):
    unit = unit_create(
        actor=cast.station_admin,
        kind=UnitKind.POINT,
        name=" 马庄书屋 ",
        region_code=VILLAGE,
        address=" 马庄村 1 号 ",
        phone=" 0516-1234567 ",
        description=" 农家书屋 ",
    )
    unit.refresh_from_db()
    assert (unit.name, unit.address, unit.phone, unit.description) == (
        "马庄书屋",
        "马庄村 1 号",
        "0516-1234567",
        "农家书屋",
    )


# ---------------------------------------------------------------- unit_update


@pytest.mark.parametrize("who", list(ACTOR_OUTCOMES_MANAGE))
def test_unit_update_by_each_actor(cast, net, who):
    actor = getattr(cast, who)
    expected = ACTOR_OUTCOMES_MANAGE[who]
    if expected is None:
        unit_update(actor=actor, unit=net.station, name="马庄村新时代文明实践站", address="马庄村")
        net.station.refresh_from_db()
        assert (net.station.name, net.station.address) == ("马庄村新时代文明实践站", "马庄村")
        event = AuditEvent.objects.get(verb="unit.update")
        assert event.actor_id == actor.pk
        assert event.target_id == str(net.station.pk)
        assert event.region_code == VILLAGE
        assert event.changes == {
            "address": ["", "马庄村"],
            "name": ["马庄新时代文明实践站", "马庄村新时代文明实践站"],
        }
    else:
        before = db_state()
        with pytest.raises(expected):
            unit_update(actor=actor, unit=net.station, name="改名", address="马庄村")
        assert db_state() == before


def test_unit_update_no_change_writes_nothing(cast, net):
    before = db_state()
    unit_update(actor=cast.county_admin, unit=net.station, name=f" {net.station.name} ")
    assert db_state() == before


def test_unit_update_deactivate(cast, net):
    unit_update(actor=cast.county_admin, unit=net.point, is_active=False)
    net.point.refresh_from_db()
    assert net.point.is_active is False
    assert AuditEvent.objects.get(verb="unit.update").changes == {"is_active": [True, False]}


@pytest.mark.parametrize(
    "fields",
    [{"kind": "point"}, {"region": "320305005200"}, {"parent": None}, {"name": "x", "secret": 1}],
)
def test_unit_update_unknown_field_refused(cast, net, fields):
    before = db_state()
    with pytest.raises(RuleViolation) as exc:
        unit_update(actor=cast.sysadmin, unit=net.station, **fields)
    assert exc.value.message.startswith("不能修改这些字段")
    assert db_state() == before


@pytest.mark.parametrize(
    ("name", "message"),
    [("  ", "请填写单位名称。"), ("马庄村文化礼堂实践点", "同一区划内已有同名单位。")],
)
def test_unit_update_bad_name_refused(cast, net, name, message):
    before = db_state()
    with pytest.raises(RuleViolation) as exc:
        unit_update(actor=cast.county_admin, unit=net.station, name=name)
    assert (exc.value.field, exc.value.message) == ("name", message)
    assert db_state() == before


# ---------------------------------------------------------------- grant_role


@pytest.mark.parametrize("who", list(ACTOR_OUTCOMES_GRANT))
def test_grant_role_by_each_actor(cast, net, who):
    actor = getattr(cast, who)
    expected = ACTOR_OUTCOMES_GRANT[who]
    target = make_user("13700000001", "新站长")
    if expected is None:
        grant = grant_role(
            actor=actor, user=target, role=Role.STATION_ADMIN, region_code=VILLAGE, unit=net.station
        )
        assert (grant.user_id, grant.role, grant.region_id, grant.unit_id) == (
            target.pk,
            "station_admin",
            VILLAGE,
            net.station.pk,
        )
        assert grant.granted_by_id == actor.pk
        assert grant.revoked_at is None
        event = AuditEvent.objects.get(verb="grant.create")
        assert event.actor_id == actor.pk
        assert event.region_code == VILLAGE
        assert event.changes == {
            "user": [None, target.pk],
            "role": [None, "station_admin"],
            "region": [None, VILLAGE],
        }
        # The new station admin can now manage the village.
        assert [g.role for g in grants_of(fresh(target))] == ["station_admin"]
    else:
        before = db_state()
        with pytest.raises(expected):
            grant_role(actor=actor, user=target, role=Role.STATION_ADMIN, region_code=VILLAGE)
        assert db_state() == before


@pytest.mark.parametrize("role", sorted(ROLE_LEVELS))
def test_grant_role_level_rules(cast, net, role):
    """A sysadmin may grant every role, but only at the levels ROLE_LEVELS allows."""
    for level, code in LEVEL_REGION.items():
        user = make_user(f"137000000{int(level):02d}", f"用户{int(level)}")
        if level in ROLE_LEVELS[role]:
            grant = grant_role(actor=cast.sysadmin, user=user, role=role, region_code=code)
            assert (grant.role, grant.region_id) == (role, code)
        else:
            before = db_state()
            with pytest.raises(RuleViolation) as exc:
                grant_role(actor=cast.sysadmin, user=user, role=role, region_code=code)
            assert exc.value.field == "region"
            assert db_state() == before
    assert RoleGrant.objects.filter(role=role, granted_by=cast.sysadmin).count() == len(
        ROLE_LEVELS[role]
    )


def _region_for(role: str, reachable: list[Level]) -> str:
    levels = [lv for lv in reachable if lv in ROLE_LEVELS[role]]
    return LEVEL_REGION[levels[0] if levels else reachable[0]]


@pytest.mark.parametrize("granter", ["county_admin", "institute_admin"])
@pytest.mark.parametrize("role", Role.values)
def test_grant_role_who_may_grant_what(cast, net, granter, role):
    actor = getattr(cast, granter)
    reachable = (
        [Level.COUNTY, Level.TOWN, Level.VILLAGE]
        if granter == "county_admin"
        else [Level.TOWN, Level.VILLAGE]
    )
    code = _region_for(role, reachable)
    user = make_user("13700000099", "受让人")
    if role in GRANTABLE_ROLES[granter]:
        grant = grant_role(actor=actor, user=user, role=role, region_code=code)
        assert (grant.role, grant.region_id, grant.granted_by_id) == (role, code, actor.pk)
    else:
        before = db_state()
        with pytest.raises(Forbidden) as exc:
            grant_role(actor=actor, user=user, role=role, region_code=code)
        assert exc.value.message.startswith("您不能授予")
        assert db_state() == before


def test_institute_admin_cannot_grant_county_admin(cast, net):
    user = make_user("13700000010", "想当主任")
    before = db_state()
    # On its own town: the role is beyond what an institute admin may give.
    with pytest.raises(Forbidden):
        grant_role(actor=cast.institute_admin, user=user, role=Role.COUNTY_ADMIN, region_code=TOWN)
    # On the county: outside its scope altogether.
    with pytest.raises(NotFound):
        grant_role(
            actor=cast.institute_admin, user=user, role=Role.COUNTY_ADMIN, region_code=COUNTY
        )
    assert db_state() == before


def test_grant_role_duplicate_active_grant_refused(cast, net):
    before = db_state()
    with pytest.raises(RuleViolation) as exc:
        grant_role(
            actor=cast.county_admin,
            user=cast.station_admin,
            role=Role.STATION_ADMIN,
            region_code=VILLAGE,
        )
    assert (exc.value.field, exc.value.message) == ("role", "该用户已在此区划拥有这个角色。")
    assert db_state() == before


def test_grant_role_again_after_revoke(cast, net):
    old = RoleGrant.objects.get(user=cast.volunteer)
    grant_revoke(actor=cast.county_admin, grant=old)
    new = grant_role(
        actor=cast.county_admin, user=cast.volunteer, role=Role.VOLUNTEER, region_code=VILLAGE
    )
    assert new.pk != old.pk
    assert RoleGrant.objects.filter(user=cast.volunteer).count() == 2
    assert RoleGrant.objects.filter(user=cast.volunteer, revoked_at__isnull=True).get() == new


def test_grant_role_same_role_other_region_allowed(cast, net):
    grant = grant_role(
        actor=cast.institute_admin, user=cast.volunteer, role=Role.VOLUNTEER, region_code=TOWN
    )
    assert grant.region_id == TOWN
    assert RoleGrant.objects.filter(user=cast.volunteer, revoked_at__isnull=True).count() == 2


@pytest.mark.parametrize(
    ("role", "code", "unit_attr", "error", "field"),
    [
        ("mayor", VILLAGE, None, RuleViolation, "role"),
        (Role.STATION_ADMIN, VILLAGE, "station2", RuleViolation, "unit"),  # 唐庄's station
        (Role.VOLUNTEER, "320305005999", None, NotFound, None),  # no such village
    ],
)
def test_grant_role_bad_input_refused(cast, net, role, code, unit_attr, error, field):
    user = make_user("13700000020", "某人")
    unit = getattr(net, unit_attr) if unit_attr else None
    before = db_state()
    with pytest.raises(error) as exc:
        grant_role(actor=cast.county_admin, user=user, role=role, region_code=code, unit=unit)
    assert exc.value.field == field
    assert db_state() == before


def test_grant_role_clears_grant_cache_of_the_user(cast, net):
    user = make_user("13700000030", "新人")
    assert grants_of(user) == []
    grant_role(actor=cast.county_admin, user=user, role=Role.VOLUNTEER, region_code=VILLAGE)
    assert [g.region_code for g in grants_of(user)] == [VILLAGE]


# ---------------------------------------------------------------- grant_revoke


@pytest.mark.parametrize("who", list(ACTOR_OUTCOMES_GRANT))
def test_grant_revoke_by_each_actor(cast, net, who):
    actor = getattr(cast, who)
    expected = ACTOR_OUTCOMES_GRANT[who]
    grant = RoleGrant.objects.get(user=cast.volunteer)
    if expected is None:
        revoked = grant_revoke(actor=actor, grant=grant, reason="离开本村")
        grant.refresh_from_db()
        assert grant.revoked_at is not None
        assert grant.revoked_by_id == actor.pk
        assert revoked.pk == grant.pk
        event = AuditEvent.objects.get(verb="grant.revoke")
        assert (event.actor_id, event.target_id, event.region_code, event.note) == (
            actor.pk,
            str(grant.pk),
            VILLAGE,
            "离开本村",
        )
        assert event.changes == {"revoked_at": [None, grant.revoked_at.isoformat()]}
    else:
        before = db_state()
        with pytest.raises(expected):
            grant_revoke(actor=actor, grant=grant, reason="x")
        assert db_state() == before


def test_grant_revoke_keeps_the_row_and_scope_is_lost(cast, net):
    grant = RoleGrant.objects.get(user=cast.station_admin)
    station_admin = fresh(cast.station_admin)
    assert selectors.unit_list(actor=station_admin).count() == 2
    grant_revoke(actor=cast.institute_admin, grant=grant)
    assert RoleGrant.objects.filter(pk=grant.pk, revoked_at__isnull=False).exists()
    station_admin = fresh(cast.station_admin)
    assert grants_of(station_admin) == []
    assert selectors.unit_list(actor=station_admin).count() == 0
    before = db_state()
    with pytest.raises(NotFound):
        unit_update(actor=station_admin, unit=net.station, name="改名")
    with pytest.raises(NotFound):
        selectors.unit_get(actor=station_admin, unit_id=net.station.pk)
    assert db_state() == before


@pytest.mark.parametrize("who", ["county_admin", "institute_admin"])
def test_grant_revoke_own_admin_role_refused(cast, net, who):
    actor = getattr(cast, who)
    grant = RoleGrant.objects.get(user=actor)
    before = db_state()
    with pytest.raises(RuleViolation) as exc:
        grant_revoke(actor=actor, grant=grant)
    assert exc.value.message == "不能撤销自己的管理角色，请让上级管理员操作。"
    assert db_state() == before


def test_grant_revoke_twice_refused(cast, net):
    grant = RoleGrant.objects.get(user=cast.volunteer)
    grant_revoke(actor=cast.county_admin, grant=grant)
    before = db_state()
    with pytest.raises(RuleViolation) as exc:
        grant_revoke(actor=cast.county_admin, grant=grant)
    assert exc.value.message == "该授权已撤销。"
    assert db_state() == before


def test_institute_admin_cannot_revoke_county_admin(cast, net):
    grant = RoleGrant.objects.get(user=cast.county_admin)
    before = db_state()
    with pytest.raises(NotFound):
        grant_revoke(actor=cast.institute_admin, grant=grant)
    assert db_state() == before


def test_county_admin_cannot_revoke_a_role_it_may_not_grant(cast, net):
    supervisor = make_user("13700000040", "区督导", Role.SUPERVISOR, COUNTY)
    grant = RoleGrant.objects.get(user=supervisor)
    before = db_state()
    with pytest.raises(Forbidden):
        grant_revoke(actor=cast.county_admin, grant=grant)
    assert db_state() == before


# ---------------------------------------------------------------- regions_import


def test_regions_import_is_idempotent(net):
    before = db_state()
    result = regions_import(actor=None, rows=REGIONS)
    assert (result.created, result.updated, result.unchanged) == (0, 0, len(REGIONS))
    assert db_state() == before


def test_regions_import_creates_and_renames(cast, net):
    result = regions_import(
        actor=cast.sysadmin,
        rows=[("320305005204", "马庄村"), ("320305005201", "新村")],
    )
    assert (result.created, result.updated, result.unchanged) == (1, 1, 0)
    assert Region.objects.get(code="320305005204").name == "马庄村"
    new = Region.objects.get(code="320305005201")
    assert (new.name, new.level, new.parent_id) == ("新村", 5, TOWN)
    event = AuditEvent.objects.get(verb="regions.import", actor=cast.sysadmin)
    assert event.changes == {"created": 1, "updated": 1}


def test_regions_import_short_codes_are_padded(net):
    result = regions_import(actor=None, rows=[("320305006", "新街道")])
    assert result.created == 1
    assert Region.objects.get(code="320305006000").level == Level.TOWN


def test_regions_import_parents_come_first(db):
    result = regions_import(
        actor=None,
        rows=[
            ("320305005204", "马庄"),
            ("320305000000", "贾汪区"),
            ("32", "江苏省"),
            ("3203", "徐州市"),
            ("320305005", "潘安湖"),
        ],
    )
    assert result.created == 5
    assert Region.objects.get(code="320305005204").parent_id == "320305005000"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("320305005201", "好村"), ("320305777201", "孤村")], "缺少上级区划 320305777000。"),
        ([("320305005201", "好村"), ("12345", "坏代码")], "12345"),
        ([("320305005201", "好村"), ("320005000000", "断层")], "320005000000"),
        ([], "区划文件没有数据。"),
    ],
)
def test_regions_import_refuses_and_writes_nothing(net, rows, message):
    before = db_state()
    with pytest.raises(RuleViolation) as exc:
        regions_import(actor=None, rows=rows)
    assert message in exc.value.message
    assert db_state() == before


@pytest.mark.parametrize("who", list(ACTOR_OUTCOMES_MANAGE))
def test_regions_import_by_each_actor(cast, net, who):
    """A person imports only inside the subtree they manage (None is the system)."""
    actor = getattr(cast, who)
    expected = ACTOR_OUTCOMES_MANAGE[who]
    rows = [(VILLAGE, "马庄村")]
    if expected is None:
        result = regions_import(actor=actor, rows=rows)
        assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
        assert Region.objects.get(code=VILLAGE).name == "马庄村"
        event = AuditEvent.objects.get(verb="regions.import", actor__isnull=False)
        assert (event.actor_id, event.region_code, event.changes) == (
            actor.pk,
            VILLAGE,
            {"created": 0, "updated": 1},
        )
    else:
        before = db_state()
        with pytest.raises(expected):
            regions_import(actor=actor, rows=rows)
        assert db_state() == before


def test_regions_import_partly_outside_scope_writes_nothing(cast, net):
    """One row outside the actor's subtree refuses the whole file."""
    before = db_state()
    with pytest.raises(NotFound):
        regions_import(
            actor=cast.county_admin,
            rows=[("320305005201", "新村"), ("320311001002", "泉山新社区")],
        )
    with pytest.raises(NotFound):
        regions_import(actor=cast.station_admin, rows=[(VILLAGE, "马庄"), ("320305005201", "新村")])
    assert db_state() == before


# ---------------------------------------------------------------- staff_user_for_grant


@pytest.mark.parametrize("who", list(ACTOR_OUTCOMES_GRANT))
def test_staff_user_for_grant_by_each_actor(cast, net, who):
    actor = getattr(cast, who)
    expected = ACTOR_OUTCOMES_GRANT[who]
    if expected is None:
        user = staff_user_for_grant(
            actor=actor,
            phone="13700000060",
            name="新员工",
            password="Init-pass-60",
            region_code=VILLAGE,
        )
        assert (user.name, user.check_password("Init-pass-60")) == ("新员工", True)
        event = AuditEvent.objects.get(verb="user.create")
        assert (event.actor_id, event.target_id, event.region_code) == (
            actor.pk,
            str(user.pk),
            VILLAGE,
        )
        # The same phone again finds that user and writes nothing.
        before = db_state()
        again = staff_user_for_grant(
            actor=actor, phone="137 0000 0060", name="别名", password="", region_code=VILLAGE
        )
        assert again.pk == user.pk
        assert db_state() == before
    else:
        before = db_state()
        with pytest.raises(expected):
            staff_user_for_grant(
                actor=actor,
                phone="13700000060",
                name="新员工",
                password="Init-pass-60",
                region_code=VILLAGE,
            )
        assert db_state() == before


# ---------------------------------------------------------------- concurrency


def _run_at_once(count: int, work) -> list[object]:
    """Run `work(i)` in `count` threads released together; collect results or errors."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = work(i)
        except Exception as exc:  # the test inspects each outcome
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_station_create_makes_exactly_one(cast, net):
    add_region("320305005288", "并发村")
    admin_pk = cast.county_admin.pk

    def work(i: int) -> Unit:
        actor = User.objects.get(pk=admin_pk)
        return unit_create(
            actor=actor, kind=UnitKind.STATION, name=f"并发站{i}", region_code="320305005288"
        )

    results = _run_at_once(10, work)
    made = [r for r in results if isinstance(r, Unit)]
    refused = [r for r in results if isinstance(r, RuleViolation)]
    assert (len(made), len(refused)) == (1, 9), results
    assert Unit.objects.filter(region_id="320305005288").count() == 1
    assert AuditEvent.objects.filter(verb="unit.create").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_grant_makes_exactly_one(cast, net):
    target = make_user("13700000050", "并发用户")
    admin_pk = cast.county_admin.pk

    def work(i: int) -> RoleGrant:
        actor = User.objects.get(pk=admin_pk)
        return grant_role(
            actor=actor,
            user=User.objects.get(pk=target.pk),
            role=Role.VOLUNTEER,
            region_code=VILLAGE,
        )

    results = _run_at_once(10, work)
    made = [r for r in results if isinstance(r, RoleGrant)]
    refused = [r for r in results if isinstance(r, RuleViolation)]
    assert (len(made), len(refused)) == (1, 9), results
    assert RoleGrant.objects.filter(user=target).count() == 1
    assert AuditEvent.objects.filter(verb="grant.create").count() == 1


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"latitude": "91", "longitude": "117"}, "latitude", "坐标超出范围。"),
        ({"latitude": "abc", "longitude": "117"}, "latitude", "坐标格式不正确。"),
        ({"latitude": "34.4"}, "latitude", "纬度和经度须同时填写。"),
    ],
)
def test_unit_coordinates_are_checked(cast, net, fields, field, message):
    from wenming.core.errors import RuleViolation
    from wenming.network.models import Unit

    before = list(Unit.objects.order_by("pk").values())
    with pytest.raises(RuleViolation) as exc:
        services.unit_update(actor=cast.county_admin, unit=net.station, **fields)
    assert (exc.value.field, exc.value.message) == (field, message)
    assert list(Unit.objects.order_by("pk").values()) == before


def test_unit_coordinates_are_set_and_cleared_together(cast, net):
    unit = services.unit_update(
        actor=cast.county_admin, unit=net.station, latitude="34.442", longitude=117.453
    )
    assert (str(unit.latitude), str(unit.longitude)) == ("34.442000", "117.453000")
    unit = services.unit_update(
        actor=cast.county_admin, unit=net.station, latitude="", longitude=None
    )
    assert unit.latitude is None and unit.longitude is None


def test_staff_on_duty_is_the_live_grants_of_the_roles_at_exactly_the_region(cast, net):
    from wenming.core.roles import Role
    from wenming.network.selectors import staff_on_duty

    assert staff_on_duty(net.village.code, roles=[Role.STATION_ADMIN]) == [cast.station_admin]
    assert staff_on_duty(net.town.code, roles=[Role.STATION_ADMIN]) == []  # exactly there
    grant = RoleGrant.objects.get(user=cast.station_admin, role=Role.STATION_ADMIN)
    RoleGrant.objects.filter(pk=grant.pk).update(revoked_at=grant.created_at)
    assert staff_on_duty(net.village.code, roles=[Role.STATION_ADMIN]) == []
