from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from wenming.core import registry
from wenming.core.access import roles_of
from wenming.core.home import VOLUNTEER, menu_for
from wenming.core.roles import Role

ELDERLY_COOKIE = "wenming_elderly"
# Whether the logged-in user has a volunteer record (the navbar's 我的 link), kept in
# the session: set at login and on registration, so pages need no query for it.
VOLUNTEER_SESSION_KEY = "wenming_is_volunteer"


def remember_volunteer(request: HttpRequest, is_volunteer: bool) -> None:
    if request.session.get(VOLUNTEER_SESSION_KEY) != is_volunteer:
        request.session[VOLUNTEER_SESSION_KEY] = is_volunteer


def is_volunteer(request: HttpRequest, user: Any) -> bool:
    if user is None or not user.is_authenticated or not hasattr(request, "session"):
        return False
    known = request.session.get(VOLUNTEER_SESSION_KEY)
    if known is None:  # a session from before the flag existed: look once
        known = registry.audience_test(VOLUNTEER)(user)
        request.session[VOLUNTEER_SESSION_KEY] = known
    return bool(known)


def site(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    roles = roles_of(user) if user is not None else set()
    menu = menu_for(user, is_volunteer=is_volunteer(request, user))
    return {
        "elderly_mode": request.COOKIES.get(ELDERLY_COOKIE) == "1",
        "menu": menu,
        # Which entries the actor sees, by key, for pages that adapt (nav.demands_manage).
        "nav": dict.fromkeys(menu.keys, True),
        "my_roles": [Role(r).label for r in sorted(roles)],
        "lockout_minutes": round(settings.AXES_COOLOFF_TIME * 60),
        "login_ip_window_minutes": round(settings.LOGIN_IP_WINDOW / 60),
        "daily_cap_hours": round(settings.SERVICE_MINUTES_PER_DAY / 60, 1),
    }
