from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from wenming.core.paging import paginate, querystring_without_page
from wenming.notifications import selectors, services


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    page = paginate(
        request, selectors.my_notifications(actor=request.user, unread_only=unread_only)
    )
    return render(
        request,
        "notifications/inbox.html",
        {
            "page": page,
            "qs": querystring_without_page(request),
            "unread_only": unread_only,
            "unread": selectors.unread_count(actor=request.user),
        },
    )


@login_required
@require_POST
def read(request: HttpRequest, notification_id: int) -> HttpResponse:
    notification = services.notification_mark_read(
        actor=request.user, notification_id=notification_id
    )
    target = notification.url
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("notifications:inbox")


@login_required
@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    count = services.notifications_mark_all_read(actor=request.user)
    messages.success(request, _("已将 %(n)d 条消息标为已读。") % {"n": count})
    return redirect("notifications:inbox")


@require_GET
def badge(request: HttpRequest) -> HttpResponse:
    """The unread count in the navbar, loaded by htmx after the page (so that pages
    themselves spend no query on it)."""
    count = selectors.unread_count(actor=request.user)
    return render(request, "notifications/partials/badge.html", {"unread": count})
