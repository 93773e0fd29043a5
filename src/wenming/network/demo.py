"""The demo county: 江苏省徐州市贾汪区 (320305), its real towns and villages, one
practice unit per level, a few practice points, and one login per role."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from wenming.accounts.models import User
from wenming.core.access import subtree_q
from wenming.core.audit import audit_record
from wenming.core.roles import Role
from wenming.network.models import Region, RoleGrant, Unit, UnitKind
from wenming.network.services import read_regions_csv, regions_import

DEMO_COUNTY = "320305000000"
DEMO_REGIONS_FILE = Path(settings.BASE_DIR) / "data" / "regions-320305.csv"
DEMO_PASSWORD = "Demo@2026"  # noqa: S105 (published in the README for the demo)


@dataclass(frozen=True)
class DemoAccount:
    role: str
    phone: str
    name: str
    region_code: str


# The township and village the local demo accounts work in: 潘安湖街道 马庄村.
DEMO_TOWN = "320305005000"
DEMO_VILLAGE = "320305005204"

DEMO_ACCOUNTS = [
    DemoAccount(Role.SYSADMIN, "13800000000", "系统管理员", "320000000000"),
    DemoAccount(Role.COUNTY_ADMIN, "13800000001", "王中心", DEMO_COUNTY),
    DemoAccount(Role.INSTITUTE_ADMIN, "13800000002", "李所长", DEMO_TOWN),
    DemoAccount(Role.STATION_ADMIN, "13800000003", "张站长", DEMO_VILLAGE),
    DemoAccount(Role.TEAM_LEADER, "13800000004", "赵队长", DEMO_TOWN),
    DemoAccount(Role.VOLUNTEER, "13800000005", "刘志愿", DEMO_VILLAGE),
    DemoAccount(Role.RESIDENT, "13800000006", "陈大爷", DEMO_VILLAGE),
    DemoAccount(Role.SUPERVISOR, "13800000007", "周督导", "320300000000"),
    DemoAccount(Role.MEDIA_EDITOR, "13800000008", "吴编辑", DEMO_COUNTY),
    DemoAccount(Role.FUND_MANAGER, "13800000009", "孙基金", DEMO_COUNTY),
    DemoAccount(Role.STORE_KEEPER, "13800000010", "钱超市", DEMO_VILLAGE),
]

DEMO_POINTS = [
    ("贾汪区图书馆新时代文明实践点", DEMO_COUNTY, "贾汪区工人路图书馆"),
    ("贾汪中学新时代文明实践点", DEMO_COUNTY, "贾汪区贾汪中学"),
    ("马庄村文化礼堂新时代文明实践点", DEMO_VILLAGE, "潘安湖街道马庄村文化礼堂"),
]


def _unit_name(kind: str, region: Region) -> str:
    if kind == UnitKind.CENTER:
        return f"{region.name}新时代文明实践中心"
    if kind == UnitKind.INSTITUTE:
        return f"{region.name}新时代文明实践所"
    # Village committees are named "…村委会"/"…社区居委会"; the station takes the place name.
    place = region.name
    for suffix in ("村民委员会", "居民委员会", "村委会", "居委会", "委员会"):
        if place.endswith(suffix):
            place = place[: -len(suffix)]
            break
    return f"{place}新时代文明实践站"


def seed_network() -> dict[str, int]:
    imported = regions_import(actor=None, rows=read_regions_csv(DEMO_REGIONS_FILE))
    created = {"regions": imported.created, "units": 0, "users": 0, "grants": 0}

    county = Region.objects.get(code=DEMO_COUNTY)
    prefix = county.prefix
    existing = {
        u.region_id: u
        for u in Unit.objects.filter(subtree_q("region_id", prefix)).exclude(kind=UnitKind.POINT)
    }

    def ensure(kind: str, region: Region, parent: Unit | None) -> Unit:
        unit = existing.get(region.code)
        if unit is None:
            unit = Unit.objects.create(
                kind=kind, name=_unit_name(kind, region), region=region, parent=parent
            )
            existing[region.code] = unit
            created["units"] += 1
        return unit

    center = ensure(UnitKind.CENTER, county, None)
    regions = Region.objects.filter(subtree_q("code", prefix), level__gte=4).order_by(
        "level", "code"
    )
    for region in regions:
        if region.level == 4:
            ensure(UnitKind.INSTITUTE, region, center)
        else:
            ensure(UnitKind.STATION, region, existing[region.parent_id])  # type: ignore[index]

    for name, code, address in DEMO_POINTS:
        if not Unit.objects.filter(region_id=code, name=name).exists():
            Unit.objects.create(
                kind=UnitKind.POINT,
                name=name,
                region_id=code,
                parent=existing[code],
                address=address,
            )
            created["units"] += 1

    for account in DEMO_ACCOUNTS:
        try:
            user = User.objects.get_by_phone(account.phone)
        except User.DoesNotExist:
            user = User.objects.create_user(account.phone, account.name, DEMO_PASSWORD)
            created["users"] += 1
        if not RoleGrant.objects.filter(
            user=user, role=account.role, region_id=account.region_code, revoked_at__isnull=True
        ).exists():
            RoleGrant.objects.create(
                user=user,
                role=account.role,
                region_id=account.region_code,
                unit=existing.get(account.region_code),
            )
            created["grants"] += 1

    if any(created.values()):
        audit_record(
            actor=None, verb="demo.load", target=center, region_code=county.code, changes=created
        )
    return created
