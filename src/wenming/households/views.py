"""Pages of the household contact register. Staff: the register, a household with its
members, contacts and events, the event list, coverage, contact persons, figures and
settings. The contact person (on a phone): 我的包挂户, log a contact, close an event.
The household: the public report form behind its contact card's code.

Views parse input, call a service or selector, and render."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wenming.core import regions as rc
from wenming.core.access import has_perm, in_scope
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.core.paging import paginate, querystring_without_page
from wenming.core.roles import Perm
from wenming.households import permissions, selectors, services
from wenming.households.forms import (
    AssignForm,
    ContactAddForm,
    EventForm,
    HouseholdCreateForm,
    HouseholdEditForm,
    MemberForm,
    PolicyForm,
    PublicEventForm,
    ReasonForm,
    RevealForm,
    VisitForm,
    tag_choices,
)
from wenming.households.models import (
    AssignmentKind,
    CareTag,
    EventKind,
    EventState,
    Household,
    HouseholdEvent,
    Relation,
)
from wenming.households.policy import policy_for
from wenming.network.models import Region


def _require_view(request: HttpRequest) -> None:
    if not has_perm(request.user, Perm.HOUSEHOLD_VIEW):
        raise Forbidden(_("您没有查看十必联登记的权限。"))


def _flash(request: HttpRequest, exc: RuleViolation) -> None:
    messages.error(request, exc.message)


# ---------------------------------------------------------------- the register


@login_required
@require_GET
def household_list(request: HttpRequest) -> HttpResponse:
    _require_view(request)
    search = request.GET.get("q", "").strip()[:50]
    tag = request.GET.get("tag", "")
    uncovered = request.GET.get("uncovered") == "1"
    contact = request.GET.get("contact", "")
    contact_id = int(contact) if contact.isdigit() and len(contact) < 10 else None
    page = paginate(
        request,
        selectors.household_list(
            actor=request.user,
            search=search,
            tag=tag,
            uncovered=uncovered,
            contact_id=contact_id,
        ),
    )
    return render(
        request,
        "households/household_list.html",
        {
            "page": page,
            "search": search,
            "tag": tag,
            "uncovered": uncovered,
            "contact_id": contact_id,
            "tags": CareTag.objects.all(),
            "qs": querystring_without_page(request),
            "can_manage": has_perm(request.user, Perm.HOUSEHOLD_MANAGE),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def household_create(request: HttpRequest) -> HttpResponse:
    if not has_perm(request.user, Perm.HOUSEHOLD_MANAGE):
        raise Forbidden(_("您没有登记家庭户的权限。"))
    villages = selectors.manageable_villages(request.user)
    form = HouseholdCreateForm(request.POST or None, villages=villages)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            household = services.household_create(
                actor=request.user,
                data=services.HouseholdInput(
                    region_code=d["region"],
                    address=d["address"],
                    tag_codes=d["tags"],
                    note=d["note"],
                    members=[
                        services.MemberInput(
                            d["head_name"], Relation.HEAD, d["head_birth_year"], d["head_phone"]
                        )
                    ],
                ),
            )
        except RuleViolation as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("已登记。"))
            return redirect("households:detail", household_id=household.pk)
    return render(request, "households/household_form.html", {"form": form, "creating": True})


@login_required
@require_http_methods(["GET", "POST"])
def household_edit(request: HttpRequest, household_id: int) -> HttpResponse:
    household = selectors.household_get(actor=request.user, household_id=household_id)
    if not selectors.can_manage(request.user, household.region_id):
        raise Forbidden(_("您没有修改该户的权限。"))
    villages = [(household.region_id, household.region.name)]
    initial = {
        "region": household.region_id,
        "address": household.address,
        "tags": [t.code for t in household.tags.all()],
        "note": household.note,
        "is_active": household.is_active,
    }
    form = HouseholdEditForm(request.POST or None, initial=initial, villages=villages)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.household_update(
                actor=request.user,
                household=household,
                address=d["address"],
                tag_codes=d["tags"],
                note=d["note"],
                is_active=d["is_active"],
            )
        except RuleViolation as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("已保存。"))
            return redirect("households:detail", household_id=household.pk)
    return render(
        request, "households/household_form.html", {"form": form, "creating": False, "h": household}
    )


def _detail(
    request: HttpRequest, household: Household, revealed: dict[str, str] | None = None
) -> HttpResponse:
    actor = request.user
    can_manage = selectors.can_manage(actor, household.region_id)
    is_contact = permissions.is_contact_of(actor, household)
    contacts: list[tuple[int, str]] = []
    if can_manage:
        contacts = [
            (c.pk, f"{c.name}（{c.region.name}，{c.open_households} 户）")
            for c in selectors.contact_list(actor=actor).filter(is_active=True)[:300]
        ]
    events = list(selectors.event_list(actor=actor, household_id=household.pk)[:20])
    visits = list(selectors.visit_list(actor=actor, household_id=household.pk)[:20])
    response = render(
        request,
        "households/household_detail.html",
        {
            "h": household,
            "members": list(household.members.all()),
            "assignments": household.open_assignments,  # type: ignore[attr-defined]
            "events": events,
            "visits": visits,
            "can_manage": can_manage,
            "is_contact": is_contact,
            "can_reveal": is_contact or in_scope(actor, Perm.PERSONAL_REVEAL, household.region_id),
            "member_form": MemberForm(),
            "reveal_form": RevealForm(),
            "assign_form": AssignForm(contacts=contacts),
            "event_form": EventForm(),
            "reason_form": ReasonForm(),
            "revealed": revealed,
            "now": timezone.now(),
            "report_url": request.build_absolute_uri(
                reverse("households:report", args=[household.report_code])
            ),
        },
    )
    if revealed:
        response.headers["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def household_detail(request: HttpRequest, household_id: int) -> HttpResponse:
    return _detail(request, selectors.household_get(actor=request.user, household_id=household_id))


@login_required
@require_POST
def member_add(request: HttpRequest, household_id: int) -> HttpResponse:
    household = selectors.household_get(actor=request.user, household_id=household_id)
    permissions.require_manage(request.user, household)
    form = MemberForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写成员姓名和与户主关系。"))
    else:
        d = form.cleaned_data
        try:
            services.member_add(
                actor=request.user,
                household=household,
                data=services.MemberInput(d["name"], d["relation"], d["birth_year"], d["phone"]),
            )
        except RuleViolation as exc:
            _flash(request, exc)
        else:
            messages.success(request, _("已添加成员。"))
    return redirect("households:detail", household_id=household.pk)


@login_required
@require_POST
def member_remove(request: HttpRequest, member_id: int) -> HttpResponse:
    member = selectors.member_get(actor=request.user, member_id=member_id)
    try:
        services.member_remove(
            actor=request.user, member=member, reason=request.POST.get("reason", "")
        )
    except RuleViolation as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("已删除成员。"))
    return redirect("households:detail", household_id=member.household_id)


@login_required
@require_POST
def member_reveal(request: HttpRequest, member_id: int) -> HttpResponse:
    """Reveal one value in this response only (never stored), and audit it."""
    member = selectors.member_get(actor=request.user, member_id=member_id)
    form = RevealForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请写明查看原因。"))
        return redirect("households:detail", household_id=member.household_id)
    what = form.cleaned_data["what"]
    try:
        value = services.member_reveal(
            actor=request.user, member=member, what=what, reason=form.cleaned_data["reason"]
        )
    except RuleViolation as exc:
        _flash(request, exc)
        return redirect("households:detail", household_id=member.household_id)
    household = selectors.household_get(actor=request.user, household_id=member.household_id)
    label = f"{member.name_masked} · {dict(RevealForm.WHAT)[what]}"
    return _detail(request, household, {"what": label, "value": value, "phone": what == "phone"})


@login_required
@require_POST
def card_reset(request: HttpRequest, household_id: int) -> HttpResponse:
    household = selectors.household_get(actor=request.user, household_id=household_id)
    services.report_code_reset(actor=request.user, household=household)
    messages.success(request, _("已重置联系卡编码，请重新打印联系卡。"))
    return redirect("households:detail", household_id=household.pk)


@login_required
@require_GET
def household_card(request: HttpRequest, household_id: int) -> HttpResponse:
    """The printable contact card (联系卡): the contact persons and the report link."""
    household = selectors.household_get(actor=request.user, household_id=household_id)
    if not selectors.can_manage(request.user, household.region_id):
        raise Forbidden(_("您没有打印联系卡的权限。"))
    import segno

    url = request.build_absolute_uri(reverse("households:report", args=[household.report_code]))
    return render(
        request,
        "households/card.html",
        {
            "h": household,
            "assignments": household.open_assignments,  # type: ignore[attr-defined]
            "url": url,
            "qr_svg": segno.make(url, error="m").svg_inline(scale=4),
        },
    )


# ---------------------------------------------------------------- assignments


@login_required
@require_POST
def assign(request: HttpRequest, household_id: int) -> HttpResponse:
    household = selectors.household_get(actor=request.user, household_id=household_id)
    try:
        contact = selectors.contact_get(
            actor=request.user, contact_id=int(request.POST.get("contact", "0") or 0)
        )
        services.assignment_create(
            actor=request.user,
            household=household,
            contact=contact,
            kind=request.POST.get("kind", AssignmentKind.GROUP),
        )
    except (RuleViolation, ValueError) as exc:
        messages.error(
            request, exc.message if isinstance(exc, RuleViolation) else _("请选择联系人。")
        )
    else:
        messages.success(request, _("已安排联系人。"))
    return redirect("households:detail", household_id=household.pk)


@login_required
@require_POST
def unassign(request: HttpRequest, assignment_id: int) -> HttpResponse:
    assignment = selectors.assignment_get(actor=request.user, assignment_id=assignment_id)
    try:
        services.assignment_end(
            actor=request.user, assignment=assignment, reason=request.POST.get("reason", "")
        )
    except RuleViolation as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("已解除。"))
    return redirect("households:detail", household_id=assignment.household_id)


# ---------------------------------------------------------------- events


@login_required
@require_http_methods(["GET", "POST"])
def event_report(request: HttpRequest, household_id: int) -> HttpResponse:
    household = selectors.household_get(actor=request.user, household_id=household_id)
    permissions.require_contact_or_manage(request.user, household)
    form = EventForm(request.POST or None, initial={"kind": request.GET.get("kind", "")})
    if request.method == "POST" and form.is_valid():
        try:
            event = services.event_report(
                actor=request.user,
                household=household,
                kind=form.cleaned_data["kind"],
                summary=form.cleaned_data["summary"],
            )
        except RuleViolation as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("已报告，请按时限联系。"))
            return redirect("households:event", event_id=event.pk)
    return render(request, "households/event_report.html", {"h": household, "form": form})


@login_required
@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    _require_view(request)
    state = request.GET.get("state", "")
    kind = request.GET.get("kind", "")
    overdue = request.GET.get("overdue") == "1"
    page = paginate(
        request,
        selectors.event_list(
            actor=request.user,
            state=state if state in EventState.values else "",
            kind=kind if kind in EventKind.values else "",
            overdue=overdue,
        ),
    )
    return render(
        request,
        "households/event_list.html",
        {
            "page": page,
            "state": state,
            "kind": kind,
            "overdue": overdue,
            "states": EventState.choices,
            "kinds": EventKind.choices,
            "now": timezone.now(),
            "qs": querystring_without_page(request),
        },
    )


@login_required
@require_GET
def event_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    event = selectors.event_get(actor=request.user, event_id=event_id)
    can_manage = selectors.can_manage(request.user, event.region_id)
    is_contact = permissions.is_contact_of(request.user, event.household)
    is_open = event.state in (EventState.OPEN, EventState.ANSWERED)
    menu: list[tuple[str, list[tuple[str, str]]]] = []
    if can_manage and is_open and event.order_id is None:
        from wenming.demands.selectors import menu_for_village

        menu = [
            (region.name, [(item.code, item.title) for item in items])
            for region, items in menu_for_village(event.region_id)
            if items
        ]
    return render(
        request,
        "households/event_detail.html",
        {
            "e": event,
            "h": event.household,
            "entries": list(event.entries.all()),
            "visits": list(selectors.visit_list(actor=request.user, event_id=event.pk)[:50]),
            "can_manage": can_manage,
            "can_contact": can_manage or is_contact,
            "is_open": is_open,
            "menu": menu,
            "overdue": event.state == EventState.OPEN and event.due_at <= timezone.now(),
            "reason_form": ReasonForm(),
            "order": event.order,
        },
    )


@login_required
@require_POST
def event_cancel(request: HttpRequest, event_id: int) -> HttpResponse:
    event = selectors.event_get(actor=request.user, event_id=event_id)
    try:
        services.event_cancel(
            actor=request.user, event=event, reason=request.POST.get("reason", "")
        )
    except RuleViolation as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("已撤销。"))
    return redirect("households:event", event_id=event.pk)


@login_required
@require_POST
def event_to_order(request: HttpRequest, event_id: int) -> HttpResponse:
    """Turn an event that needs services into a resident order (点单) in one step."""
    event = selectors.event_get(actor=request.user, event_id=event_id)
    try:
        order = services.household_event_to_order(
            actor=request.user,
            event=event,
            menu_item_code=request.POST.get("menu_item", "").strip()[:40],
            details=request.POST.get("details", "").strip()[:900],
            preferred_time=request.POST.get("preferred_time", "").strip()[:100],
        )
    except RuleViolation as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("已转为群众点单，订单号 %(n)s。") % {"n": order.number})
    return redirect("households:event", event_id=event.pk)


# ---------------------------------------------------------------- contacts (visits)


@login_required
@require_http_methods(["GET", "POST"])
def visit_log(request: HttpRequest, household_id: int) -> HttpResponse:
    """Log a contact with the household, from a phone: how, when, notes, and — for an
    open event — whether this contact closes it."""
    household = selectors.household_get(actor=request.user, household_id=household_id)
    permissions.require_contact_or_manage(request.user, household)
    open_events = list(
        HouseholdEvent.objects.filter(
            household=household, state__in=[EventState.OPEN, EventState.ANSWERED]
        ).order_by("due_at")
    )
    choices = [(e.pk, f"{e.get_kind_display()} · {e.summary[:20]}") for e in open_events]
    event_id = request.GET.get("event", "")
    initial: dict[str, Any] = {}
    if event_id.isdigit() and int(event_id) in {e.pk for e in open_events}:
        initial["event"] = int(event_id)
    form = VisitForm(request.POST or None, events=choices, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        event = next((e for e in open_events if e.pk == d["event"]), None)
        try:
            services.visit_log(
                actor=request.user,
                household=household,
                channel=d["channel"],
                notes=d["notes"],
                happened_at=d["happened_at"],
                event=event,
                close=d["close"],
                outcome=d["outcome"],
            )
        except RuleViolation as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            if d["close"]:
                messages.success(request, _("已记录，事项已办结。"))
            else:
                messages.success(request, _("已记录联系情况。"))
            if event is not None:
                return redirect("households:event", event_id=event.pk)
            if permissions.is_contact_of(request.user, household):
                return redirect("households:mine")
            return redirect("households:detail", household_id=household.pk)
    return render(
        request,
        "households/visit_form.html",
        {"h": household, "form": form, "open_events": open_events},
    )


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """我的包挂户: the contact person's households, what needs doing first."""
    contact = selectors.contact_of_user(request.user)
    rows = selectors.my_households(actor=request.user) if contact is not None else []
    return render(
        request,
        "households/mine.html",
        {"contact": contact, "rows": rows, "now": timezone.now()},
    )


