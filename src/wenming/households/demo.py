"""Demo households for the demo county (贾汪区): four villages of 潘安湖街道 with about
a dozen households each (synthetic names and 1366xxxxxxx phones), care tags, contact
persons from the demo logins — the demo volunteer (刘志愿) with ten 1+10 households at
马庄, the station admin (张站长) as a cadre with a 1+1 pairing, the institute and county
admins and the team leader in the other villages — open, answered, closed and overdue
events, visits, some overdue care, and an event turned into a resident order."""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone
from django.utils.translation import pgettext_lazy

from wenming.accounts.models import User
from wenming.core import crypto
from wenming.core.access import forget_grants
from wenming.core.audit import audit_record
from wenming.core.errors import RuleViolation
from wenming.households import permissions, services
from wenming.households.models import ContactPerson, Household
from wenming.network.demo import DEMO_COUNTY, DEMO_VILLAGE
from wenming.network.models import Region
from wenming.volunteers.models import Volunteer

DEMO_VERB = "demo.households"
DEMO_VERB_LABEL = pgettext_lazy("audit verb", "加载十必联演示数据")
DEMO_VILLAGES = ["320305005204", "320305005200", "320305005201", "320305005202"]
HOUSEHOLDS_PER_VILLAGE = 12
PHONE_BASE = 13660000000
ADMIN_PHONE = "13800000001"  # 王中心, the county admin: the demo data's actor
STATION_ADMIN_PHONE = "13800000003"  # 张站长
VOLUNTEER_PHONE = "13800000005"  # 刘志愿
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱马"
GIVEN = "桂英秀兰玉珍建国志强德华明富贵永福春花文军小宝子涵"
GROUPS = ["一组", "二组", "三组", "四组", "五组"]
TAG_SETS: list[tuple[str, ...]] = [
    ("empty_nest",),
    ("empty_nest", "disability"),
    ("left_behind_child",),
    ("hardship",),
    ("veteran",),
    (),
    (),
    (),
]
EVENTS = [
    ("illness", "老人住院，需要看望", "电话慰问，约定周末看望", "已出院，恢复良好"),
    ("happy", "孙子考上大学", "上门道贺", "已送去贺信和慰问品"),
    ("bereavement", "老人病故", "上门吊唁，协助办理简办丧事", "丧事从简办结，已移风易俗"),
    ("difficulty", "屋顶漏雨，无力维修", "上门查看", "联系志愿服务队完成维修"),
    ("dispute", "邻里宅基地纠纷", "调解一次", "双方达成和解"),
    ("enlistment", "儿子应征入伍", "上门走访", "已送光荣牌"),
]


def _name(rng: random.Random, length: int = 2) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(length))


# Contact persons of the other villages, from the demo logins (no new accounts): the
# institute admin and the county admin as cadres (县、镇干部包村), the team leader as a
# volunteer.
OTHER_CONTACTS = [
    ("13800000002", "320305005200"),  # 李所长 → 唐庄
    ("13800000004", "320305005201"),  # 赵队长 → 潘安
    (ADMIN_PHONE, "320305005202"),  # 王中心 → 权台
]


def _contact_users() -> list[tuple[User, str]]:
    found = []
    for phone, village in OTHER_CONTACTS:
        user = User.objects.filter(phone_digest__in=crypto.digests(phone)).first()
        if user is not None:
            found.append((user, village))
    return found


