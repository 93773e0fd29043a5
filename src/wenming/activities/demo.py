"""Demo projects and activities for the demo county (贾汪区): the brand projects 幸福巴士
and 文明大篷车 with stops in several towns, activities in all five work items, past ones
finished and upcoming ones open for sign-up with demo volunteers already signed up."""

from __future__ import annotations

import datetime as dt

from django.db.models import F
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from wenming.activities.models import (
    Activity,
    ActivityState,
    Project,
    SignUp,
    SignUpState,
    Subcategory,
    WorkItem,
)
from wenming.core import regions as rc
from wenming.core.access import subtree_q
from wenming.core.audit import audit_record
from wenming.network.demo import DEMO_COUNTY, DEMO_TOWN
from wenming.network.models import Unit, UnitKind
from wenming.volunteers.models import Volunteer, VolunteerStatus

DEMO_VERB = "demo.activities"
DEMO_VERB_LABEL = pgettext_lazy("audit verb", "加载演示活动")

PROJECTS = [
    ("幸福巴士", WorkItem.CULTURE, "文艺演出、义诊、理发、政策咨询坐上巴士，开进村居，每周一站。"),
    ("文明大篷车", WorkItem.POLICY, "宣讲员和文艺骨干组成的流动宣讲队，把党的政策讲到田间地头。"),
]

# (title, work item, subcategory, project index or None, day offset, hour, hours, quota,
#  venue, description)
ACTIVITIES: list[tuple[str, str, str, int | None, int, int, int, int, str, str]] = [
    ("幸福巴士·马庄站：文艺演出进村", WorkItem.CULTURE, "文艺演出", 0, -20, 9, 3, 20,
     "马庄村文化广场", "香包非遗展示、农民乐团演出，现场招募文艺志愿者。"),
    ("幸福巴士·大泉站：义诊和理发", WorkItem.VALUES, "志愿服务", 0, -12, 8, 4, 12,
     "大泉街道社区服务中心", "为老人量血压、理发、讲解用药。"),
    ("幸福巴士·青山泉站：电影放映", WorkItem.CULTURE, "电影放映", 0, 6, 18, 3, 15,
     "青山泉镇文化站广场", "露天放映优秀影片，维持秩序，照顾老人和孩子。"),
    ("幸福巴士·紫庄站：全民阅读", WorkItem.CULTURE, "全民阅读", 0, 13, 9, 3, 10,
     "紫庄镇农家书屋", "陪孩子读书、整理图书、教老人用手机阅读。"),
    ("文明大篷车·汴塘站：政策宣讲", WorkItem.POLICY, "政策宣讲", 1, -8, 14, 2, 8,
     "汴塘镇便民服务中心", "宣讲惠农政策，现场答疑。"),
    ("文明大篷车·塔山站：法治宣传", WorkItem.POLICY, "法治宣传", 1, 4, 9, 3, 10,
     "塔山镇集市", "发放法治宣传资料，解答婚姻、继承、土地流转问题。"),
    ("百姓名嘴讲理论：乡村振兴大家谈", WorkItem.THEORY, "理论宣讲", None, -5, 19, 2, 6,
     "潘安湖街道新时代文明实践所", "百姓名嘴用家常话讲新思想。"),
    ("读书会：学习党的创新理论", WorkItem.THEORY, "读书学习", None, 9, 19, 2, 30,
     "贾汪区图书馆", "领读、讨论、分享体会。"),
    ("好人好事分享会", WorkItem.VALUES, "道德模范", None, 11, 15, 2, 20,
     "潘安湖街道新时代文明实践所", "身边好人讲述自己的故事，志愿者负责签到和引导。"),
    ("红白喜事简办宣传", WorkItem.CUSTOMS, "红白理事", None, -15, 9, 3, 10,
     "马庄村红白理事会", "入户宣传简办新风，签订承诺书。"),
    ("文明乡风：村庄环境整治", WorkItem.CUSTOMS, "环境整治", None, 3, 8, 3, 2,
     "马庄村村口", "清理村道垃圾、劝导文明养犬。名额已满，可报名候补。"),
    ("移风易俗进万家", WorkItem.CUSTOMS, "移风易俗宣传", None, 16, 9, 3, 25,
     "江庄镇文化广场", "快板、小品宣传移风易俗。"),
]  # fmt: skip


