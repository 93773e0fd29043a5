"""Reads about activities. The public sees published, ongoing and finished activities;
staff with ACTIVITY_VIEW see every state in their scope; a volunteer sees their own
sign-ups."""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    Max,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wenming.accounts.types import Actor, user_id_of
from wenming.activities.models import (
    LIVE_SIGNUP_STATES,
    PUBLIC_STATES,
    Activity,
    ActivityPhoto,
    ActivityState,
    CalendarFeed,
    Project,
    SignUp,
    SignUpState,
)
from wenming.core.access import in_scope, require, scoped, subtree_q
from wenming.core.audit import column_sql
from wenming.core.errors import NotFound
from wenming.core.figures import by_child
from wenming.core.home import HomeCounter
from wenming.core.registry import Period
from wenming.core.roles import Perm
from wenming.network.models import Unit
from wenming.volunteers.models import Volunteer

AUDIT_VERBS = {
    "activity.create": pgettext_lazy("audit verb", "新建活动"),
    "activity.update": pgettext_lazy("audit verb", "修改活动"),
    "activity.submit": pgettext_lazy("audit verb", "提交活动审核"),
    "activity.approve": pgettext_lazy("audit verb", "审核通过活动"),
    "activity.reject": pgettext_lazy("audit verb", "退回活动"),
    "activity.publish": pgettext_lazy("audit verb", "发布活动"),
    "activity.start": pgettext_lazy("audit verb", "开始活动"),
    "activity.finish": pgettext_lazy("audit verb", "结束活动"),
    "activity.cancel": pgettext_lazy("audit verb", "取消活动"),
    "activity.policy": pgettext_lazy("audit verb", "设置活动审核"),
    "signup.create": pgettext_lazy("audit verb", "活动报名"),
    "signup.cancel": pgettext_lazy("audit verb", "取消报名"),
    "signup.promote": pgettext_lazy("audit verb", "候补递补"),
    "project.create": pgettext_lazy("audit verb", "新建志愿服务项目"),
    "subcategory.save": pgettext_lazy("audit verb", "设置活动子类"),
    "calendar.create": pgettext_lazy("audit verb", "开通个人活动日历"),
    "calendar.reset": pgettext_lazy("audit verb", "重置个人活动日历地址"),
    "activity.photo_add": pgettext_lazy("audit verb", "上传活动照片"),
    "activity.photo_delete": pgettext_lazy("audit verb", "删除活动照片"),
}


def _filtered(
    qs: QuerySet[Activity],
    *,
    search: str = "",
    work_item: str = "",
    region_prefix: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    open_only: bool = False,
    state: str = "",
    unit_id: int | None = None,
    team_id: int | None = None,
) -> QuerySet[Activity]:
    search = search.strip()
    if search:
        qs = qs.filter(
            Q(title__icontains=search)
            | Q(venue__icontains=search)
            | Q(unit__name__icontains=search)
        )
    if work_item:
        qs = qs.filter(work_item=work_item)
    if unit_id:
        qs = qs.filter(unit_id=unit_id)
    if team_id:
        qs = qs.filter(team_id=team_id)
    if region_prefix:
        qs = qs.filter(subtree_q("region_id", region_prefix))
    tz = timezone.get_current_timezone()
    if date_from:
        start = dt.datetime.combine(date_from, dt.time.min, tzinfo=tz)
        qs = qs.filter(ends_at__gte=start)
    if date_to:
        end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        qs = qs.filter(starts_at__lt=end)
    if open_only:
        now = timezone.now()
        qs = qs.filter(
            Q(signup_opens_at__isnull=True) | Q(signup_opens_at__lte=now),
            state=ActivityState.PUBLISHED,
            signed_up_count__lt=F("quota"),
            signup_closes_at__gt=now,
        )
    if state:
        qs = qs.filter(state=state)
    return qs.select_related("unit", "region", "subcategory", "project")


