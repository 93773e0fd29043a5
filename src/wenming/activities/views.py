"""Activity pages: the public list and detail with sign-up, the staff list, form,
transition buttons and roster. Views parse, call a service or selector, and render."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import http_date
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wenming.activities import permissions, selectors, services
from wenming.activities.calendar import FeedEvent, calendar_document, subscription_urls
from wenming.activities.forms import (
    ActivityForm,
    ListFilterForm,
    PhotoUploadForm,
    TransitionForm,
    initial_from,
)
from wenming.activities.models import (
    MAX_PHOTOS_PER_ACTIVITY,
    Activity,
    ActivityState,
    SignUpState,
    WorkItem,
)
from wenming.core import regions as rc
from wenming.core.access import has_perm, require
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.core.paging import paginate, querystring_without_page
from wenming.core.roles import Perm
from wenming.network.models import Region
from wenming.volunteers.own import volunteer_of


def _towns() -> list[Region]:
    """The town filter's options; regions change only by an import, so they are kept
    in the cache for five minutes."""
    towns: list[Region] | None = cache.get("activity-list-towns")
    if towns is None:
        towns = list(Region.objects.filter(level=rc.Level.TOWN).order_by("code"))
        cache.set("activity-list-towns", towns, 300)
    return towns


# How long the public list's rendered cards live in the cache. Any change to an activity
# changes the key at once; the time only bounds staleness of what is outside the key
# (a unit renamed, a subcategory relabelled).
CARDS_TTL = 300


@require_GET
def activity_list(request: HttpRequest) -> HttpResponse:
    """The public list: open to everyone, anonymous visitors included."""
    form = ListFilterForm(request.GET)
    filters = form.filters()
    cards, ids = _cards(request, filters)
    return render(
        request,
        "activities/activity_list.html",
        {
            "cards": _with_my_states(request, cards, ids),
            "form": form,
            "filters": filters,
            "work_items": WorkItem.choices,
            "towns": _towns(),
            "can_manage": has_perm(request.user, Perm.ACTIVITY_VIEW),
            "team_name": selectors.public_team_name(filters.get("team_id")),
            **_unit_calendar_context(request, filters.get("unit_id")),
        },
    )


# The list's query parameters, in a fixed order; anything else in the URL is ignored.
LIST_PARAMS = ("q", "item", "region", "unit", "team", "date_from", "date_to", "open")
# Only the browsing views are kept in the cache: a bounded set of keys (five work items,
# the towns, open or not, the first pages), so that nobody can fill the cache by varying
# the URL. Searches, dates, one unit's or one team's list are rendered each time.
CACHED_PAGES = 20


def _cards(request: HttpRequest, filters: dict[str, Any]) -> tuple[str, list[int]]:
    """The count, cards and pager: the same for every visitor, so the browsing views are
    rendered once per language, query and state of the activities (the key holds the
    latest change) and then read from the cache, with the ids on the page."""
    known = [(k, request.GET.get(k, "")[:50]) for k in LIST_PARAMS if request.GET.get(k)]
    qs = urlencode(known)
    page_number = request.GET.get("page", "1")
    cacheable = (
        not any(k in {"q", "unit", "team", "date_from", "date_to"} for k, _v in known)
        and page_number.isdigit()
        and 1 <= int(page_number) <= CACHED_PAGES
    )
    key = ""
    if cacheable:
        stamp = selectors.activities_changed_at()
        raw = f"{get_language()}|{stamp.isoformat() if stamp else ''}|{qs}|{page_number}"
        key = "activity-cards:" + hashlib.sha256(raw.encode()).hexdigest()
        cached: tuple[str, list[int]] | None = cache.get(key)
        if cached is not None:
            return cached
    page = paginate(request, selectors.public_activity_list(**filters))
    html = render_to_string("activities/_cards.html", {"page": page, "qs": qs})
    result = (html, [a.pk for a in page.object_list])
    if key:
        cache.set(key, result, CARDS_TTL)
    return result


def _with_my_states(request: HttpRequest, cards: str, ids: list[int]) -> str:
    """Fill in the visitor's own badges (我已报名 / 我在候补) on the shared cards."""
    badges: dict[str, str] = {}
    mine = selectors.my_live_states(actor=request.user, activity_ids=ids)
    for activity_id, state in mine.items():
        if state not in badges:
            badges[state] = render_to_string("activities/_my_state.html", {"state": state})
        cards = cards.replace(f"<!--my-state:{activity_id}-->", badges[state], 1)
    return mark_safe(cards)  # noqa: S308 - our own rendered template, plus our badges