def seed_activities() -> dict[str, int]:
    created = {"projects": 0, "activities": 0, "signups": 0}
    center = Unit.objects.filter(region_id=DEMO_COUNTY, kind=UnitKind.CENTER).first()
    if center is None or Project.objects.filter(unit=center, name=PROJECTS[0][0]).exists():
        return created
    institutes = list(
        Unit.objects.filter(
            subtree_q("region_id", rc.prefix_of(DEMO_COUNTY)), kind=UnitKind.INSTITUTE
        ).order_by("region_id")
    )
    home = next((u for u in institutes if u.region_id == DEMO_TOWN), center)
    projects = [
        Project.objects.create(
            name=name, unit=center, region_id=center.region_id, work_item=item, is_brand=True,
            description=text,
        )
        for name, item, text in PROJECTS
    ]  # fmt: skip
    created["projects"] = len(projects)
    subcategories = {s.name: s for s in Subcategory.objects.all()}
    volunteers = list(
        Volunteer.objects.filter(
            subtree_q("region_id", rc.prefix_of(DEMO_COUNTY)), status=VolunteerStatus.ACTIVE
        ).order_by(F("user_id").desc(nulls_last=True), "pk")[:40]
    )  # the demo volunteer login (the only one with a user) first
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    now = timezone.now()
    signups: list[SignUp] = []
    for index, row in enumerate(ACTIVITIES):
        title, item, sub, project, offset, hour, hours, quota, venue, text = row
        starts = dt.datetime.combine(today + dt.timedelta(days=offset), dt.time(hour), tzinfo=tz)
        ends = starts + dt.timedelta(hours=hours)
        unit = home if project is None and index % 2 == 0 else (
            institutes[index % len(institutes)] if project is None and institutes else center
        )  # fmt: skip
        past = ends < now
        taken = min(quota, 3 + index % 5) if not past else min(quota, 4 + index % 4)
        if title.startswith("文明乡风"):
            taken = quota  # full, with a waitlist
        skip = index % 3
        chosen = volunteers[skip : skip + taken]
        taken = len(chosen)
        activity = Activity.objects.create(
            title=title, work_item=item, subcategory=subcategories.get(sub),
            project=projects[project] if project is not None else None, unit=unit,
            region_id=unit.region_id, venue=venue, address=f"徐州市贾汪区{venue}",
            starts_at=starts, ends_at=ends, signup_closes_at=starts, quota=quota,
            description=text, signed_up_count=taken,
            state=ActivityState.FINISHED if past else ActivityState.PUBLISHED,
            state_changed_at=now,
            published_at=now,
        )  # fmt: skip
        created["activities"] += 1
        signups += [
            SignUp(activity=activity, volunteer=v, state=SignUpState.SIGNED_UP) for v in chosen
        ]
        if taken == quota and not past:
            extra = volunteers[skip + taken : skip + taken + 2]
            signups += [
                SignUp(activity=activity, volunteer=v, state=SignUpState.WAITLISTED, position=n)
                for n, v in enumerate(extra, start=1)
            ]
            Activity.objects.filter(pk=activity.pk).update(waitlist_seq=len(extra))
    SignUp.objects.bulk_create(signups)
    created["signups"] = len(signups)
    audit_record(
        actor=None, verb=DEMO_VERB, target=center, region_code=center.region_id, changes=created
    )
    return created


CHECKIN_DEMO_TITLE = "马庄村：今日志愿服务（签到演示）"


def ensure_checkin_activity(now: dt.datetime | None = None) -> Activity | None:
    """A 马庄 station activity open for check-in now, whatever the date the demo was
    loaded: the README's check-in step needs one. Made through the real services by
    the station admin (张站长), with the demo volunteer (刘志愿) signed up; kept while
    it has an hour to run, else a new one is made. None without the demo's people."""
    from wenming.accounts.models import User
    from wenming.activities import services
    from wenming.network.demo import DEMO_ACCOUNTS, DEMO_VILLAGE

    now = now or timezone.now()
    station = Unit.objects.filter(
        region_id=DEMO_VILLAGE, kind=UnitKind.STATION, is_active=True
    ).first()
    phones = {a.role: a.phone for a in DEMO_ACCOUNTS}
    try:
        admin = User.objects.get_by_phone(phones["station_admin"])
        volunteer_user = User.objects.get_by_phone(phones["volunteer"])
    except User.DoesNotExist:
        return None
    if station is None:
        return None
    live = (
        Activity.objects.filter(
            unit=station,
            title=CHECKIN_DEMO_TITLE,
            state__in=[ActivityState.PUBLISHED, ActivityState.ONGOING],
            ends_at__gt=now + dt.timedelta(hours=1),
            starts_at__lte=now + dt.timedelta(minutes=30),
        )
        .order_by("-starts_at")
        .first()
    )
    if live is not None:
        return live
    starts = now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0)
    ends = starts + dt.timedelta(hours=3)
    activity = services.activity_create(
        actor=admin,
        data=services.ActivityInput(
            title=CHECKIN_DEMO_TITLE,
            work_item=WorkItem.VALUES,
            unit_id=station.pk,
            venue="马庄村文化礼堂",
            address="徐州市贾汪区潘安湖街道马庄村文化礼堂",
            starts_at=starts,
            ends_at=ends,
            signup_closes_at=ends,
            quota=30,
            description="打扫文化礼堂、为老人读报。用手机扫签到屏上的二维码签到，结束后再扫一次签退。",
        ),
    )
    activity = services.activity_transition(actor=admin, activity=activity, action="publish")
    services.signup_create(actor=volunteer_user, activity=activity, now=now)
    return activity


def seed_checkin_today() -> dict[str, int]:
    before = Activity.objects.filter(title=CHECKIN_DEMO_TITLE).count()
    ensure_checkin_activity()
    return {"activities": Activity.objects.filter(title=CHECKIN_DEMO_TITLE).count() - before}
