"""Resident demand pages: the public menu, ordering form, private order page and
board; the assignee's tasks; staff lists, order detail with dispatch suggestions,
the menu editor and the figures. Views parse, call a service or selector, render."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wenming.accounts.types import Actor
from wenming.activities.models import WorkItem
from wenming.core.access import has_perm, in_scope
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.core.forms import ServiceErrorsMixin
from wenming.core.middleware import client_ip
from wenming.core.paging import paginate, querystring_without_page
from wenming.core.roles import Perm
from wenming.demands import permissions, ranking, selectors, services
from wenming.demands.models import (
    LIVE_STATES,
    Channel,
    DeliveryMode,
    MenuItem,
    Order,
    OrderState,
    RequestKind,
)
from wenming.records.models import RecordStatus
from wenming.volunteers.leaders import teams_led_by
from wenming.volunteers.models import Skill

# ---------------------------------------------------------------- forms


class OrderForm(ServiceErrorsMixin, forms.Form):
    # Required fields are the service's to check, so that every missing one is reported
    # in the same answer as the service's own rules; the page still marks them.
    MUST_FILL = ("name", "phone", "region_code")
    name = forms.CharField(label=gettext_lazy("您的姓名"), max_length=20, required=False)
    phone = forms.CharField(label=gettext_lazy("手机号码"), max_length=20, required=False)
    region_code = forms.CharField(
        label=gettext_lazy("所在村（社区）"), max_length=12, required=False
    )
    address = forms.CharField(label=gettext_lazy("详细地址"), max_length=200, required=False)
    preferred_time = forms.CharField(
        label=gettext_lazy("希望什么时候服务"), max_length=100, required=False
    )
    details = forms.CharField(
        label=gettext_lazy("需求描述"), max_length=1000, required=False, widget=forms.Textarea
    )
    title = forms.CharField(label=gettext_lazy("一句话说明"), max_length=60, required=False)
    photo = forms.FileField(label=gettext_lazy("照片（可不传）"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        messages_zh = {
            "required": _("这一项必须填写。"),
            "max_length": _("字数太多了。"),
        }
        for f in self.fields.values():
            f.error_messages.update(messages_zh)


def _order_input(form: OrderForm, kind: str, item_code: str) -> services.OrderInput:
    data = form.cleaned_data
    return services.OrderInput(
        name=data["name"],
        phone=data["phone"],
        region_code=data["region_code"],
        menu_item_code=item_code,
        kind=kind,
        address=data["address"],
        preferred_time=data["preferred_time"],
        details=data["details"],
        title=data["title"],
        photo=data.get("photo"),
    )


# ---------------------------------------------------------------- the public


@require_GET
def menu(request: HttpRequest) -> HttpResponse:
    """The service menu of a village, its town and its county (for everyone)."""
    village = request.GET.get("village", "").strip()
    return render(
        request,
        "demands/menu.html",
        {
            "village": village,
            "sections": selectors.menu_for_village(village) if village else [],
            "villages": selectors.villages().select_related("parent"),
        },
    )


@require_http_methods(["GET", "POST"])
def order_form(request: HttpRequest) -> HttpResponse:
    """Ordering without an account: a menu item (?item=CODE) or a free request
    (?kind=wish or help). On success the resident lands on the private page."""
    item_code = request.GET.get("item", "").strip()
    kind = RequestKind.MENU if item_code else request.GET.get("kind", RequestKind.HELP)
    if kind not in (RequestKind.WISH, RequestKind.HELP, RequestKind.MENU):
        kind = RequestKind.HELP
    item = (
        MenuItem.objects.select_related("unit").filter(code=item_code, is_active=True).first()
        if item_code
        else None
    )
    if item_code and item is None:
        raise NotFound(_("该服务项目不存在或已下架。"))
    initial = {"region_code": request.GET.get("village", "")}
    if request.user.is_authenticated:
        initial = selectors.order_form_initial(actor=request.user) | {
            k: v for k, v in initial.items() if v
        }
    form = OrderForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            order = services.order_submit(
                data=_order_input(form, kind, item_code),
                ip=client_ip(request) or "",
                actor=request.user,
            )
        except RuleViolation as exc:
            form.add_rule_violation(exc)
        else:
            messages.success(
                request,
                _("点单成功！订单号 %(n)s。请收藏本页（或截图），凭此页查看进度和评价。")
                % {"n": order.number},
            )
            return redirect(services.private_link(order, order.link_token))
    return render(
        request,
        "demands/order_form.html",
        {
            "form": form,
            "item": item,
            "kind": kind,
            "kind_label": RequestKind(kind).label,
            "villages": selectors.villages().select_related("parent"),
        },
    )


def _track_context(order: Order, token: str) -> dict[str, Any]:
    return {
        "order": order,
        "token": token,
        "events": selectors.public_timeline(order),
        "live": order.state in LIVE_STATES,
        "can_rate": order.state == OrderState.COMPLETED,
        "can_withdraw": order.state in services.TRANSITIONS["withdraw"].sources,
        "stars": range(5, 0, -1),
    }


@require_GET
def track(request: HttpRequest, number: str, token: str) -> HttpResponse:
    """The resident's private page: progress, timeline, rate, remind, withdraw."""
    order = services.order_by_link(number, token)
    response = render(request, "demands/track.html", _track_context(order, token))
    # The URL is the key: never leak it to other sites or caches.
    # (same-origin, not no-referrer: the page's own forms must still send their Origin.)
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    return response