def _unit_calendar_context(request: HttpRequest, unit_id: int | None) -> dict[str, Any]:
    """When the list shows one unit's activities: the unit and its calendar feed."""
    try:
        unit = selectors.calendar_unit(unit_id)
    except NotFound:
        return {"unit": None}
    url, webcal = subscription_urls(request, reverse("activities:unit_calendar", args=[unit.pk]))
    return {"unit": unit, "unit_calendar_url": url, "unit_calendar_webcal": webcal}


@login_required
@require_GET
def activity_manage(request: HttpRequest) -> HttpResponse:
    """Staff: every activity of their scope, drafts and submissions included."""
    if not has_perm(request.user, Perm.ACTIVITY_VIEW):
        raise Forbidden(_("您没有管理活动的权限。"))
    form = ListFilterForm(request.GET)
    filters = form.filters()
    state = request.GET.get("state", "")
    filters["state"] = state if state in ActivityState.values else ""
    page = paginate(request, selectors.staff_activity_list(actor=request.user, **filters))
    return render(
        request,
        "activities/activity_manage.html",
        {
            "page": page,
            "filters": filters,
            "states": ActivityState.choices,
            "work_items": WorkItem.choices,
            "qs": querystring_without_page(request),
            "can_create": has_perm(request.user, Perm.ACTIVITY_MANAGE),
        },
    )


