"""Staff pages that change a volunteer's record: correct the profile, suspend or
restore. The rules (who, which fields, which states) are the services'."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from wenming.core.errors import RuleViolation
from wenming.volunteers import permissions, selectors, services
from wenming.volunteers.forms import StaffProfileForm, SuspendForm


@sensitive_post_parameters("phone")
@login_required
@require_http_methods(["GET", "POST"])
def volunteer_edit(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    volunteer = selectors.volunteer_get(actor=request.user, volunteer_id=volunteer_id)
    permissions.require_manage(request.user, volunteer)
    initial = {"name": volunteer.name, **StaffProfileForm.initial_for(volunteer)}
    form = StaffProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.volunteer_update(
                actor=request.user, volunteer=volunteer, **form.update_fields()
            )
        except RuleViolation as exc:
            form.add_rule_violation(exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("volunteers:detail", volunteer_id=volunteer.pk)
    return render(request, "volunteers/volunteer_edit.html", {"v": volunteer, "form": form})


@login_required
@require_POST
def volunteer_set_active(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    volunteer = selectors.volunteer_get(actor=request.user, volunteer_id=volunteer_id)
    permissions.require_manage(request.user, volunteer)
    form = SuspendForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请写明原因。"))
    else:
        try:
            services.volunteer_set_active(
                actor=request.user,
                volunteer=volunteer,
                active=request.POST.get("active") == "1",
                reason=form.cleaned_data["reason"],
            )
        except RuleViolation as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已保存。"))
    return redirect("volunteers:detail", volunteer_id=volunteer.pk)
