from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from wenming.core import tenancy
from wenming.core.access import grants_of, has_perm, prefixes_for
from wenming.core.context_processors import ELDERLY_COOKIE, is_volunteer
from wenming.core.home import actions_for, counters_for
from wenming.core.paging import paginate, querystring_without_page
from wenming.core.regions import CODE_LENGTH
from wenming.core.roles import Perm, Role
from wenming.core.selectors import AUDIT_VERBS, audit_list

# Roles that are a person's own, not a post: they see no staff tools on the home page.
PERSONAL_ROLES = {Role.VOLUNTEER, Role.RESIDENT}


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "core/landing.html")
    grants = grants_of(request.user)
    staff = any(g.role not in PERSONAL_ROLES for g in grants)
    context = {
        "actions": actions_for(request.user, is_volunteer=is_volunteer(request, request.user)),
        "counters": counters_for(request.user),
        "grants": [(Role(g.role).label, g.region_code) for g in grants],
        "scope_regions": tenancy.current().region_names(
            p.ljust(CODE_LENGTH, "0") for p in prefixes_for(request.user, Perm.NETWORK_VIEW)
        ),
        # Staff keep their recent actions; a resident's or volunteer's home page leads
        # to what they do instead (the audit filter is staff's tool).
        "recent": list(audit_list(actor=request.user, mine=True).select_related(None)[:5])
        if staff
        else None,
    }
    return render(request, "core/home.html", context)


class AuditFilters(NamedTuple):
    verb: str
    actor_name: str
    region_prefix: str
    date_from: dt.date | None
    date_to: dt.date | None
    mine: bool


def _parse_date(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@login_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    verb = request.GET.get("verb", "")
    filters = AuditFilters(
        verb=verb if verb in AUDIT_VERBS else "",
        actor_name=request.GET.get("actor", "").strip()[:50],
        region_prefix="".join(ch for ch in request.GET.get("region", "") if ch.isdigit())[:12],
        date_from=_parse_date(request.GET.get("from")),
        date_to=_parse_date(request.GET.get("to")),
        mine=request.GET.get("mine") == "1" or not has_perm(request.user, Perm.AUDIT_VIEW),
    )
    page = paginate(request, audit_list(actor=request.user, **filters._asdict()))
    return render(
        request,
        "core/audit_list.html",
        {
            "page": page,
            "verbs": AUDIT_VERBS,
            "filters": filters,
            "q": request.GET,
            "qs": querystring_without_page(request),
            "can_view_all": has_perm(request.user, Perm.AUDIT_VIEW),
        },
    )


@require_POST
def elderly_toggle(request: HttpRequest) -> HttpResponse:
    """Switch the elderly-friendly mode (适老化) on or off for this browser."""
    on = request.POST.get("on") == "1"
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = "/"
    response = HttpResponseRedirect(target)
    response.set_cookie(
        ELDERLY_COOKIE,
        "1" if on else "0",
        max_age=365 * 24 * 3600,
        samesite="Lax",
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