@require_GET
def activity_detail(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = selectors.activity_get(actor=request.user, activity_id=activity_id)
    return render(request, "activities/activity_detail.html", _detail_context(request, activity))


def _detail_context(request: HttpRequest, activity: Activity) -> dict[str, Any]:
    user = request.user
    staff_view = permissions.can_view(user, activity)
    photos = selectors.activity_photos(activity=activity)
    can_manage_photos = permissions.can_manage_photos(user, activity)
    return {
        "a": activity,
        "photos": photos,
        "can_manage_photos": can_manage_photos,
        "photo_form": PhotoUploadForm()
        if can_manage_photos and len(photos) < MAX_PHOTOS_PER_ACTIVITY
        else None,
        "max_photos": MAX_PHOTOS_PER_ACTIVITY,
        "my_signup": selectors.my_live_signup(actor=user, activity=activity),
        "is_volunteer": volunteer_of(user) is not None,
        "actions": services.allowed_actions(user, activity) if staff_view else [],
        "staff_view": staff_view,
        "can_edit": permissions.can_edit(user, activity),
        "needs_approval": services.approval_required(activity.unit),
        "can_organise": permissions.can_organise(user, activity),
        "unit_calendar_webcal": subscription_urls(
            request, reverse("activities:unit_calendar", args=[activity.unit_id])
        )[1],
    }


def _form_page(
    request: HttpRequest, form: ActivityForm, activity: Activity | None = None
) -> HttpResponse:
    return render(request, "activities/activity_form.html", {"form": form, "a": activity})


def _saved(form: ActivityForm, write: Callable[[], Activity]) -> Activity | None:
    """Run the service; its refusals become form errors."""
    try:
        return write()
    except RuleViolation as exc:
        form.add_rule_violation(exc)
    except (Forbidden, NotFound):
        form.add_error("unit", _("该单位不在您的管辖范围内。"))
    return None


@login_required
@require_http_methods(["GET", "POST"])
def activity_create(request: HttpRequest) -> HttpResponse:
    if not has_perm(request.user, Perm.ACTIVITY_MANAGE):
        raise Forbidden(_("您没有发布活动的权限。"))
    form = ActivityForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        activity = _saved(
            form, lambda: services.activity_create(actor=request.user, data=form.activity_input())
        )
        if activity is not None:
            messages.success(request, _("已保存为草稿。检查无误后请发布。"))
            return redirect("activities:detail", activity_id=activity.pk)
    return _form_page(request, form)


@login_required
@require_http_methods(["GET", "POST"])
def activity_edit(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = selectors.activity_get(actor=request.user, activity_id=activity_id)
    # The organiser pages answer alike (edit, roster, check-in screen, records): a
    # read-only viewer 403, anyone else 404, even when the activity itself is public.
    require(request.user, Perm.ACTIVITY_MANAGE, activity.region_id, view_perm=Perm.ACTIVITY_VIEW)
    form = ActivityForm(
        request.POST or None,
        actor=request.user,
        initial=initial_from(activity),
        published=activity.state == ActivityState.PUBLISHED,
    )
    if request.method == "POST" and form.is_valid():
        saved = _saved(
            form,
            lambda: services.activity_update(
                actor=request.user, activity=activity, data=form.activity_input()
            ),
        )
        if saved is not None:
            messages.success(request, _("已保存。"))
            return redirect("activities:detail", activity_id=activity.pk)
    return _form_page(request, form, activity)


@login_required
@require_POST
def activity_transition(request: HttpRequest, activity_id: int, action: str) -> HttpResponse:
    activity = selectors.activity_get(actor=request.user, activity_id=activity_id)
    if action not in services.TRANSITIONS:
        raise NotFound(_("未知的操作。"))
    form = TransitionForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.activity_transition(
            actor=request.user, activity=activity, action=action, reason=reason
        )
    except RuleViolation as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("已%(action)s。") % {"action": services.TRANSITIONS[action].label}
        )
    return redirect("activities:detail", activity_id=activity.pk)


@login_required
@require_POST
def signup(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = selectors.activity_for_signup(actor=request.user, activity_id=activity_id)
    try:
        result = services.signup_create(actor=request.user, activity=activity)
    except RuleViolation as exc:
        if exc.code == "not_volunteer":
            messages.info(request, exc.message)
            return redirect("volunteers:register")
        messages.error(request, exc.message)
    else:
        if result.state == "signed_up":
            messages.success(request, _("报名成功！请按时参加。"))
        else:
            messages.info(
                request,
                _("名额已满，您已进入候补（第 %(n)s 位）。有人取消时将自动递补。")
                % {"n": result.position},
            )
    return redirect("activities:detail", activity_id=activity.pk)


@login_required
@require_POST
def signup_cancel(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = selectors.activity_get(actor=request.user, activity_id=activity_id)
    mine = selectors.my_live_signup(actor=request.user, activity=activity)
    if mine is None:
        messages.error(request, _("您没有报名该活动。"))
        return redirect("activities:detail", activity_id=activity.pk)
    try:
        services.signup_cancel(
            actor=request.user, signup=mine, reason=request.POST.get("reason", "")[:200]
        )
    except RuleViolation as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已取消报名。"))
    return redirect("activities:detail", activity_id=activity.pk)


@login_required
@require_GET
def roster(request: HttpRequest, activity_id: int) -> HttpResponse:
    """The organisers' roster: places first, then the waitlist in order, then the
    cancelled; searchable by name or volunteer number and paged (a big event has
    thousands)."""
    activity = selectors.activity_get(actor=request.user, activity_id=activity_id)
    search, state = request.GET.get("q", "").strip()[:50], request.GET.get("state", "")
    # Like every organiser page: a read-only viewer 403, anyone else 404.
    rows = selectors.activity_roster(
        actor=request.user, activity=activity, search=search, state=state
    )
    return render(
        request,
        "activities/roster.html",
        {
            "a": activity,
            "page": paginate(request, rows, per_page=50),
            "qs": querystring_without_page(request),
            "search": search,
            "state": state,
            "states": SignUpState.choices,
        },
    )


# ---------------------------------------------------------------- photos


@login_required
@require_POST
def photo_upload(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = selectors.activity_get(actor=request.user, activity_id=activity_id)
    # Refused before the form is read (the service checks again): a public activity is
    # visible to all, but only its organisers may add to it (others get 403; outsiders
    # of a non-public one got 404 above).
    require(request.user, Perm.ACTIVITY_MANAGE, activity.region_id, view_perm=Perm.ACTIVITY_VIEW)
    form = PhotoUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("请选择要上传的照片。"))
        return redirect(reverse("activities:detail", args=[activity.pk]) + "#photos")
    try:
        services.activity_photo_add(
            actor=request.user,
            activity=activity,
            upload=form.cleaned_data["image"],
            caption=form.cleaned_data["caption"],
        )
    except RuleViolation as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已上传照片。"))
    return redirect(reverse("activities:detail", args=[activity.pk]) + "#photos")


@login_required
@require_POST
def photo_delete(request: HttpRequest, activity_id: int, photo_id: int) -> HttpResponse:
    photo = selectors.activity_photo_get(
        actor=request.user, activity_id=activity_id, photo_id=photo_id
    )
    services.activity_photo_delete(actor=request.user, photo=photo)
    messages.success(request, _("已删除照片。"))
    return redirect(reverse("activities:detail", args=[activity_id]) + "#photos")


@require_GET
def photo_file(
    request: HttpRequest, activity_id: int, photo_id: int, size: str = "full"
) -> FileResponse:
    """Stream a photo (media files are not served by whitenoise): anyone may see the
    photos of a public activity, staff those of any activity in their scope. A photo
    never changes (a new upload is a new photo), so browsers may keep it; only a
    public activity's photos may sit in shared caches."""
    photo = selectors.activity_photo_get(
        actor=request.user, activity_id=activity_id, photo_id=photo_id
    )
    field = photo.thumbnail if size == "thumb" else photo.image
    try:
        handle = field.open("rb")
    except FileNotFoundError as exc:
        raise NotFound(_("找不到该照片。")) from exc
    response = FileResponse(handle, content_type="image/jpeg")
    scope = "public" if photo.activity.is_public else "private"
    response["Cache-Control"] = f"{scope}, max-age=86400"
    response["Last-Modified"] = http_date(photo.created_at.timestamp())
    response["Content-Disposition"] = "inline"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def approval_settings(request: HttpRequest) -> HttpResponse:
    """Upper units choose which units below them need approval before publishing."""
    if not has_perm(request.user, Perm.ACTIVITY_MANAGE):
        raise Forbidden(_("您没有管理活动的权限。"))
    if request.method == "POST":
        unit = (
            selectors.approval_units(actor=request.user)
            .filter(pk=_int(request.POST.get("unit")))
            .first()
        )
        if unit is None:
            raise NotFound(_("找不到该单位。"))
        services.approval_policy_set(
            actor=request.user, unit=unit, approval_required=request.POST.get("required") == "1"
        )
        messages.success(request, _("已保存 %(unit)s 的活动审核设置。") % {"unit": unit.name})
        return redirect(f"{request.path}?{request.GET.urlencode()}")
    search = request.GET.get("q", "").strip()[:50]
    page = paginate(request, selectors.approval_units(actor=request.user, search=search))
    return render(
        request,
        "activities/approval_settings.html",
        {"page": page, "search": search, "qs": querystring_without_page(request)},
    )


def _int(raw: str | None) -> int:
    try:
        return int(raw or "")
    except ValueError:
        return 0


# ---------------------------------------------------------------- calendar feeds


def _ics(body: bytes, cache_control: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = cache_control
    return response


@require_GET
def unit_calendar(request: HttpRequest, unit_id: int) -> HttpResponse:
    """A unit's public activities as an iCalendar feed (public: they are published)."""
    unit = selectors.calendar_unit(unit_id)
    items = [FeedEvent(a) for a in selectors.unit_calendar_activities(unit=unit)]
    name = _("%(unit)s 志愿活动") % {"unit": unit.name}
    # Public and the same for everyone: shared caches may keep it for a quarter hour.
    return _ics(calendar_document(request, name, items), "public, max-age=900")


@require_GET
def my_calendar(request: HttpRequest, token: str) -> HttpResponse:
    """A volunteer's own sign-ups as a private iCalendar feed. The secret token in the
    URL is the key (phone calendars cannot log in); any other token is a plain 404."""
    feed = selectors.calendar_feed_by_token(token)
    waitlisted = _("[候补] ")
    items = [
        FeedEvent(s.activity, waitlisted if s.state == SignUpState.WAITLISTED else "")
        for s in selectors.calendar_feed_signups(feed=feed)
    ]
    response = _ics(calendar_document(request, _("我的志愿活动"), items), "private, max-age=900")
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@login_required
@require_POST
def calendar_reset(request: HttpRequest) -> HttpResponse:
    """Open the volunteer's private feed, or give it a new address (the old one dies)."""
    had_feed = selectors.calendar_feed_of(request.user) is not None
    try:
        services.calendar_feed_reset(actor=request.user)
    except RuleViolation as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("已生成新的日历订阅地址，原地址已失效。")
            if had_feed
            else _("已开通日历订阅，请复制地址添加到手机日历。"),
        )
    return redirect(reverse("volunteers:me") + "#my-calendar")


def my_calendar_context(request: HttpRequest) -> dict[str, Any]:
    """For the calendar card on 我的: the private feed's addresses, once opened."""
    feed = selectors.calendar_feed_of(request.user)
    if feed is None:
        return {"calendar_url": "", "calendar_webcal": ""}
    url, webcal = subscription_urls(
        request, reverse("activities:my_calendar", kwargs={"token": feed.token})
    )
    return {"calendar_url": url, "calendar_webcal": webcal}
