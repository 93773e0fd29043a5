from __future__ import annotations

from typing import NamedTuple

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from wenming.core.access import has_perm, in_scope
from wenming.core.errors import Forbidden, RuleViolation
from wenming.core.paging import paginate, querystring_without_page
from wenming.core.roles import Perm
from wenming.volunteers import selectors, services
from wenming.volunteers.forms import RevealForm, ReviewForm
from wenming.volunteers.models import Skill, Volunteer, VolunteerStatus


class VolunteerFilters(NamedTuple):
    search: str
    region_prefix: str
    status: str
    skill_id: int | None
    star: int | None


def _int_or_none(raw: str | None) -> int | None:
    try:
        return int(raw) if raw not in (None, "") else None
    except ValueError:
        return None


@login_required
@require_GET
def volunteer_list(request: HttpRequest) -> HttpResponse:
    if not has_perm(request.user, Perm.VOLUNTEER_VIEW):
        raise Forbidden(_("您没有查看志愿者的权限。"))
    status = request.GET.get("status", "")
    status = status if status in VolunteerStatus.values else ""
    star = _int_or_none(request.GET.get("star"))
    filters = VolunteerFilters(
        search=request.GET.get("q", "").strip()[:50],
        region_prefix="".join(c for c in request.GET.get("region", "") if c.isdigit())[:12],
        status=status,
        skill_id=_int_or_none(request.GET.get("skill")),
        star=star if star is not None and 0 <= star <= 5 else None,
    )
    page = paginate(request, selectors.volunteer_list(actor=request.user, **filters._asdict()))
    return render(
        request,
        "volunteers/volunteer_list.html",
        {
            "page": page,
            "filters": filters,
            "statuses": VolunteerStatus.choices,
            "skills": Skill.objects.all(),
            "stars": range(6),
            "qs": querystring_without_page(request),
            "can_manage": has_perm(request.user, Perm.VOLUNTEER_MANAGE),
        },
    )


def _detail(
    request: HttpRequest, volunteer: Volunteer, revealed: dict[str, str] | None = None
) -> HttpResponse:
    response = render(
        request,
        "volunteers/volunteer_detail.html",
        {
            "v": volunteer,
            "review_form": ReviewForm(),
            "reveal_form": RevealForm(),
            "can_manage": in_scope(request.user, Perm.VOLUNTEER_MANAGE, volunteer.region_id),
            "can_reveal": in_scope(request.user, Perm.PERSONAL_REVEAL, volunteer.region_id),
            "revealed": revealed,
        },
    )
    if revealed:
        response.headers["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def volunteer_detail(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    return _detail(request, selectors.volunteer_get(actor=request.user, volunteer_id=volunteer_id))


@login_required
@require_POST
def volunteer_review(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    volunteer = selectors.volunteer_get(actor=request.user, volunteer_id=volunteer_id)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.volunteer_review(
                actor=request.user,
                volunteer=volunteer,
                approve=form.cleaned_data["decision"] == "approve",
                note=form.cleaned_data["note"],
            )
        except RuleViolation as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已审核。"))
    else:
        messages.error(request, _("请选择审核结果。"))
    return redirect("volunteers:detail", volunteer_id=volunteer.pk)


@login_required
@require_POST
def volunteer_reveal(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    """Reveal one number in this response only (never stored: not in the session, not
    in a redirect), and audit it."""
    volunteer = selectors.volunteer_get(actor=request.user, volunteer_id=volunteer_id)
    form = RevealForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请写明查看原因。"))
        return redirect("volunteers:detail", volunteer_id=volunteer.pk)
    value = services.volunteer_reveal(
        actor=request.user,
        volunteer=volunteer,
        what=form.cleaned_data["what"],
        reason=form.cleaned_data["reason"],
    )
    label = str(dict(RevealForm.WHAT)[form.cleaned_data["what"]])
    return _detail(request, volunteer, {"what": label, "value": value})
