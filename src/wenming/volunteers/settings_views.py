"""Volunteer settings for staff: whether a unit's new registrations need approval, and
the star-level thresholds of a jurisdiction."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from wenming.core.access import has_perm
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.core.forms import StyledFormMixin
from wenming.core.paging import paginate, querystring_without_page
from wenming.core.roles import Perm
from wenming.volunteers import selectors, services


class StarPolicyForm(StyledFormMixin, forms.Form):
    region = forms.CharField(widget=forms.HiddenInput)
    star1 = forms.IntegerField(label=gettext_lazy("一星"), min_value=1, max_value=100000)
    star2 = forms.IntegerField(label=gettext_lazy("二星"), min_value=1, max_value=100000)
    star3 = forms.IntegerField(label=gettext_lazy("三星"), min_value=1, max_value=100000)
    star4 = forms.IntegerField(label=gettext_lazy("四星"), min_value=1, max_value=100000)
    star5 = forms.IntegerField(label=gettext_lazy("五星"), min_value=1, max_value=100000)

    def thresholds(self) -> list[int]:
        return [self.cleaned_data[f"star{i}"] for i in range(1, 6)]


def _require_manager(request: HttpRequest) -> None:
    if not has_perm(request.user, Perm.VOLUNTEER_MANAGE):
        raise Forbidden(_("您没有管理志愿者的权限。"))


@login_required
@require_GET
def volunteer_settings(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    search = request.GET.get("q", "").strip()[:50]
    page = paginate(request, selectors.registration_policy_units(actor=request.user, search=search))
    star_forms = [
        (
            region,
            StarPolicyForm(
                initial={"region": region.code}
                | {f"star{i}": h for i, h in enumerate(thresholds, start=1)},
            ),
        )
        for region, thresholds in selectors.star_policy_regions(actor=request.user)
    ]
    return render(
        request,
        "volunteers/settings.html",
        {
            "page": page,
            "search": search,
            "qs": querystring_without_page(request),
            "star_forms": star_forms,
        },
    )


@login_required
@require_POST
def registration_policy(request: HttpRequest, unit_id: int) -> HttpResponse:
    _require_manager(request)
    unit = selectors.registration_policy_units(actor=request.user).filter(pk=unit_id).first()
    if unit is None:
        raise NotFound(_("找不到该单位，或它不在您的管辖范围内。"))
    required = request.POST.get("approval_required") == "1"
    services.registration_policy_set(actor=request.user, unit=unit, approval_required=required)
    if required:
        messages.success(request, _("%(unit)s 的新注册今后需要审核。") % {"unit": unit.name})
    else:
        messages.success(request, _("%(unit)s 的新注册今后直接通过。") % {"unit": unit.name})
    back = reverse("volunteers:settings")
    qs = request.POST.get("qs", "")
    return redirect(f"{back}?{qs}" if qs else back)


@login_required
@require_POST
def star_policy(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form = StarPolicyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请为一至五星各填写一个正整数小时数。"))
        return redirect("volunteers:settings")
    try:
        services.star_policy_set(
            actor=request.user,
            region_code=form.cleaned_data["region"],
            thresholds=form.thresholds(),
        )
    except RuleViolation as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("星级标准已保存，辖区内志愿者的星级已重新计算。"))
    return redirect("volunteers:settings")
