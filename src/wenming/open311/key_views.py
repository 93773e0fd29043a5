"""The page where county admins make and stop Open311 keys."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from wenming.accounts.types import Actor
from wenming.core.access import has_perm, scoped
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.core.forms import StyledFormMixin
from wenming.core.paging import paginate
from wenming.core.roles import Perm
from wenming.network.models import Region
from wenming.open311 import services
from wenming.open311.models import ApiKey


class KeyForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=gettext_lazy("接入方"), max_length=60)
    region_code = forms.ChoiceField(label=gettext_lazy("可提交的区域"))

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region_field: Any = self.fields["region_code"]
        region_field.choices = [(r.code, r.name) for r in _regions(actor)]


def _regions(actor: Actor) -> list[Region]:
    """The regions where the actor may make keys (their grant roots, county or above)."""
    return list(
        scoped(Region.objects.all(), actor, Perm.GRANTS_MANAGE, "code")
        .filter(level__lte=3)
        .order_by("code")[:200]
    )


@login_required
@require_http_methods(["GET", "POST"])
def key_list(request: HttpRequest) -> HttpResponse:
    if not has_perm(request.user, Perm.GRANTS_MANAGE):
        raise Forbidden(_("只有中心管理员可以管理 Open311 密钥。"))
    form = KeyForm(request.POST or None, actor=request.user)
    new_key = ""
    if request.method == "POST" and form.is_valid():
        try:
            _key, new_key = services.api_key_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                region_code=form.cleaned_data["region_code"],
            )
        except RuleViolation as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            form = KeyForm(actor=request.user)
    keys = scoped(
        ApiKey.objects.select_related("region"), request.user, Perm.GRANTS_MANAGE, "region_id"
    )
    return render(
        request,
        "open311/keys.html",
        {"form": form, "page": paginate(request, keys), "new_key": new_key},
    )


@login_required
@require_POST
def key_revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    key = (
        scoped(ApiKey.objects.all(), request.user, Perm.GRANTS_MANAGE, "region_id")
        .filter(pk=key_id)
        .first()
    )
    if key is None:
        raise NotFound(_("找不到该密钥。"))
    try:
        services.api_key_revoke(actor=request.user, key=key, reason=request.POST.get("reason", ""))
    except RuleViolation as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已停用密钥 %(k)s。") % {"k": str(key)})
    return redirect("open311:keys")