# ---------------------------------------------------------------- staff overviews


@login_required
@require_GET
def coverage(request: HttpRequest) -> HttpResponse:
    _require_view(request)
    cov = selectors.coverage(actor=request.user)
    return render(request, "households/coverage.html", {"cov": cov})


@login_required
@require_http_methods(["GET", "POST"])
def contact_list(request: HttpRequest) -> HttpResponse:
    _require_view(request)
    villages = selectors.manageable_villages(request.user)
    form = ContactAddForm(request.POST or None, villages=villages)
    if request.method == "POST":
        if not villages:
            raise Forbidden(_("您没有管理联系人的权限。"))
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.contact_person_add_by_phone(
                    actor=request.user,
                    phone=d["phone"],
                    region_code=d["region"],
                    is_party_member=d["is_party_member"],
                )
            except RuleViolation as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("已添加联系人。"))
                return redirect("households:contacts")
    search = request.GET.get("q", "").strip()[:50]
    over = request.GET.get("over") == "1"
    page = paginate(
        request, selectors.contact_list(actor=request.user, search=search, over_limit=over)
    )
    return render(
        request,
        "households/contact_list.html",
        {
            "page": page,
            "form": form,
            "search": search,
            "over": over,
            "can_manage": bool(villages),
            "qs": querystring_without_page(request),
        },
    )


