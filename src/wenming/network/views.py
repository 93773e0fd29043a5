from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from wenming.accounts.models import User
from wenming.core import regions as rc
from wenming.core.access import has_perm, in_scope, scoped, subtree_q
from wenming.core.errors import Forbidden, RuleViolation
from wenming.core.paging import paginate, querystring_without_page
from wenming.core.roles import Perm
from wenming.network import selectors, services
from wenming.network.forms import GrantForm, RevokeForm, UnitCreateForm, UnitEditForm
from wenming.network.models import Region, UnitKind


def _require_view(request: HttpRequest) -> None:
    if not has_perm(request.user, Perm.NETWORK_VIEW):
        raise Forbidden(_("您没有查看实践网络的权限。"))


@login_required
@require_GET
def tree(request: HttpRequest) -> HttpResponse:
    """The unit tree: the top units of the actor's scope; children load on demand."""
    _require_view(request)
    roots = list(selectors.unit_roots(actor=request.user))
    # With a single root (a county admin's center), open its first level right away.
    opened = (
        list(selectors.unit_children(actor=request.user, unit=roots[0])) if len(roots) == 1 else []
    )
    return render(request, "network/tree.html", {"roots": roots, "opened": opened})


@login_required
@require_GET
def unit_children(request: HttpRequest, unit_id: int) -> HttpResponse:
    """htmx fragment: one level of the tree under a unit."""
    unit = selectors.unit_get(actor=request.user, unit_id=unit_id)
    children = list(selectors.unit_children(actor=request.user, unit=unit))
    return render(request, "network/partials/tree_children.html", {"children": children})


@login_required
@require_GET
def unit_list(request: HttpRequest) -> HttpResponse:
    _require_view(request)
    kind = request.GET.get("kind", "")
    kind = kind if kind in UnitKind.values else ""
    search = request.GET.get("q", "").strip()[:50]
    page = paginate(request, selectors.unit_list(actor=request.user, search=search, kind=kind))
    return render(
        request,
        "network/unit_list.html",
        {
            "page": page,
            "kinds": UnitKind.choices,
            "kind": kind,
            "search": search,
            "qs": querystring_without_page(request),
            "can_create": has_perm(request.user, Perm.NETWORK_MANAGE),
        },
    )


@login_required
@require_GET
def unit_detail(request: HttpRequest, unit_id: int) -> HttpResponse:
    unit = selectors.unit_get(actor=request.user, unit_id=unit_id)
    children = paginate(request, selectors.unit_children(actor=request.user, unit=unit))
    staff = list(selectors.unit_staff(actor=request.user, unit=unit))
    return render(
        request,
        "network/unit_detail.html",
        {
            "unit": unit,
            "ancestors": selectors.unit_ancestors(unit),
            "children": children,
            "qs": querystring_without_page(request),
            "staff": staff,
            "can_manage": services.actor_may_manage(request.user, unit),
            "can_grant": services.actor_may_grant_here(request.user, unit),
        },
    )


@login_required
def unit_edit(request: HttpRequest, unit_id: int) -> HttpResponse:
    unit = selectors.unit_get(actor=request.user, unit_id=unit_id)
    if not services.actor_may_manage(request.user, unit):
        raise Forbidden(_("您只能查看该单位，不能修改。"))
    form = UnitEditForm(request.POST or None, instance=unit)
    if request.method == "POST" and form.is_valid():
        try:
            services.unit_update(
                actor=request.user, unit=unit, **{f: form.cleaned_data[f] for f in form.fields}
            )
        except RuleViolation as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("已保存。"))
            return redirect("network:unit", unit_id=unit.pk)
    return render(request, "network/unit_form.html", {"form": form, "unit": unit})


@login_required
def unit_create(request: HttpRequest) -> HttpResponse:
    if not has_perm(request.user, Perm.NETWORK_MANAGE):
        raise Forbidden(_("您没有新建单位的权限。"))
    parent_code = request.GET.get("region", "")
    regions = scoped(Region.objects.all(), request.user, Perm.NETWORK_MANAGE, "code")
    if rc.is_valid(parent_code) and in_scope(request.user, Perm.NETWORK_MANAGE, parent_code):
        regions = regions.filter(subtree_q("code", rc.prefix_of(parent_code)))
    choices = [(r.code, f"{r.name}（{r.code}）") for r in regions.order_by("code")[:500]]
    form = UnitCreateForm(request.POST or None, region_choices=choices)
    if request.method == "POST" and form.is_valid():
        try:
            unit = services.unit_create(
                actor=request.user,
                kind=form.cleaned_data["kind"],
                name=form.cleaned_data["name"],
                region_code=form.cleaned_data["region"],
                address=form.cleaned_data["address"],
                phone=form.cleaned_data["phone"],
                description=form.cleaned_data["description"],
            )
        except RuleViolation as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("已新建单位“%(name)s”。") % {"name": unit.name})
            return redirect("network:unit", unit_id=unit.pk)
    return render(request, "network/unit_create.html", {"form": form})


@login_required
def grant_create(request: HttpRequest, unit_id: int) -> HttpResponse:
    unit = selectors.unit_get(actor=request.user, unit_id=unit_id)
    roles = services.grantable_roles(request.user, unit.region_id)
    if not services.actor_may_grant_here(request.user, unit) or not roles:
        raise Forbidden(_("您不能在该单位授予角色。"))
    form = GrantForm(request.POST or None, roles=roles)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            # One transaction: a new login is not left behind when the grant is refused.
            with transaction.atomic():
                try:
                    user = User.objects.get_by_phone(data["phone"])
                except User.DoesNotExist:
                    if not data["password"]:
                        raise RuleViolation(
                            _("该手机号码尚未注册，请设置初始密码。"), field="password"
                        ) from None
                    user = services.staff_user_for_grant(
                        actor=request.user,
                        phone=data["phone"],
                        name=data["name"],
                        password=data["password"],
                        region_code=unit.region_id,
                    )
                services.grant_role(
                    actor=request.user,
                    user=user,
                    role=data["role"],
                    region_code=unit.region_id,
                    unit=unit,
                )
        except RuleViolation as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("已授予 %(name)s 角色。") % {"name": user.name})
            return redirect("network:unit", unit_id=unit.pk)
    return render(request, "network/grant_form.html", {"form": form, "unit": unit})


@login_required
def grant_revoke(request: HttpRequest, grant_id: int) -> HttpResponse:
    grant = selectors.grant_get(actor=request.user, grant_id=grant_id)
    # Checked before the form: a read-only viewer gets 403 even for an incomplete POST.
    if not in_scope(request.user, Perm.GRANTS_MANAGE, grant.region_id):
        raise Forbidden(_("您不能撤销该授权。"))
    back = grant.unit_id
    form = RevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.grant_revoke(
                actor=request.user, grant=grant, reason=form.cleaned_data["reason"]
            )
        except RuleViolation as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已撤销授权。"))
            return redirect("network:unit", unit_id=back) if back else redirect("network:tree")
    return render(request, "network/grant_revoke.html", {"form": form, "grant": grant})
