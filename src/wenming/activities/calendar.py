"""iCalendar (RFC 5545) documents of activities, for phone calendars to subscribe to.

Times are written in UTC (…Z), so no VTIMEZONE is needed and every client shows them
in its own zone. An event's UID is stable (activity-<id>@<host>), so a subscribed
calendar updates an event in place when the activity changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from wenming.activities.models import Activity, ActivityState


@dataclass(frozen=True)
class FeedEvent:
    activity: Activity
    # Shown before the title, e.g. "[候补] " in a volunteer's own feed.
    prefix: str = ""


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)


def _event(request: HttpRequest, item: FeedEvent, host: str, stamp: dt.datetime) -> Event:
    a = item.activity
    url = request.build_absolute_uri(reverse("activities:detail", args=[a.pk]))
    cancelled = a.state == ActivityState.CANCELLED
    prefix = _("[已取消] ") if cancelled else item.prefix
    event = Event()
    event.add("uid", f"activity-{a.pk}@{host}")
    event.add("dtstamp", stamp)
    event.add("dtstart", _utc(a.starts_at))
    event.add("dtend", _utc(a.ends_at))
    event.add("summary", f"{prefix}{a.title}")
    event.add("location", " ".join(p for p in (a.venue, a.address) if p))
    lines = [_("主办单位：%(unit)s") % {"unit": a.unit.name}]
    if a.description:
        lines.append(a.description)
    lines.append(_("详情：%(url)s") % {"url": url})
    event.add("description", "\n\n".join(lines))
    event.add("url", url)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("last-modified", _utc(a.updated_at))
    if a.latitude is not None and a.longitude is not None:
        event.add("geo", (float(a.latitude), float(a.longitude)))
    return event


def calendar_document(request: HttpRequest, name: str, items: Iterable[FeedEvent]) -> bytes:
    """The feed: one VEVENT per item, named `name` in the phone's calendar list."""
    host = request.get_host().split(":")[0]
    stamp = _utc(timezone.now()).replace(microsecond=0)
    cal = Calendar()
    cal.add("prodid", "-//wenming//activities//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    # Hints for clients that honour them: check for changes hourly.
    cal.add("refresh-interval", dt.timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    for item in items:
        cal.add_component(_event(request, item, host, stamp))
    return cal.to_ical()


def subscription_urls(request: HttpRequest, path: str) -> tuple[str, str]:
    """(https URL, webcal:// URL) of a feed: the webcal link opens the phone's calendar
    app and subscribes; the plain URL is for pasting."""
    url = request.build_absolute_uri(path)
    return url, "webcal://" + url.split("://", 1)[1]