@login_required
@require_GET
def figures(request: HttpRequest) -> HttpResponse:
    _require_view(request)
    roots = selectors.view_roots(request.user)
    code = request.GET.get("region", "")
    if not (code.isascii() and code.isdigit() and len(code) == 12):
        code = roots[0] if len(roots) == 1 else (roots[0] if roots else "")
    days = request.GET.get("days", "")
    since = None
    if days in ("30", "90", "365"):
        since = timezone.now() - dt.timedelta(days=int(days))
    try:
        total, rows = selectors.figures(actor=request.user, region_code=code, since=since)
    except NotFound:
        if not roots:
            raise
        total, rows = selectors.figures(actor=request.user, region_code=roots[0], since=since)
    parent = rc.parent_of(total.region_code)
    up = parent if parent and in_scope(request.user, Perm.HOUSEHOLD_VIEW, parent) else None
    return render(
        request,
        "households/figures.html",
        {
            "total": total,
            "rows": rows,
            "kinds": EventKind.choices,
            "days": days,
            "up": up,
            "drill": rc.level_of(total.region_code) < rc.Level.VILLAGE,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def policy_settings(request: HttpRequest) -> HttpResponse:
    if not has_perm(request.user, Perm.HOUSEHOLD_MANAGE):
        raise Forbidden(_("您没有修改十必联设置的权限。"))
    codes = [c for c in selectors.manage_roots(request.user) if rc.level_of(c) <= rc.Level.COUNTY]
    if request.method == "POST":
        form = PolicyForm(request.POST)
        if form.is_valid():
            try:
                services.household_policy_set(
                    actor=request.user,
                    region_code=form.cleaned_data["region"],
                    assignment_limit=form.cleaned_data["assignment_limit"],
                    response_hours=form.response_hours(),
                    cadence_days=form.cadence_days(),
                )
            except RuleViolation as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("十必联设置已保存。"))
                return redirect("households:settings")
        else:
            messages.error(request, _("请检查填写的数字。"))
    forms = []
    for region in Region.objects.filter(code__in=codes).order_by("code"):
        policy = policy_for(region.code)
        initial: dict[str, Any] = {
            "region": region.code,
            "assignment_limit": policy.assignment_limit,
        }
        initial |= {f"hours_{k}": v for k, v in policy.response_hours.items()}
        initial |= {f"days_{k}": v for k, v in policy.cadence_days.items()}
        forms.append((region, PolicyForm(initial=initial)))
    return render(
        request,
        "households/settings.html",
        {"forms": forms, "tags": tag_choices()},
    )


# ---------------------------------------------------------------- the household's own form


@require_http_methods(["GET", "POST"])
def report(request: HttpRequest, code: str) -> HttpResponse:
    """The household's own report form (no account): reached by the QR code or link on
    its contact card. It shows nothing personal (the village name and the contact
    persons' first names only)."""
    household = (
        Household.objects.filter(report_code=code.upper(), is_active=True)
        .select_related("region")
        .first()
    )
    if household is None:
        raise NotFound(_("联系卡编码不正确，请联系村（社区）工作人员。"))
    form = PublicEventForm(request.POST or None)
    limited = False
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.event_report_by_household(
                code=household.report_code,
                kind=d["kind"],
                summary=d["summary"],
                phone=d["phone"],
            )
        except RuleViolation as exc:
            limited = exc.code == "rate_limited"
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return render(request, "households/report_done.html", {"h": household})
    return render(
        request,
        "households/report.html",
        {"h": household, "form": form},
        status=429 if limited else 200,
    )
