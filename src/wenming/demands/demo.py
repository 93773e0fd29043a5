"""Demo service menus and orders for the demo county (贾汪区): a menu at each level
(the center, 潘安湖街道's institute, 马庄's station and its practice point) and orders in
every state, made through the same services as real ones (so the timelines, service
records and notifications are real too)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import pgettext_lazy

from wenming.accounts.models import User
from wenming.core.audit import audit_record
from wenming.demands import services
from wenming.demands.models import Channel, DeliveryMode, MenuItem, Order, OrderState
from wenming.network.demo import DEMO_COUNTY, DEMO_TOWN, DEMO_VILLAGE
from wenming.network.models import Unit, UnitKind
from wenming.volunteers.demo import DEMO_LEADER_PHONE, DEMO_TEAM_NAME
from wenming.volunteers.models import Team, Volunteer

DEMO_VERB = "demo.demands"
DEMO_VERB_LABEL = pgettext_lazy("audit verb", "加载演示点单")

S = OrderState
V, H = DeliveryMode.VENUE, DeliveryMode.HOME

# (unit kind, region, title, work item, mode, response h, complete h, description, demo team)
MENU: list[tuple[str, str, str, str, str, int, int, str, bool]] = [
    (UnitKind.CENTER, DEMO_COUNTY, "法律咨询进万家", "policy", V, 48, 168,
     "律师志愿者解答婚姻、继承、土地流转、劳动报酬等问题。", False),
    (UnitKind.CENTER, DEMO_COUNTY, "心理疏导", "values", H, 24, 120,
     "心理咨询师志愿者上门或电话疏导，关爱空巢老人和留守儿童。", False),
    (UnitKind.INSTITUTE, DEMO_TOWN, "政策宣讲进村组", "policy", V, 48, 168,
     "百姓名嘴到村民小组宣讲惠民政策，现场答疑。", False),
    (UnitKind.INSTITUTE, DEMO_TOWN, "家电义务维修", "values", H, 24, 72,
     "维修小家电、检查线路，不收工时费。", False),
    (UnitKind.STATION, DEMO_VILLAGE, "上门理发", "values", H, 24, 72,
     "为行动不便的老人上门理发、修面。", True),
    (UnitKind.STATION, DEMO_VILLAGE, "文艺演出进院落", "culture", V, 48, 168,
     "马庄农民乐团、香包艺人到院落演出和教学。", True),
    (UnitKind.STATION, DEMO_VILLAGE, "代写书信和读报", "culture", H, 24, 72,
     "为老人读报、代写书信、教用智能手机。", True),
    (UnitKind.POINT, DEMO_VILLAGE, "文化礼堂借场地", "customs", V, 24, 72,
     "红白事简办、家庭聚会借用文化礼堂，志愿者帮忙布置。", False),
]  # fmt: skip

# (menu title or "" for a free request, state to reach, resident name, details)
ORDERS: list[tuple[str, str, str, str]] = [
    ("上门理发", S.SUBMITTED, "陈大爷", "腿脚不便，想请人上门理发。"),
    ("代写书信和读报", S.ACCEPTED, "孙奶奶", "想请人每周读两次报纸。"),
    ("", S.REJECTED, "钱先生", "想借两千元周转。"),
    ("文艺演出进院落", S.DISPATCHED, "马庄三组", "重阳节想在院子里办一场小演出。"),
    ("上门理发", S.OPEN, "李奶奶", "周末上午在家。"),
    ("代写书信和读报", S.TAKEN, "周大爷", "教我用手机和孙子视频。"),
    ("上门理发", S.COMPLETED, "吴奶奶", "家住二楼，需要上门。"),
    ("文艺演出进院落", S.RATED, "郑大爷", "想学香包制作。"),
    ("上门理发", S.RATED, "王大爷", "理发。"),
    ("", S.CANCELLED, "冯女士", "家里水管坏了，已自行修好。"),
    ("", S.SUBMITTED, "褚奶奶", "独居，想要一台收音机（微心愿）。"),
]


def _user(phone: str) -> User | None:
    try:
        return User.objects.get_by_phone(phone)
    except User.DoesNotExist:
        return None


def _menu(staff: User, team: Team | None) -> dict[str, MenuItem]:
    items = {}
    for kind, region, title, item, mode, resp, done, text, with_team in MENU:
        unit = Unit.objects.filter(region_id=region, kind=kind).order_by("id").first()
        if unit is None:
            continue
        saved = services.menu_item_save(
            actor=staff,
            data=services.MenuItemInput(
                unit_id=unit.pk, title=title, work_item=item, description=text,
                delivery_mode=mode, response_hours=resp, complete_hours=done,
                team_ids=[team.pk] if team is not None and with_team else [],
            ),
        )  # fmt: skip
        items[title] = saved
    return items


def _advance(order: Order, target: str, ctx: dict[str, Any]) -> None:
    station, leader, team = ctx["station"], ctx["leader"], ctx["team"]
    paths: dict[str, list[str]] = {
        S.SUBMITTED: [],
        S.ACCEPTED: ["accept"],
        S.REJECTED: ["reject"],
        S.DISPATCHED: ["accept", "dispatch"],
        S.OPEN: ["accept", "open_grab"],
        S.TAKEN: ["accept", "dispatch", "take"],
        S.COMPLETED: ["accept", "dispatch", "take", "complete"],
        S.RATED: ["accept", "dispatch", "take", "complete", "rate"],
        S.CANCELLED: ["cancel"],
    }
    for step in paths[target]:
        order = Order.objects.select_related("unit").get(pk=order.pk)
        if step == "accept":
            services.order_accept(actor=station, order=order)
        elif step == "reject":
            services.order_reject(
                actor=station,
                order=order,
                reason="不属于志愿服务范围，已介绍到民政办咨询救助政策。",
            )
        elif step == "dispatch":
            services.order_dispatch(actor=station, order=order, team=team, note="请尽快联系群众")
        elif step == "open_grab":
            services.order_open_for_grab(actor=station, order=order)
        elif step == "take":
            services.order_take(actor=leader, order=order)
        elif step == "complete":
            services.order_complete(
                actor=leader, order=order, note="已上门服务，群众满意。",
                participants=[services.Participant(ctx["leader_volunteer"].pk, 90)],
            )  # fmt: skip
        elif step == "rate":
            stars = 5 if "郑" in ctx["name"] else 2
            comment = "服务很周到，谢谢志愿者！" if stars == 5 else "来得晚了一点。"
            services.order_rate(order=order, token=ctx["token"], stars=stars, comment=comment)
        elif step == "cancel":
            services.order_cancel(actor=station, order=order, reason="群众来电说已自行解决。")


def seed_demands() -> dict[str, int]:
    created = {"menu_items": 0, "orders": 0}
    county_admin = _user("13800000001")
    station_admin = _user("13800000003")
    leader = _user(DEMO_LEADER_PHONE)
    team = Team.objects.filter(name=DEMO_TEAM_NAME).first()
    if county_admin is None or station_admin is None or leader is None or team is None:
        return created
    if MenuItem.objects.filter(region_id=DEMO_COUNTY, title=MENU[0][2]).exists():
        return created
    leader_volunteer = Volunteer.objects.filter(user=leader).first()
    if leader_volunteer is None:
        return created
    items = _menu(county_admin, team)
    created["menu_items"] = len(items)
    now = timezone.now()
    for index, (title, target, name, details) in enumerate(ORDERS):
        item = items.get(title)
        data = services.OrderInput(
            name=name,
            phone=f"1390000{index:04d}",
            region_code=DEMO_VILLAGE,
            menu_item_code=item.code if item else "",
            kind="menu" if item else ("wish" if "微心愿" in details else "help"),
            address=f"马庄村{index % 5 + 1}组",
            preferred_time="周末上午" if index % 2 else "工作日下午",
            details=details,
        )
        order = services.order_create(
            actor=station_admin,
            data=data,
            channel=Channel.PHONE,
            # Recent enough that the escalation job leaves them where they are for now.
            now=now - dt.timedelta(hours=len(ORDERS) - index),
        )
        ctx = {
            "station": station_admin, "leader": leader, "team": team, "name": name,
            "leader_volunteer": leader_volunteer, "token": order.link_token,
        }  # fmt: skip
        _advance(order, target, ctx)
        created["orders"] += 1
    # One order was not taken on in time: it went up to the institute.
    late = services.order_create(
        actor=station_admin,
        data=services.OrderInput(
            name="蒋大爷", phone="13900000099", region_code=DEMO_VILLAGE, kind="help",
            address="马庄村6组", details="屋顶漏雨，想请人帮忙看看。",
        ),
        channel=Channel.PHONE,
        now=now - dt.timedelta(hours=30),
    )  # fmt: skip
    services.order_escalate(order=late, now=now)
    created["orders"] += 1
    audit_record(actor=None, verb=DEMO_VERB, target=None, region_code=DEMO_COUNTY, changes=created)
    return created
