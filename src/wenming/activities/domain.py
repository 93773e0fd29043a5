"""What activities offer the platform (core.registry)."""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wenming.activities import selectors
from wenming.activities.demo import (
    DEMO_VERB,
    DEMO_VERB_LABEL,
    seed_activities,
    seed_checkin_today,
)
from wenming.activities.views import my_calendar_context
from wenming.core.demo import Seed
from wenming.core.home import EVERYONE, VOLUNTEER, HomeAction
from wenming.core.registry import (
    ANYONE,
    ME_PAGE,
    TEAM_PAGE,
    Domain,
    Figure,
    MenuEntry,
    Panel,
    register,
)
from wenming.core.roles import Perm


def _signups_panel(request: HttpRequest, volunteer: Any) -> dict[str, Any]:
    return {"my_signups": list(selectors.my_signups(actor=request.user)[:10])}


TEAM_ACTIVITIES_SHOWN = 10


def _team_panel(request: HttpRequest, team: Any) -> dict[str, Any]:
    """The team's published activities, latest first, on the team's page."""
    activities = list(selectors.team_activities(team_id=team.pk)[: TEAM_ACTIVITIES_SHOWN + 1])
    return {
        "team": team,
        "activities": activities[:TEAM_ACTIVITIES_SHOWN],
        "more_activities": len(activities) > TEAM_ACTIVITIES_SHOWN,
    }


def _calendar_panel(request: HttpRequest, volunteer: Any) -> dict[str, Any]:
    return my_calendar_context(request)


DOMAIN = register(
    Domain(
        name="activities",
        label=_("志愿服务活动"),
        menu=(
            MenuEntry("activities", _("志愿活动"), "activities:list", ANYONE, order=10,
                      element_id="nav-activities"),
        ),
        actions=(
            HomeAction("activities", _("志愿活动"), "activities:list", EVERYONE,
                       _("看看最近有什么活动，报名参加。"), 20),
            HomeAction("checkin", _("签到"), "volunteers:me#my-activities", VOLUNTEER,
                       _("到了活动现场，用手机扫签到屏上的二维码。"), 30),
            HomeAction("manage_activities", _("活动管理"), "activities:manage",
                       Perm.ACTIVITY_MANAGE, _("发布活动、签到屏、确认服务时长。"), 52),
        ),
        counters=tuple(selectors.home_counters()),
        figures=(
            Figure("activities.held", pgettext_lazy("figure", "开展活动"),
                   pgettext_lazy("figure unit", "场"), Perm.ACTIVITY_VIEW,
                   selectors.held_by_child, 20),
        ),
        seeds=(
            Seed("activities", 30, seed_activities),
            # Every demo load (so every `wenming demo` start), after the records' opening
            # balances: an activity of 马庄 open for check-in now.
            Seed("checkin_today", 80, seed_checkin_today),
        ),
        verbs={**selectors.AUDIT_VERBS, DEMO_VERB: DEMO_VERB_LABEL},
        panels=(
            Panel(ME_PAGE, "activities", "activities/me/signups.html", _signups_panel, 50),
            Panel(ME_PAGE, "calendar", "activities/me/calendar.html", _calendar_panel, 60),
            Panel(TEAM_PAGE, "activities", "activities/team/activities.html", _team_panel, 50),
        ),
    )
)  # fmt: skip
