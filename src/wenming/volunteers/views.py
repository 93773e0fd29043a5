from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login, user_logged_in
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wenming.accounts.services import login_record
from wenming.core.access import has_perm, in_scope, prefixes_for
from wenming.core.context_processors import remember_volunteer
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.core.paging import paginate, querystring_without_page
from wenming.core.registry import ME_PAGE, panels_for
from wenming.core.roles import Perm
from wenming.volunteers import permissions, selectors, services
from wenming.volunteers.forms import (
    RegistrationForm,
    RevealForm,
    ReviewForm,
    SuspendForm,
    VolunteerProfileForm,
    village_choices,
    volunteer_filters,
)
from wenming.volunteers.models import Availability, IdType, Skill, Volunteer, VolunteerStatus
from wenming.volunteers.teams import team_choices

SENSITIVE = ("password", "id_number", "phone", "guardian_phone")


def _remember_volunteer_on_login(
    sender: Any, request: HttpRequest | None, user: Any, **kw: Any
) -> None:
    """Note in the session whether the user is a volunteer, so that the navbar's 我的
    link costs no query on every page."""
    if request is not None and hasattr(request, "session"):
        remember_volunteer(request, Volunteer.objects.filter(user_id=user.pk).exists())


# Connected here, with the pages it serves: the URLconf imports this module before
# any request (so before any login) is handled.
user_logged_in.connect(_remember_volunteer_on_login, dispatch_uid="volunteers.nav_me")