def public_activity_list(**filters: Any) -> QuerySet[Activity]:
    """Anyone's list: what is open or running first (soonest first), then what is
    finished (latest first)."""
    qs = _filtered(Activity.objects.filter(state__in=PUBLIC_STATES), **filters)
    return (
        qs.prefetch_related(_photos_prefetch())
        .annotate(
            finished=Case(
                When(state=ActivityState.FINISHED, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .order_by("finished", Case(When(finished=0, then=F("starts_at"))), "-starts_at", "-id")
    )


def activities_changed_at() -> dt.datetime | None:
    """When any activity last changed (saved, signed up for, photo added or removed):
    what the public list's cached cards are keyed on."""
    return Activity.objects.aggregate(at=Max("updated_at"))["at"]


def _photos_prefetch() -> Prefetch[Any]:
    # One query for the whole page; the card shows the first.
    return Prefetch("photos", queryset=ActivityPhoto.objects.order_by("sort", "id"))


def activity_photos(*, activity: Activity) -> list[ActivityPhoto]:
    """The photos of an activity the caller has already fetched for the actor."""
    return list(activity.photos.order_by("sort", "id"))


def activity_photo_get(*, actor: Actor, activity_id: int, photo_id: int) -> ActivityPhoto:
    """A photo of an activity the actor may see (a public one, or any in their
    ACTIVITY_VIEW scope); elsewhere it does not exist."""
    activity = activity_get(actor=actor, activity_id=activity_id)
    photo = ActivityPhoto.objects.filter(pk=photo_id, activity=activity).first()
    if photo is None:
        raise NotFound(_("找不到该照片。"))
    photo.activity = activity
    return photo


def team_activities(*, team_id: int) -> QuerySet[Activity]:
    """The public activities (published, ongoing, finished) a team organised, newest
    first: public, like every public activity page."""
    return (
        Activity.objects.filter(team_id=team_id, state__in=PUBLIC_STATES)
        .select_related("unit")
        .order_by("-starts_at", "-id")
    )


def public_team_name(team_id: int | None) -> str:
    """The name of a team that organised a public activity (shown on that activity's
    page anyway); "" for any other id, so the filter reveals nothing more."""
    if not team_id:
        return ""
    row = (
        Activity.objects.filter(team_id=team_id, state__in=PUBLIC_STATES)
        .values_list("team__name", flat=True)
        .first()
    )
    return row or ""


def staff_activity_list(*, actor: Actor, **filters: Any) -> QuerySet[Activity]:
    """Every activity in the actor's ACTIVITY_VIEW scope, drafts included, newest first."""
    qs = scoped(Activity.objects.all(), actor, Perm.ACTIVITY_VIEW, "region_id")
    return _filtered(qs, **filters).order_by("-starts_at", "-id")


def activity_get(*, actor: Actor, activity_id: int) -> Activity:
    """A public activity for anyone; any other state only inside the actor's
    ACTIVITY_VIEW scope (elsewhere it does not exist)."""
    activity = (
        Activity.objects.select_related("unit", "region", "subcategory", "project", "team")
        .prefetch_related("skills")
        .filter(pk=activity_id)
        .first()
    )
    if activity is None or not (
        activity.is_public or in_scope(actor, Perm.ACTIVITY_VIEW, activity.region_id)
    ):
        raise NotFound(_("找不到该活动。"))
    return activity


# What signing up reads: the window and the counts, nothing to render.
SIGNUP_FIELDS = (
    "id", "title", "unit_id", "region_id", "state", "quota", "signed_up_count",
    "signup_opens_at", "signup_closes_at", "starts_at", "venue", "address",
)  # fmt: skip


@functools.cache
def _signup_lookup_sql() -> str:
    a, v = Activity._meta, Volunteer._meta
    skills = Activity.skills.through
    qn = connection.ops.quote_name
    columns = ", ".join(f"a.{column_sql(Activity, f)}" for f in SIGNUP_FIELDS)
    # Identifiers from the models' metadata, every value a parameter.
    return (
        f"SELECT {columns}, EXISTS (SELECT 1 FROM {qn(skills._meta.db_table)} s "  # noqa: S608
        f"WHERE s.{column_sql(skills, 'activity')} = a.{column_sql(Activity, 'id')}) "
        "AS needs_skills, "
        f"v.{column_sql(Volunteer, 'id')} AS signup_volunteer_id, "
        f"v.{column_sql(Volunteer, 'status')} AS signup_volunteer_status "
        f"FROM {qn(a.db_table)} a LEFT JOIN {qn(v.db_table)} v "
        f"ON v.{column_sql(Volunteer, 'user')} = %s "
        f"WHERE a.{column_sql(Activity, 'id')} = %s"
    )


def activity_for_signup(*, actor: Actor, activity_id: int) -> Activity:
    """The activity to sign up for, as `activity_get` finds it (public, or in the
    actor's scope) but lean, since a popular activity's sign-ups all arrive at once: one
    query that also reads whether it asks for skills (`needs_skills`) and the actor's
    volunteer record (`signup_volunteer_id`, `signup_volunteer_status`; None if none)."""
    user_id = actor.pk if getattr(actor, "is_authenticated", False) else None
    activity = next(iter(Activity.objects.raw(_signup_lookup_sql(), [user_id, activity_id])), None)
    if activity is None or not (
        activity.is_public or in_scope(actor, Perm.ACTIVITY_VIEW, activity.region_id)
    ):
        raise NotFound(_("找不到该活动。"))
    return activity


def activity_roster(
    *, actor: Actor, activity: Activity, search: str = "", state: str = ""
) -> QuerySet[SignUp]:
    """The sign-ups of an activity, for staff who may see the activity in every state
    (names and masked phones of volunteers who signed up to it): places first, then
    the waitlist in order, then the cancelled; optionally only those whose name holds
    `search` (or whose volunteer number it is) and only one state."""
    require(actor, Perm.ACTIVITY_VIEW, activity.region_id, view_perm=Perm.ACTIVITY_VIEW)
    rows = SignUp.objects.filter(activity=activity)
    search = search.strip()[:50]
    if search:
        rows = rows.filter(Q(volunteer__name__icontains=search) | Q(volunteer__number=search))
    if state in SignUpState.values:
        rows = rows.filter(state=state)
    return (
        rows.select_related("volunteer")
        .annotate(
            rank=Case(
                When(state=SignUpState.SIGNED_UP, then=Value(0)),
                When(state=SignUpState.WAITLISTED, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .order_by("rank", "position", "id")
    )


def my_signups(*, actor: Actor, live_only: bool = False) -> QuerySet[SignUp]:
    """The acting user's own sign-ups (as a volunteer), soonest activity first."""
    if not getattr(actor, "is_authenticated", False):
        return SignUp.objects.none()
    qs = SignUp.objects.filter(volunteer__user_id=user_id_of(actor))
    if live_only:
        qs = qs.filter(state__in=LIVE_SIGNUP_STATES)
    return qs.select_related("activity", "activity__unit").order_by("-activity__starts_at", "-id")


def my_live_states(*, actor: Actor, activity_ids: list[int]) -> dict[int, str]:
    """The acting user's live sign-up state (signed up / waitlisted) on each of the
    given activities that they hold one on (no query for none)."""
    if not getattr(actor, "is_authenticated", False) or not activity_ids:
        return {}
    return dict(
        SignUp.objects.filter(
            volunteer__user_id=user_id_of(actor),
            activity_id__in=activity_ids,
            state__in=LIVE_SIGNUP_STATES,
        )
        .order_by()
        .values_list("activity_id", "state")
    )


def my_live_signup(*, actor: Actor, activity: Activity) -> SignUp | None:
    if not getattr(actor, "is_authenticated", False):
        return None
    return (
        SignUp.objects.filter(
            activity=activity, volunteer__user_id=user_id_of(actor), state__in=LIVE_SIGNUP_STATES
        )
        .select_related("volunteer")
        .first()
    )


def _count_state(state: str) -> Any:
    def count(actor: Actor) -> int:
        return scoped(
            Activity.objects.filter(state=state), actor, Perm.ACTIVITY_VIEW, "region_id"
        ).count()

    return count


def home_counters() -> list[HomeCounter]:
    return [
        HomeCounter(
            "activities.published",
            pgettext_lazy("home counter", "报名中的活动"),
            Perm.ACTIVITY_VIEW,
            _count_state(ActivityState.PUBLISHED),
            "activities:manage",
            30,
        ),
        HomeCounter(
            "activities.submitted",
            pgettext_lazy("home counter", "待审核活动"),
            Perm.ACTIVITY_VIEW,
            _count_state(ActivityState.SUBMITTED),
            "activities:manage",
            31,
        ),
    ]


def approval_units(*, actor: Actor, search: str = "") -> QuerySet[Unit]:
    """The units whose activities the actor approves: those whose parent unit lies in
    the actor's ACTIVITY_MANAGE scope."""
    qs = scoped(
        Unit.objects.filter(parent__isnull=False, is_active=True),
        actor,
        Perm.ACTIVITY_MANAGE,
        "parent__region_id",
    )
    if search.strip():
        qs = qs.filter(name__icontains=search.strip())
    return qs.select_related("activity_policy", "parent").order_by("region_id", "kind", "name")


def project_list(*, region_prefix: str = "") -> QuerySet[Project]:
    """Active projects, for anyone (brand projects first)."""
    qs = Project.objects.filter(is_active=True)
    if region_prefix:
        qs = qs.filter(subtree_q("region_id", region_prefix))
    return qs.order_by("-is_brand", "name", "id")


# secrets.token_urlsafe(32) gives 43 of these characters.
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{32,64}")

# How far back the calendar feeds reach; everything upcoming is always in.
CALENDAR_PAST_DAYS = 90


def calendar_unit(unit_id: int | None) -> Unit:
    """A unit whose public activities anyone may list or subscribe to: any unit, as
    units are public bodies whose names every public activity page shows."""
    unit = Unit.objects.filter(pk=unit_id).first() if unit_id else None
    if unit is None:
        raise NotFound(_("找不到该单位。"))
    return unit


def unit_calendar_activities(*, unit: Unit, now: dt.datetime | None = None) -> list[Activity]:
    """A unit's activities for its public calendar feed, those that ended in the last
    CALENDAR_PAST_DAYS days or are still to come: published, ongoing and finished ones,
    and cancelled ones that had been public (published_at set), so that subscribed
    calendars show them as cancelled. A cancelled draft never appears. One query."""
    since = (now or timezone.now()) - dt.timedelta(days=CALENDAR_PAST_DAYS)
    return list(
        Activity.objects.filter(
            Q(state__in=PUBLIC_STATES)
            | Q(state=ActivityState.CANCELLED, published_at__isnull=False),
            unit=unit,
            ends_at__gte=since,
        )
        .select_related("unit")
        .order_by("starts_at", "id")
    )


def calendar_feed_by_token(token: str) -> CalendarFeed:
    """The private feed whose secret token this is; any other string does not exist
    (one that could not be a token is refused before the database sees it)."""
    well_formed = TOKEN_RE.fullmatch(token) is not None
    feed = CalendarFeed.objects.filter(token=token).first() if well_formed else None
    if feed is None:
        raise NotFound(_("找不到该日历。"))
    return feed


def calendar_feed_signups(*, feed: CalendarFeed, now: dt.datetime | None = None) -> list[SignUp]:
    """The feed owner's live sign-ups (signed up or waitlisted) to activities that ended
    in the last CALENDAR_PAST_DAYS days or are still to come. An activity cancelled after
    they signed up stays in (it had been published, or they could not have signed up),
    so that their calendar shows it as cancelled. One query."""
    since = (now or timezone.now()) - dt.timedelta(days=CALENDAR_PAST_DAYS)
    return list(
        SignUp.objects.filter(
            volunteer_id=feed.volunteer_id,
            state__in=LIVE_SIGNUP_STATES,
            activity__state__in=[*PUBLIC_STATES, ActivityState.CANCELLED],
            activity__ends_at__gte=since,
        )
        .select_related("activity", "activity__unit")
        .order_by("activity__starts_at", "id")
    )


def calendar_feed_of(actor: Actor) -> CalendarFeed | None:
    """The acting volunteer's private feed, if they have opened one."""
    if not getattr(actor, "is_authenticated", False):
        return None
    return CalendarFeed.objects.filter(volunteer__user_id=user_id_of(actor)).first()


def held_by_child(prefix: str, period: Period) -> dict[str, float]:
    """Activities held (published, under way or finished) that start in the period."""
    start, stop = period.bounds()
    rows = Activity.objects.filter(
        state__in=PUBLIC_STATES, starts_at__gte=start, starts_at__lt=stop
    )
    return by_child(rows, "region_id", prefix, Count("id"))