def _resident_action(
    request: HttpRequest, order: Order, action: str, *, token: str = "", actor: Actor | None = None
) -> None:
    """One of the resident's actions on their order, through the private link's token
    or as the logged-in account that placed it; the outcome is flashed."""
    try:
        if action == "rate":
            try:
                stars = int(request.POST.get("stars", ""))
            except ValueError:
                raise RuleViolation(_("请选择 1 到 5 颗星。"), field="stars") from None
            services.order_rate(
                order=order,
                token=token,
                actor=actor,
                stars=stars,
                comment=request.POST.get("comment", ""),
            )
            messages.success(request, _("感谢您的评价！"))
        elif action == "remind":
            services.order_remind(order=order, token=token, actor=actor)
            messages.success(request, _("已催单，工作人员会尽快处理。"))
        elif action == "withdraw":
            services.order_withdraw(
                order=order, token=token, actor=actor, reason=request.POST.get("reason", "")
            )
            messages.success(request, _("订单已撤销。"))
        else:
            raise NotFound(_("未知的操作。"))
    except RuleViolation as exc:
        messages.error(request, exc.message)


@require_POST
def track_action(request: HttpRequest, number: str, token: str, action: str) -> HttpResponse:
    order = services.order_by_link(number, token)
    _resident_action(request, order, action, token=token)
    return redirect(services.private_link(order, token))


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """我的点单: the orders this account placed, with their progress."""
    page = paginate(request, selectors.my_orders(actor=request.user))
    return render(request, "demands/mine.html", {"page": page})


@login_required
@require_GET
def mine_detail(request: HttpRequest, number: str) -> HttpResponse:
    """One of my orders: the private page, reached by logging in instead of the link."""
    order = services.order_of_requester(request.user, number)
    context = _track_context(order, "") | {"mine": True}
    return render(request, "demands/track.html", context)


@login_required
@require_POST
def mine_action(request: HttpRequest, number: str, action: str) -> HttpResponse:
    order = services.order_of_requester(request.user, number)
    _resident_action(request, order, action, actor=request.user)
    return redirect("demands:mine_detail", number=order.number)


@require_GET
def board(request: HttpRequest) -> HttpResponse:
    """Public board (公示) of completed orders, without personal data."""
    town = request.GET.get("town", "")
    page = paginate(request, selectors.public_board(town=town))
    return render(
        request,
        "demands/board.html",
        {
            "page": page,
            "town": town,
            "towns": selectors.towns(),
            "qs": querystring_without_page(request),
        },
    )


# ---------------------------------------------------------------- assignees


@login_required
@require_GET
def tasks(request: HttpRequest) -> HttpResponse:
    """Orders for a team leader or volunteer: dispatched to them, in service, open to
    grab."""
    return render(
        request,
        "demands/tasks.html",
        {**selectors.my_tasks(actor=request.user), "teams": selectors.led_teams(request.user)},
    )


# ---------------------------------------------------------------- staff


def _require_staff(request: HttpRequest) -> None:
    if not has_perm(request.user, Perm.DEMAND_VIEW):
        raise Forbidden(_("您没有查看群众点单的权限。"))


