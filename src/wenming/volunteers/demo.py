"""Demo volunteers for the demo county (贾汪区): about 300 synthetic people with
synthetic, checksum-valid ID numbers and 1370000xxxx phones, spread over its villages,
with every star level represented; and the demo volunteer login's own record."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.utils import timezone
from django.utils.translation import pgettext_lazy
from stdnum.cn import ric

from wenming.accounts.models import User
from wenming.core import crypto
from wenming.core import regions as rc
from wenming.core.access import subtree_q
from wenming.core.audit import audit_record
from wenming.network.demo import DEMO_COUNTY, DEMO_VILLAGE
from wenming.network.models import Region, Unit, UnitKind
from wenming.volunteers.identity import age_on
from wenming.volunteers.models import (
    Availability,
    Gender,
    IdType,
    Membership,
    MembershipRole,
    MembershipStatus,
    PoliticalStatus,
    Skill,
    Team,
    TeamType,
    Volunteer,
    VolunteerStatus,
)
from wenming.volunteers.services import ADULT_AGE, stars_recompute

DEMO_VOLUNTEERS = 300
# Its own verb beside the network seed's "demo.load": one event per seed that wrote.
DEMO_VERB = "demo.volunteers"
DEMO_VERB_LABEL = pgettext_lazy("audit verb", "加载演示志愿者")
DEMO_PHONE_BASE = 13700000000
DEMO_VOLUNTEER_PHONE = "13800000005"  # the demo volunteer login (network.demo)
DEMO_LEADER_PHONE = "13800000004"  # the demo team leader login (network.demo)
# The demo leader's team, at 马庄 (known for its farmers' band and sachets).
DEMO_TEAM_NAME = "马庄文化文艺志愿服务队"
DEMO_TEAM_TYPE = "文化文艺"
DEMO_VILLAGE_TEAMS = 24  # besides one team per town

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国志红文辉鹏飞宇欣怡浩然子涵梓轩"

# Confirmed hours ranges that land on each star level under the default thresholds.
HOUR_BANDS = [(0, 99), (100, 299), (300, 599), (600, 999), (1000, 1499), (1500, 2200)]
HOUR_WEIGHTS = [40, 25, 15, 10, 6, 4]


def demo_id_number(birth: dt.date, sequence: int, county: str = "320305") -> str:
    """A synthetic mainland ID number with a valid check digit."""
    base = f"{county}{birth:%Y%m%d}{sequence % 1000:03d}"
    return base + ric.calc_check_digit(base + "0")


def _name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def _row(
    *,
    name: str,
    phone: str,
    id_number: str,
    birth: dt.date,
    region: Region,
    unit: Unit,
    now: dt.datetime,
    today: dt.date,
    status: str = VolunteerStatus.ACTIVE,
    political_status: str = "",
    availability: list[str] | None = None,
    minutes: int = 0,
    user: User | None = None,
    guardian: tuple[str, str] | None = None,
) -> Volunteer:
    is_minor = age_on(birth, today) < ADULT_AGE
    guardian_name, guardian_phone = guardian if (is_minor and guardian) else ("", "")
    return Volunteer(
        user=user,
        name=name,
        gender=Gender.MALE if int(id_number[16]) % 2 == 1 else Gender.FEMALE,
        birth_date=birth,
        id_type=IdType.RIC,
        id_digest=crypto.digest(id_number),
        id_cipher=crypto.encrypt(id_number),
        id_masked=crypto.mask_id_number(id_number),
        phone_digest=crypto.digest(phone),
        phone_cipher=crypto.encrypt(phone),
        phone_masked=crypto.mask_phone(phone),
        region=region,
        unit=unit,
        availability=sorted(availability or []),
        political_status=political_status,
        is_minor=is_minor,
        guardian_name=guardian_name,
        guardian_phone_cipher=crypto.encrypt(guardian_phone) if guardian_phone else "",
        guardian_phone_masked=crypto.mask_phone(guardian_phone) if guardian_phone else "",
        guardian_consent_at=now if is_minor else None,
        consent_at=now,
        status=status,
        confirmed_minutes=minutes,
    )


def seed_volunteers() -> dict[str, int]:
    created = {"volunteers": 0, "teams": 0, "memberships": 0}
    county = Region.objects.filter(code=DEMO_COUNTY).first()
    if county is None:  # the network seed did not run
        return created
    stations = {
        u.region_id: u
        for u in Unit.objects.filter(
            subtree_q("region_id", county.prefix), kind=UnitKind.STATION, is_active=True
        )
    }
    villages = list(
        Region.objects.filter(
            subtree_q("code", county.prefix), level=rc.Level.VILLAGE, code__in=list(stations)
        ).order_by("code")
    )
    if not villages:
        return created
    rng = random.Random(2026)  # noqa: S311 (reproducible demo data, not secrets)
    now = timezone.now()
    today = timezone.localdate()
    skills = list(Skill.objects.order_by("pk"))
    rows: list[Volunteer] = []
    wanted_skills: list[list[Skill]] = []

    first_phone = str(DEMO_PHONE_BASE)
    if not Volunteer.objects.filter(phone_digest__in=crypto.digests(first_phone)).exists():
        for i in range(DEMO_VOLUNTEERS):
            minor = i % 50 == 7  # six minors, with their guardian's consent
            if minor:
                birth = dt.date(today.year - rng.randint(14, 16), rng.randint(1, 12), 1)
            else:
                birth = dt.date(rng.randint(1950, 2004), rng.randint(1, 12), rng.randint(1, 28))
            low, high = rng.choices(HOUR_BANDS, weights=HOUR_WEIGHTS)[0]
            # Every star level appears: the first six rows take one band each.
            if i < len(HOUR_BANDS):
                low, high = HOUR_BANDS[i]
            village = villages[i % len(villages)] if i >= 40 else villages[0]
            rows.append(
                _row(
                    name=_name(rng),
                    phone=str(DEMO_PHONE_BASE + i),
                    id_number=demo_id_number(birth, i),
                    birth=birth,
                    region=village,
                    unit=stations[village.code],
                    now=now,
                    today=today,
                    status=VolunteerStatus.PENDING if i % 37 == 5 else VolunteerStatus.ACTIVE,
                    political_status=rng.choices(
                        [PoliticalStatus.CPC, PoliticalStatus.CYL, PoliticalStatus.MASSES, ""],
                        weights=[25, 15, 50, 10],
                    )[0],
                    availability=rng.sample(list(Availability.values), rng.randint(1, 3)),
                    minutes=rng.randint(low * 60, high * 60)
                    if not minor
                    else rng.randint(0, 90) * 60,
                    guardian=(_name(rng), f"1370001{i:04d}") if minor else None,
                )
            )
            wanted_skills.append(rng.sample(skills, min(len(skills), rng.randint(1, 3))))

    home = next((v for v in villages if v.code == DEMO_VILLAGE), villages[0])
    # The demo volunteer and the demo team leader log in, so they get volunteer records.
    accounts: list[tuple[str, dt.date, int, list[str], int, int]] = [
        (DEMO_VOLUNTEER_PHONE, dt.date(1988, 6, 18), 999, [Availability.WEEKEND_DAY], 128, 2),
        (
            DEMO_LEADER_PHONE,
            dt.date(1976, 3, 9),
            998,
            [Availability.WEEKEND_DAY, Availability.WEEKDAY_EVENING],
            640,
            3,
        ),
    ]
    for phone, birth, seq, availability, hours, n_skills in accounts:
        account = User.objects.filter(phone_digest__in=crypto.digests(phone)).first()
        if (
            account is None
            or Volunteer.objects.filter(user=account).exists()
            or Volunteer.objects.filter(phone_digest__in=crypto.digests(phone)).exists()
        ):
            continue
        rows.append(
            _row(
                name=account.name,
                phone=phone,
                id_number=demo_id_number(birth, seq),
                birth=birth,
                region=home,
                unit=stations[home.code],
                now=now,
                today=today,
                political_status=PoliticalStatus.CPC,
                availability=availability,
                minutes=hours * 60,
                user=account,
            )
        )
        wanted_skills.append(skills[:n_skills])

    if rows:
        created["volunteers"] = _save_volunteers(rows, wanted_skills)
        stars_recompute(region_code=county.code)
    created.update(seed_teams(county, stations, now))
    if any(created.values()):
        audit_record(
            actor=None,
            verb=DEMO_VERB,
            target=stations[home.code],
            region_code=county.code,
            changes=created,
        )
    return created


def _save_volunteers(rows: list[Volunteer], wanted_skills: list[list[Skill]]) -> int:
    saved = Volunteer.objects.bulk_create(rows)
    if any(v.pk is None for v in saved):  # a backend without RETURNING
        by_digest = dict(
            Volunteer.objects.filter(id_digest__in=[v.id_digest for v in saved]).values_list(
                "id_digest", "pk"
            )
        )
        for v in saved:
            v.pk = by_digest[v.id_digest]
    for v in saved:
        v.number = f"{rc.county_prefix(v.region_id)}{v.pk:08d}"
    Volunteer.objects.bulk_update(saved, ["number"], batch_size=500)
    through: Any = Volunteer.skills.through
    through.objects.bulk_create(
        [
            through(volunteer_id=v.pk, skill_id=s.pk)
            for v, chosen in zip(saved, wanted_skills, strict=True)
            for s in chosen
        ]
    )
    return len(saved)


def _team_name(place: str, kind: TeamType) -> str:
    """马庄 + 文化文艺 → 马庄文化文艺志愿服务队; the catch-all type gives no word."""
    return f"{place}{'' if kind.name == '其他' else kind.name}志愿服务队"


def seed_teams(county: Region, stations: dict[str, Unit], now: dt.datetime) -> dict[str, int]:
    """A few dozen teams over the county's towns and villages: one per town (owned by its
    institute), some at village stations, and the demo leader's team at 马庄 with the
    demo volunteer in it. Members are demo volunteers of the same town; some teams have
    open requests and a past member. Teams that exist already (by unit and name) are
    left alone, with their members: a second run writes nothing."""
    created = {"teams": 0, "memberships": 0}
    types = {t.name: t for t in TeamType.objects.all()}
    if not types:
        return created
    type_list = list(types.values())
    institutes = list(
        Unit.objects.filter(
            subtree_q("region_id", county.prefix), kind=UnitKind.INSTITUTE, is_active=True
        )
        .select_related("region")
        .order_by("region_id")
    )
    plans: list[tuple[Unit, str, TeamType]] = []
    home_station = stations.get(DEMO_VILLAGE)
    if home_station is not None:
        plans.append((home_station, DEMO_TEAM_NAME, types.get(DEMO_TEAM_TYPE, type_list[0])))
    for index, institute in enumerate(institutes):
        kind = type_list[index % len(type_list)]
        plans.append((institute, _team_name(institute.region.name, kind), kind))
    village_codes = sorted(code for code in stations if code != DEMO_VILLAGE)
    step = max(1, len(village_codes) // DEMO_VILLAGE_TEAMS)
    for index, code in enumerate(village_codes[::step][:DEMO_VILLAGE_TEAMS]):
        kind = type_list[(index * 3 + 1) % len(type_list)]
        place = stations[code].name.removesuffix("新时代文明实践站")
        plans.append((stations[code], _team_name(place, kind), kind))

    in_county = subtree_q("region_id", county.prefix)
    existing = set(Team.objects.filter(in_county).values_list("unit_id", "name"))
    new = [
        Team(
            name=name,
            team_type=kind,
            unit=unit,
            region_id=unit.region_id,
            description=f"由{unit.name}组建，开展{kind.name}志愿服务，欢迎身边的志愿者加入。",
        )
        for unit, name, kind in plans
        if (unit.pk, name) not in existing
    ]
    if not new:
        return created
    Team.objects.bulk_create(new)
    by_key = {(t.unit_id, t.name): t for t in Team.objects.filter(in_county)}
    teams = [by_key[(t.unit_id, t.name)] for t in new]  # pks on every backend
    created["teams"] = len(teams)

    pool = list(
        Volunteer.objects.filter(in_county, status=VolunteerStatus.ACTIVE, user__isnull=True)
        .order_by("pk")
        .values_list("pk", "region_id")
    )
    by_town: dict[str, list[int]] = {}
    for pk, region_code in pool:
        by_town.setdefault(rc.town_prefix(region_code), []).append(pk)
    logins = dict(
        Volunteer.objects.filter(
            phone_digest__in=[
                *crypto.digests(DEMO_LEADER_PHONE),
                *crypto.digests(DEMO_VOLUNTEER_PHONE),
            ]
        ).values_list("phone_masked", "pk")
    )
    leader_pk = logins.get(crypto.mask_phone(DEMO_LEADER_PHONE))
    volunteer_pk = logins.get(crypto.mask_phone(DEMO_VOLUNTEER_PHONE))

    rng = random.Random(2027)  # noqa: S311 (reproducible demo data, not secrets)
    rows: list[Membership] = []

    def add(team: Team, pk: int, status: str, role: str = MembershipRole.MEMBER) -> None:
        decided = status != MembershipStatus.PENDING
        reason = "工作调动，时间不便" if status == MembershipStatus.LEFT else ""
        rows.append(
            Membership(
                team=team,
                volunteer_id=pk,
                role=role,
                status=status,
                reason=reason,
                decided_at=now if decided else None,
            )
        )

    for index, team in enumerate(teams):
        candidates = list(by_town.get(rc.town_prefix(team.region_id), []))
        rng.shuffle(candidates)
        is_demo = team.name == DEMO_TEAM_NAME
        members = candidates[: rng.randint(4, 10)]
        rest = candidates[len(members) :]
        if is_demo:
            members = [pk for pk in (leader_pk, volunteer_pk) if pk is not None] + members[:6]
        for position, pk in enumerate(members):
            role = MembershipRole.LEADER if position == 0 else MembershipRole.MEMBER
            add(team, pk, MembershipStatus.ACTIVE, role)
        if is_demo or index % 3 == 0:
            for pk in rest[:2]:
                add(team, pk, MembershipStatus.PENDING)
            rest = rest[2:]
        if index % 5 == 1 and rest:
            add(team, rest[0], MembershipStatus.LEFT)
    Membership.objects.bulk_create(rows)
    created["memberships"] = len(rows)
    return created