def seed_households() -> dict[str, int]:
    created = {"households": 0, "contacts": 0, "events": 0, "visits": 0}
    admin = User.objects.filter(phone_digest__in=crypto.digests(ADMIN_PHONE)).first()
    villages = list(Region.objects.filter(code__in=DEMO_VILLAGES).order_by("code"))
    if (
        admin is None
        or len(villages) < 2
        or Household.objects.filter(region_id=DEMO_VILLAGE).exists()
    ):
        return created
    forget_grants(admin)
    rng = random.Random(6)  # noqa: S311 (synthetic demo data, not secrets)
    now = timezone.now()
    households: dict[str, list[Household]] = {}
    n = 0
    for village in villages:
        for i in range(HOUSEHOLDS_PER_VILLAGE):
            n += 1
            head = _name(rng)
            members = [
                services.MemberInput(head, "head", rng.randint(1935, 1975), str(PHONE_BASE + n))
            ]
            if rng.random() < 0.6:
                members.append(services.MemberInput(_name(rng), "spouse", rng.randint(1938, 1978)))
            tags = TAG_SETS[i % len(TAG_SETS)]
            if "left_behind_child" in tags:
                members.append(
                    services.MemberInput(_name(rng), "grandchild", rng.randint(2012, 2019))
                )
            place = village.name.removesuffix("村委会")
            household = services.household_create(
                actor=admin,
                data=services.HouseholdInput(
                    region_code=village.code,
                    address=f"{place}{GROUPS[i % len(GROUPS)]}{i + 1}号",
                    tag_codes=tags,
                    members=members,
                ),
            )
            households.setdefault(village.code, []).append(household)
            created["households"] += 1

    # Contact persons.
    volunteer_user = User.objects.filter(phone_digest__in=crypto.digests(VOLUNTEER_PHONE)).first()
    station_admin = User.objects.filter(
        phone_digest__in=crypto.digests(STATION_ADMIN_PHONE)
    ).first()
    contacts: dict[str, list[ContactPerson]] = {}
    if volunteer_user is not None and Volunteer.objects.filter(user=volunteer_user).exists():
        contacts.setdefault(DEMO_VILLAGE, []).append(
            services.contact_person_add(
                actor=admin, user=volunteer_user, region_code=DEMO_VILLAGE, is_party_member=True
            )
        )
    if station_admin is not None:
        contacts.setdefault(DEMO_VILLAGE, []).append(
            services.contact_person_add(actor=admin, user=station_admin, region_code=DEMO_VILLAGE)
        )
    for user, code in _contact_users():
        try:
            person = services.contact_person_add(actor=admin, user=user, region_code=code)
        except RuleViolation:  # neither a volunteer nor a cadre in this demo
            continue
        contacts.setdefault(code, []).append(person)
    created["contacts"] = sum(len(c) for c in contacts.values())

    # Assignments: the first contact of each village takes up to ten households (1+10),
    # the second pairs with an empty-nest elder (1+1); the rest stay uncovered.
    for code, people in contacts.items():
        homes = households.get(code, [])
        group = homes[:10] if code == DEMO_VILLAGE else homes[: 7 + len(code) % 3]
        for household in group:
            services.assignment_create(
                actor=admin, household=household, contact=people[0], kind="group"
            )
        if len(people) > 1:
            elder = next((h for h in homes if h.tags.filter(code="empty_nest").exists()), None)
            if elder is not None:
                services.assignment_create(
                    actor=admin, household=elder, contact=people[1], kind="pair"
                )

    # History: closed events over the last two months, each answered and closed.
    for code, homes in households.items():
        here = contacts.get(code, [])
        actor = here[0].user if here else admin
        for k, (kind, summary, first, outcome) in enumerate(EVENTS):
            household = homes[(k * 2) % len(homes)]
            actor_here = actor if permissions.is_contact_of(actor, household) else admin
            reported = now - dt.timedelta(days=55 - k * 8, hours=rng.randint(0, 10))
            event = services.event_report(
                actor=admin, household=household, kind=kind, summary=summary, now=reported
            )
            late = rng.random() < 0.2
            answered = reported + (
                event.due_at - event.reported_at + dt.timedelta(hours=5)
                if late
                else (event.due_at - event.reported_at) * rng.uniform(0.1, 0.8)
            )
            services.visit_log(
                actor=actor_here, household=household, channel="phone", notes=first,
                event=event, happened_at=answered, now=answered,
            )  # fmt: skip
            closed = answered + dt.timedelta(days=2)
            services.visit_log(
                actor=actor_here, household=household, channel="visit", notes=outcome,
                event=event, close=True, outcome=outcome, happened_at=closed, now=closed,
            )  # fmt: skip
            created["events"] += 1
            created["visits"] += 2

    # Now: at 马庄, an emergency overdue, an illness waiting (in time), a petition
    # answered; routine visits, and an empty-nest elder not visited for ten days.
    homes = households.get(DEMO_VILLAGE, [])
    if homes:
        people = contacts.get(DEMO_VILLAGE, [])
        contact_user = people[0].user if people else admin
        services.event_report(
            actor=admin, household=homes[1], kind="emergency",
            summary="独居老人摔倒，邻居来电", now=now - dt.timedelta(hours=3),
        )  # fmt: skip
        services.event_report(
            actor=contact_user, household=homes[3], kind="illness",
            summary="老人感冒发烧，需要买药", now=now - dt.timedelta(hours=5),
        )  # fmt: skip
        petition = services.event_report(
            actor=admin, household=homes[4], kind="petition",
            summary="反映村道路灯不亮", now=now - dt.timedelta(days=1),
        )  # fmt: skip
        at = now - dt.timedelta(hours=20)
        services.visit_log(
            actor=contact_user, household=homes[4], channel="group",
            notes="已在村微信群回复，报修中", event=petition, happened_at=at, now=at,
        )  # fmt: skip
        created["events"] += 3
        created["visits"] += 1
        for k, household in enumerate(homes[:10]):
            if k == 0:
                at = now - dt.timedelta(days=10)  # overdue: empty-nest, every 7 days
            else:
                at = now - dt.timedelta(days=1 + k % 5, hours=k)
            services.visit_log(
                actor=contact_user, household=household, channel="visit",
                notes="入户走访，身体和生活情况良好", happened_at=at, now=at,
            )  # fmt: skip
            created["visits"] += 1
    # Elsewhere: an overdue difficulty at 唐庄 with no visit.
    other = households.get("320305005200", [])
    if other:
        services.event_report(
            actor=admin, household=other[5], kind="difficulty",
            summary="家中取暖困难", now=now - dt.timedelta(days=4),
        )  # fmt: skip
        created["events"] += 1
    # And one that needed services: it became a resident order (点单).
    if homes:
        roof = services.event_report(
            actor=admin, household=homes[6], kind="difficulty",
            summary="屋顶漏雨，老人无力维修", now=now - dt.timedelta(hours=30),
        )  # fmt: skip
        services.household_event_to_order(
            actor=admin, event=roof, details="请志愿服务队上门维修屋顶", preferred_time="本周内"
        )
        created["events"] += 1
    services.overdue_scan(now=now)
    audit_record(actor=None, verb=DEMO_VERB, target=None, region_code=DEMO_COUNTY, changes=created)
    return created
