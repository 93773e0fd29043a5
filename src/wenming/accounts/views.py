from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from wenming.accounts.forms import LoginForm, PasswordChangeForm
from wenming.accounts.services import login_record, password_change
from wenming.core import ratelimit
from wenming.core.errors import RuleViolation
from wenming.core.middleware import client_ip


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return "/"


@sensitive_post_parameters("password")
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ip_key = f"login-fail-ip:{client_ip(request)}"
        if ratelimit.count(ip_key, settings.LOGIN_IP_WINDOW) >= settings.LOGIN_IP_FAILURE_LIMIT:
            # Refused before any password is checked, and not counted: the ceiling ends
            # with its window whatever is tried meanwhile.
            return render(request, "accounts/locked_out.html", {"ip_ceiling": True}, status=429)
        user = authenticate(
            request, phone=form.cleaned_data["phone"], password=form.cleaned_data["password"]
        )
        if user is not None:
            login(request, user, backend="wenming.accounts.backends.PhonePasswordBackend")
            login_record(user=user)
            return HttpResponseRedirect(_safe_next(request))
        if getattr(request, "axes_locked_out", False):
            return render(request, "accounts/locked_out.html", status=429)
        ratelimit.hit(ip_key, settings.LOGIN_IP_FAILURE_LIMIT, settings.LOGIN_IP_WINDOW)
        form.add_error(None, _("手机号码或密码不正确。"))
    return render(request, "accounts/login.html", {"form": form, "next": _safe_next(request)})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("您已退出登录。"))
    return redirect("home")


@login_required
@sensitive_post_parameters("old_password", "new_password", "new_password2")
def password_change_view(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            password_change(
                user=request.user,  # type: ignore[arg-type]
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except RuleViolation as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            update_session_auth_hash(request, request.user)  # type: ignore[arg-type]
            messages.success(request, _("密码已修改。"))
            return redirect("home")
    return render(request, "accounts/password_change.html", {"form": form})
