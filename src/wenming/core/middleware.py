"""Carries the request's client address to the audit log without threading it through
every service signature."""

from __future__ import annotations

import contextvars
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

current_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_ip", default=None)


def client_ip(request: HttpRequest) -> str | None:
    from django.conf import settings

    if getattr(settings, "AXES_IPWARE_PROXY_COUNT", 0):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        parts = [p.strip() for p in forwarded.split(",") if p.strip()]
        if parts:
            return parts[-settings.AXES_IPWARE_PROXY_COUNT]
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            current_ip.reset(token)


class ServiceErrorMiddleware:
    """A service error that a view did not handle itself becomes the matching page:
    NotFound → 404, Forbidden → 403, RuleViolation → 400 with the message."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from django.shortcuts import render

        from wenming.core.errors import ServiceError

        if not isinstance(exception, ServiceError):
            return None
        template = {404: "404.html", 403: "403.html"}.get(exception.status, "400.html")
        return render(request, template, {"message": exception.message}, status=exception.status)


class LanguageMiddleware:
    """Chinese unless the visitor chose another language (the language cookie set by
    /i18n/setlang/). The browser's Accept-Language is deliberately ignored: county staff
    and elderly residents often have phones set to English without reading it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings
        from django.utils import translation

        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class RejectNulMiddleware:
    """A NUL character in the query string is never meaningful and PostgreSQL refuses it
    in text parameters (a 500 deep in a query); answer 400 at the door instead."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.http import HttpResponseBadRequest

        if "\x00" in request.META.get("QUERY_STRING", "") or any(
            "\x00" in value for values in request.GET.lists() for value in values[1]
        ):
            return HttpResponseBadRequest("NUL characters are not allowed.")
        return self.get_response(request)