@login_required
@require_GET
def manage_list(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    state = request.GET.get("state", "")
    search = request.GET.get("q", "")
    low = request.GET.get("low") == "1"
    page = paginate(
        request,
        selectors.staff_order_list(actor=request.user, state=state, search=search, low=low),
    )
    return render(
        request,
        "demands/manage_list.html",
        {
            "page": page,
            "state": state,
            "search": search,
            "low": low,
            "states": OrderState.choices,
            "qs": querystring_without_page(request),
            "can_manage": has_perm(request.user, Perm.DEMAND_MANAGE),
        },
    )


class StaffOrderForm(OrderForm):
    channel = forms.ChoiceField(
        label=gettext_lazy("来源"),
        choices=[(c.value, c.label) for c in Channel if c != Channel.WEB],
        initial=Channel.PHONE,
    )
    menu_item_code = forms.CharField(label=gettext_lazy("服务项目"), required=False)


@login_required
@require_http_methods(["GET", "POST"])
def manage_create(request: HttpRequest) -> HttpResponse:
    """Staff order for a resident who phones in."""
    if not has_perm(request.user, Perm.DEMAND_MANAGE):
        raise Forbidden(_("您没有代群众点单的权限。"))
    form = StaffOrderForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["menu_item_code"]
        kind = RequestKind.MENU if code else RequestKind.HELP
        try:
            order = services.order_create(
                actor=request.user,
                data=_order_input(form, kind, code),
                channel=form.cleaned_data["channel"],
            )
        except RuleViolation as exc:
            form.add_rule_violation(exc)
        else:
            link = request.build_absolute_uri(services.private_link(order, order.link_token))
            messages.success(
                request,
                _("已代为点单，订单号 %(n)s。群众的查看链接已短信发送：%(l)s")
                % {"n": order.number, "l": link},
            )
            return redirect("demands:manage_detail", order.pk)
    return render(
        request,
        "demands/manage_form.html",
        {
            "form": form,
            "villages": selectors.villages().select_related("parent"),
            "items": selectors.staff_menu_list(actor=request.user).filter(is_active=True),
        },
    )


def _detail_context(request: HttpRequest, order: Order) -> dict[str, Any]:
    actor = request.user
    manager = permissions.can_manage(actor, order)
    actions = {t.action: t for t in services.allowed_actions(actor, order)}
    candidates = (
        ranking.rank_candidates(order) if manager and order.state == OrderState.ACCEPTED else []
    )
    default_due = timezone.localtime(order.respond_by + dt.timedelta(days=2))
    records = list(order.service_records.select_related("volunteer").order_by("id"))
    return {
        "order": order,
        "events": selectors.staff_timeline(order),
        "photos": selectors.order_photos(order),
        "actions": actions,
        "manager": manager,
        "candidates": candidates,
        "members": selectors.team_members(order) if "complete" in actions else [],
        "grab_teams": (
            permissions.eligible_teams(order).filter(pk__in=teams_led_by(actor))
            if "grab" in actions
            else []
        ),
        "default_due": default_due.strftime("%Y-%m-%dT%H:%M"),
        "records": records,
        "pending_records": manager and any(r.status == RecordStatus.PENDING for r in records),
    }


@login_required
@require_GET
def manage_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    order = selectors.staff_order(actor=request.user, order_id=order_id)
    return render(request, "demands/manage_detail.html", _detail_context(request, order))


@login_required
@require_POST
def contact_reveal(request: HttpRequest, order_id: int) -> HttpResponse:
    order = selectors.staff_order(actor=request.user, order_id=order_id)
    name, phone = services.order_contact_reveal(
        actor=request.user, order=order, reason=request.POST.get("reason", "")
    )
    context = _detail_context(request, order)
    context["contact"] = {"name": name, "phone": phone}
    response = render(request, "demands/manage_detail.html", context)
    response["Cache-Control"] = "private, no-store"
    return response


def _due(value: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise RuleViolation(_("完成期限格式不正确。"), field="due_at") from None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def _participants(request: HttpRequest) -> list[services.Participant]:
    result = []
    for raw in request.POST.getlist("volunteer"):
        try:
            vol_id = int(raw)
            minutes = int(request.POST.get(f"minutes_{vol_id}", "") or 0)
        except ValueError:
            raise RuleViolation(_("服务时长须是整数分钟。"), field="participants") from None
        result.append(services.Participant(vol_id, minutes))
    return result


def _int(raw: str) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() else None


@login_required
@require_POST
def manage_action(request: HttpRequest, order_id: int, action: str) -> HttpResponse:
    order = selectors.staff_order(actor=request.user, order_id=order_id)
    actor, post = request.user, request.POST
    reason = post.get("reason", "")
    back = reverse("demands:manage_detail", args=[order.pk])
    try:
        if action == "confirm_records":  # not a state move: the order's records
            count = services.order_records_confirm(actor=actor, order=order)
            messages.success(request, _("已确认 %(n)s 条服务记录。") % {"n": count})
            return redirect(back)
        kind, _sep, raw_id = post.get("assignee", "").partition(":")
        services.order_act(
            actor=actor,
            order=order,
            action=action,
            data=services.OrderActionInput(
                reason=reason,
                note=post.get("note", ""),
                team_id=_int(raw_id) if kind == "team" else _int(post.get("team", "")),
                volunteer_id=_int(raw_id) if kind == "volunteer" else None,
                due_at=_due(post.get("due_at", "")),
                participants=_participants(request) if action == "complete" else (),
                photos=request.FILES.getlist("photos"),
            ),
        )
    except RuleViolation as exc:
        messages.error(request, exc.message)
        return redirect(back)
    label = services.EVENT_LABELS.get(action, action)
    messages.success(request, _("已%(a)s。") % {"a": label})
    if action in ("take", "grab", "decline") and not permissions.can_manage(actor, order):
        return redirect("demands:tasks")
    return redirect(back)


@login_required
@require_GET
def photo_file(request: HttpRequest, photo_id: int) -> FileResponse:
    photo = selectors.photo_for(actor=request.user, photo_id=photo_id)
    name = photo.thumbnail.name if request.GET.get("size") == "thumb" else photo.image.name
    response = FileResponse(photo.image.storage.open(name or ""), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


# ---------------------------------------------------------------- the menu editor


@login_required
@require_GET
def menu_manage(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    page = paginate(request, selectors.staff_menu_list(actor=request.user))
    return render(
        request,
        "demands/menu_manage.html",
        {"page": page, "qs": "", "can_manage": has_perm(request.user, Perm.DEMAND_MANAGE)},
    )


class MenuItemForm(ServiceErrorsMixin, forms.Form):
    unit_id = forms.TypedChoiceField(label=gettext_lazy("提供单位"), coerce=int)
    title = forms.CharField(label=gettext_lazy("服务名称"), max_length=60)
    work_item = forms.ChoiceField(label=gettext_lazy("五项工作"), choices=WorkItem.choices)
    description = forms.CharField(
        label=gettext_lazy("服务说明"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    delivery_mode = forms.ChoiceField(label=gettext_lazy("服务方式"), choices=DeliveryMode.choices)
    response_hours = forms.IntegerField(
        label=gettext_lazy("响应时限（小时）"), min_value=1, initial=24
    )
    complete_hours = forms.IntegerField(
        label=gettext_lazy("办结时限（小时）"), min_value=1, initial=72
    )
    team_ids = forms.TypedMultipleChoiceField(
        label=gettext_lazy("服务队"), coerce=int, required=False
    )
    skill_ids = forms.TypedMultipleChoiceField(
        label=gettext_lazy("所需技能（派单推荐时参考）"), coerce=int, required=False
    )
    is_active = forms.BooleanField(label=gettext_lazy("上架"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            if isinstance(f.widget, forms.Select | forms.SelectMultiple):
                f.widget.attrs.setdefault("class", "form-select")
            elif not isinstance(f.widget, forms.CheckboxInput):
                f.widget.attrs.setdefault("class", "form-control")


@login_required
@require_http_methods(["GET", "POST"])
def menu_edit(request: HttpRequest, item_id: int | None = None) -> HttpResponse:
    if not has_perm(request.user, Perm.DEMAND_MANAGE):
        raise Forbidden(_("您没有编辑服务菜单的权限。"))
    item = selectors.menu_item_for(actor=request.user, item_id=item_id) if item_id else None
    if item is not None and not in_scope(request.user, Perm.DEMAND_MANAGE, item.region_id):
        raise Forbidden(_("您没有编辑该服务项目的权限。"))
    initial: dict[str, Any] = {}
    if item is not None:
        initial = {
            "unit_id": item.unit_id,
            "title": item.title,
            "work_item": item.work_item,
            "description": item.description,
            "delivery_mode": item.delivery_mode,
            "response_hours": item.response_hours,
            "complete_hours": item.complete_hours,
            "team_ids": list(item.teams.values_list("pk", flat=True)),
            "skill_ids": list(item.skills.values_list("pk", flat=True)),
            "is_active": item.is_active,
        }
    form = MenuItemForm(request.POST or None, initial=initial)
    form.fields["unit_id"].choices = [  # type: ignore[attr-defined]
        (u.pk, u.name) for u in selectors.managed_units(request.user)
    ]
    form.fields["team_ids"].choices = [  # type: ignore[attr-defined]
        (t.pk, t.name) for t in selectors.teams_for_menu(request.user)
    ]
    form.fields["skill_ids"].choices = [  # type: ignore[attr-defined]
        (k.pk, k.name) for k in Skill.objects.all()
    ]
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.menu_item_save(
                actor=request.user, data=services.MenuItemInput(**form.cleaned_data), item=item
            )
        except RuleViolation as exc:
            form.add_rule_violation(exc)
        else:
            messages.success(request, _("已保存服务项目“%(t)s”。") % {"t": saved.title})
            return redirect("demands:menu_manage")
    return render(request, "demands/menu_form.html", {"form": form, "item": item})


@login_required
@require_GET
def figures(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    return render(
        request,
        "demands/figures.html",
        {"rows": selectors.unit_figures(actor=request.user), "states": OrderState.choices},
    )
