"""The shared cast: a small real-shaped region tree with two counties, the practice
units on it, and one user per role, plus an outsider (the admin of the other county)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from wenming.accounts.models import User
from wenming.core.roles import Role
from wenming.network.models import Region, RoleGrant, Unit, UnitKind
from wenming.network.services import regions_import

PASSWORD = "Test-pass-2026"

REGIONS = [
    ("320000000000", "江苏省"),
    ("320300000000", "徐州市"),
    ("320305000000", "贾汪区"),
    ("320305005000", "潘安湖街道"),
    ("320305005204", "马庄村委会"),
    ("320305005200", "唐庄村委会"),
    ("320305102000", "青山泉镇"),
    ("320305102200", "马庄村"),
    ("320311000000", "泉山区"),
    ("320311001000", "王陵街道"),
    ("320311001001", "王陵社区居委会"),
]


@dataclass
class Network:
    county: Region
    town: Region
    village: Region
    village2: Region
    other_town: Region
    other_county: Region
    center: Unit
    institute: Unit
    station: Unit
    station2: Unit
    other_institute: Unit
    other_center: Unit
    point: Unit


@dataclass
class Cast:
    sysadmin: User
    county_admin: User
    institute_admin: User
    station_admin: User
    supervisor: User
    team_leader: User
    volunteer: User
    outsider: User  # county admin of 泉山区, a neighbouring county


def _unit(kind: str, name: str, code: str, parent: Unit | None) -> Unit:
    return Unit.objects.create(kind=kind, name=name, region_id=code, parent=parent)


@pytest.fixture
def net(db) -> Network:
    regions_import(actor=None, rows=REGIONS)
    center = _unit(UnitKind.CENTER, "贾汪区新时代文明实践中心", "320305000000", None)
    institute = _unit(UnitKind.INSTITUTE, "潘安湖街道新时代文明实践所", "320305005000", center)
    other_institute = _unit(UnitKind.INSTITUTE, "青山泉镇新时代文明实践所", "320305102000", center)
    station = _unit(UnitKind.STATION, "马庄新时代文明实践站", "320305005204", institute)
    station2 = _unit(UnitKind.STATION, "唐庄新时代文明实践站", "320305005200", institute)
    _unit(UnitKind.STATION, "马庄村新时代文明实践站", "320305102200", other_institute)
    other_center = _unit(UnitKind.CENTER, "泉山区新时代文明实践中心", "320311000000", None)
    _unit(UnitKind.INSTITUTE, "王陵街道新时代文明实践所", "320311001000", other_center)
    point = _unit(UnitKind.POINT, "马庄村文化礼堂实践点", "320305005204", station)
    r = Region.objects.in_bulk()
    return Network(
        county=r["320305000000"],
        town=r["320305005000"],
        village=r["320305005204"],
        village2=r["320305005200"],
        other_town=r["320305102000"],
        other_county=r["320311000000"],
        center=center,
        institute=institute,
        station=station,
        station2=station2,
        other_institute=other_institute,
        other_center=other_center,
        point=point,
    )


def make_user(
    phone: str,
    name: str,
    role: str | None = None,
    region: str | None = None,
    unit: Unit | None = None,
) -> User:
    user = User.objects.create_user(phone, name, PASSWORD)
    if role:
        RoleGrant.objects.create(user=user, role=role, region_id=region, unit=unit)
    return user


@pytest.fixture
def cast(net: Network) -> Cast:
    return Cast(
        sysadmin=make_user("13900000000", "系统管理员", Role.SYSADMIN, "320000000000"),
        county_admin=make_user(
            "13900000001", "县管理员", Role.COUNTY_ADMIN, "320305000000", net.center
        ),
        institute_admin=make_user(
            "13900000002", "所管理员", Role.INSTITUTE_ADMIN, "320305005000", net.institute
        ),
        station_admin=make_user(
            "13900000003", "站管理员", Role.STATION_ADMIN, "320305005204", net.station
        ),
        supervisor=make_user("13900000004", "市督导", Role.SUPERVISOR, "320300000000"),
        team_leader=make_user("13900000005", "队长", Role.TEAM_LEADER, "320305005000"),
        volunteer=make_user("13900000006", "志愿者", Role.VOLUNTEER, "320305005204"),
        outsider=make_user(
            "13900000009", "外县管理员", Role.COUNTY_ADMIN, "320311000000", net.other_center
        ),
    )


@pytest.fixture
def login(client):
    """Log a test client in as a user (through the real login form)."""

    def do(user: User, password: str = PASSWORD):
        client.cookies.clear()
        response = client.post("/accounts/login/", {"phone": user.phone, "password": password})
        assert response.status_code == 302, response.content[:500]
        return client

    return do


def session_queries() -> int:
    """Queries a logged-in request spends on its session: none when the session is read
    from the Redis cache (cached_db, with REDIS_URL), one from the database otherwise."""
    from django.conf import settings

    return 0 if settings.SESSION_ENGINE.endswith("cached_db") else 1


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache
    from django.utils import translation

    cache.clear()
    yield
    # A request in English leaves English active in this thread; the next test starts
    # in the default language, as a new request would.
    translation.deactivate()


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests are skipped on SQLite; under CI, a DATABASE_URL that does
    not answer fails the run (see .ci/run) rather than skipping."""
    on_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip)


def phone_code(phone: str) -> str:
    """A live self-registration code for `phone`, as the text message would carry it
    (sent through the real service and outbox, read back from the outbox)."""
    from wenming.notifications import verification
    from wenming.notifications.models import OutboxMessage

    code = verification.phone_code_send(
        phone=phone, purpose=verification.REGISTER, ip=f"test-{phone}"
    )
    assert code in OutboxMessage.objects.filter(verb="phone.code").latest("id").text
    return code