@login_required
@require_GET
def volunteer_list(request: HttpRequest) -> HttpResponse:
    if not has_perm(request.user, Perm.VOLUNTEER_VIEW):
        raise Forbidden(_("您没有查看志愿者的权限。"))
    filters = volunteer_filters(request.GET)
    page = paginate(request, selectors.volunteer_list(actor=request.user, **filters._asdict()))
    region, sub_regions = selectors.region_filter_options(
        actor=request.user, prefix=filters.region_prefix
    )
    return render(
        request,
        "volunteers/volunteer_list.html",
        {
            "page": page,
            "filters": filters,
            "region": region,
            "sub_regions": sub_regions,
            "statuses": VolunteerStatus.choices,
            "skills": Skill.objects.all(),
            "stars": range(6),
            "teams": team_choices(actor=request.user, selected=filters.team_id),
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
            "suspend_form": SuspendForm(),
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
    permissions.require_manage(request.user, volunteer)
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
    permissions.require_reveal(request.user, volunteer)
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


# ---------------------------------------------------------------- registration


def _registration_page(
    request: HttpRequest, form: RegistrationForm, *, staff: bool
) -> HttpResponse:
    return render(
        request,
        "volunteers/register.html",
        {"form": form, "staff": staff, "ric": IdType.RIC},
    )


@sensitive_post_parameters(*SENSITIVE)
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    """Self-registration, open to everyone: a logged-in user's account is linked, anyone
    else gets a new login (phone number and the chosen password)."""
    logged_in = request.user.is_authenticated
    if logged_in and selectors.volunteer_of_user(request.user) is not None:
        messages.info(request, _("您已经是志愿者了。"))
        return redirect("volunteers:me")
    initial = {"name": request.user.name} if logged_in else {}  # type: ignore[union-attr]
    form = RegistrationForm(request.POST or None, initial=initial, with_password=not logged_in)
    if logged_in:
        form.fields["phone"].help_text = _("须与登录账号的手机号码一致。")
    if request.method == "POST" and form.is_valid():
        try:
            volunteer = services.volunteer_register(
                actor=request.user, data=form.registration_input(), self_service=True
            )
        except RuleViolation as exc:
            form.add_rule_violation(exc)
        else:
            if not logged_in and volunteer.user is not None:
                login(
                    request,
                    volunteer.user,
                    backend="wenming.accounts.backends.PhonePasswordBackend",
                )
                login_record(user=volunteer.user)
            remember_volunteer(request, True)
            return redirect("volunteers:registered")
    return _registration_page(request, form, staff=False)


@require_POST
def register_code(request: HttpRequest) -> HttpResponse:
    """htmx: text a registration code to the phone typed in the form. The answer is the
    same whether or not the number has an account; limits per number and address."""
    from django.conf import settings

    from wenming.core.crypto import mask_phone
    from wenming.core.middleware import client_ip
    from wenming.notifications import verification

    phone = request.POST.get("phone", "")
    try:
        code = verification.phone_code_send(
            phone=phone, purpose=verification.REGISTER, ip=client_ip(request)
        )
    except RuleViolation as exc:
        status = 429 if exc.code == "rate_limited" else 400
        return render(
            request,
            "volunteers/partials/code_status.html",
            {"error": exc.message},
            # htmx swaps no 4xx answer by default: the message must reach the page.
            status=200 if request.headers.get("HX-Request") else status,
        )
    return render(
        request,
        "volunteers/partials/code_status.html",
        {
            "masked": mask_phone(phone.replace(" ", "").replace("-", "")),
            # The demo sends no real text messages: it shows the sandbox's code instead.
            "sandbox_code": code if settings.DEMO else "",
        },
    )


@login_required
@require_GET
def registered(request: HttpRequest) -> HttpResponse:
    """After self-registration: the number, the status and what comes next."""
    volunteer = selectors.volunteer_of_user(request.user)
    if volunteer is None:
        return redirect("volunteers:register")
    return render(request, "volunteers/registered.html", {"v": volunteer})


@login_required
@sensitive_post_parameters(*SENSITIVE)
@require_http_methods(["GET", "POST"])
def volunteer_create(request: HttpRequest) -> HttpResponse:
    """Staff register a volunteer (at the desk, from a paper form) inside their scope."""
    if not has_perm(request.user, Perm.VOLUNTEER_MANAGE):
        raise Forbidden(_("您没有登记志愿者的权限。"))
    form = RegistrationForm(
        request.POST or None,
        with_password=False,
        town_prefixes=prefixes_for(request.user, Perm.VOLUNTEER_MANAGE),
    )
    if request.method == "POST" and form.is_valid():
        try:
            volunteer = services.volunteer_register(
                actor=request.user, data=form.registration_input(), self_service=False
            )
        except RuleViolation as exc:
            form.add_rule_violation(exc)
        except (Forbidden, NotFound):
            form.add_error("town", _("该地区不在您的管辖范围内，不能在此登记。"))
        else:
            messages.success(
                request,
                _("已登记志愿者 %(name)s，编号 %(number)s。")
                % {"name": volunteer.name, "number": volunteer.number},
            )
            return redirect("volunteers:detail", volunteer_id=volunteer.pk)
    return _registration_page(request, form, staff=True)


@require_GET
def region_villages(request: HttpRequest) -> HttpResponse:
    """htmx fragment: the <option>s of the villages under a town (public: region names)."""
    town = request.GET.get("town", "")
    town = town if town.isascii() and town.isdigit() and len(town) == 12 else ""
    return render(
        request,
        "volunteers/partials/village_options.html",
        {"town": town, "villages": village_choices(town)},
    )


# ---------------------------------------------------------------- 我的


@login_required
@require_http_methods(["GET", "POST"])
def me(request: HttpRequest) -> HttpResponse:
    """The volunteer's own profile; they edit their skills, areas and service times."""
    volunteer = selectors.volunteer_of_user(request.user)
    remember_volunteer(request, volunteer is not None)
    if volunteer is None:
        return render(request, "volunteers/me.html", {"v": None})
    initial = VolunteerProfileForm.initial_for(volunteer)
    form = VolunteerProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.volunteer_update(
                actor=request.user, volunteer=volunteer, **form.update_fields()
            )
        except RuleViolation as exc:
            form.add_rule_violation(exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("volunteers:me")
    slots = dict(Availability.choices)
    availability = [slots[s] for s in volunteer.availability if s in slots]
    return render(
        request,
        "volunteers/me.html",
        {
            "v": volunteer,
            "form": form,
            "availability": availability,
            # Every domain's card on this page (core.registry), in their order.
            "panels": panels_for(ME_PAGE, request, volunteer),
        },
    )
