"""Carries the request's client address to the audit log without threading it through
every service signature."""

from __future__ import annotations

import contextvars
import json
import re
from collections.abc import Callable
from typing import Any

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


# C0 control characters other than tab, LF and CR: never meaningful in text a person
# typed, refused by PostgreSQL (NUL) or by the xlsx format (the rest).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Every id and count the platform stores fits a signed 64-bit integer (BigAutoField on
# both databases); a larger one overflows SQLite's INTEGER before any lookup can say
# "not found". Dates outside these years are typos or probes, and year 1 overflows
# when Beijing time is turned into UTC.
MAX_INTEGER = 2**63 - 1
MIN_YEAR, MAX_YEAR = 1900, 2999
_INTEGER = re.compile(r"[+-]?[0-9]+")
_ISO_DATE = re.compile(
    r"([0-9]{4,})-[0-9]{1,2}-[0-9]{1,2}(?:[T ][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?"
    r"(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?"
)

CONTROL, OUT_OF_RANGE, TOO_DEEP = "control_characters", "out_of_range", "too_deep"


def _text_problem(text: str, *, typed: bool = False) -> str | None:
    """What is wrong with one string of input, if anything. `typed` strings came as
    JSON strings, so a run of digits there is text (a phone number), not a number."""
    if CONTROL_CHARACTERS.search(text):
        return CONTROL
    if len(text) < 40:
        if not typed and _INTEGER.fullmatch(text) and abs(int(text)) > MAX_INTEGER:
            return OUT_OF_RANGE
        date = _ISO_DATE.fullmatch(text)
        if date and not MIN_YEAR <= int(date.group(1)) <= MAX_YEAR:
            return OUT_OF_RANGE
    return None


def _json_problem(value: Any) -> str | None:
    if isinstance(value, str):
        return _text_problem(value, typed=True)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return OUT_OF_RANGE if abs(value) > MAX_INTEGER else None
    if isinstance(value, dict):
        for k, v in value.items():
            problem = _text_problem(k, typed=True) or _json_problem(v)
            if problem:
                return problem
    if isinstance(value, list):
        for v in value:
            problem = _json_problem(v)
            if problem:
                return problem
    return None


def _first(texts: Any) -> str | None:
    for text in texts:
        problem = _text_problem(text)
        if problem:
            return problem
    return None


def request_input_problem(request: HttpRequest) -> str | None:
    """What, if anything, makes this request's input unusable: control characters, or
    numbers and dates out of range, in the path, the query, the form fields (not the
    content of uploaded files) or a JSON body."""
    problem = _first(request.path_info.split("/")) or _first(
        v for k, values in request.GET.lists() for v in [k, *values]
    )
    if problem or request.method in ("GET", "HEAD", "OPTIONS"):
        return problem
    content_type = request.content_type or ""
    if content_type == "application/json":
        body = request.body
        if CONTROL_CHARACTERS.search(body.decode("utf-8", "replace")):
            return CONTROL
        try:
            return _json_problem(json.loads(body)) if body else None
        except ValueError:  # not JSON at all: the API answers that itself
            return None
        except RecursionError:  # nested past Python's stack: no field is that deep
            return TOO_DEEP
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            form = request.POST
        except Exception:  # a malformed body is the view's (and Django's) to answer
            return None
        names = [f.name or "" for _, files in request.FILES.lists() for f in files]
        return _first(v for k, values in form.lists() for v in [k, *values]) or _first(names)
    return None


class InputGuardMiddleware:
    """Input no field can hold is refused at the door, anywhere in a request, with a
    clear 400 in the shape the caller expects (the API's error shape, Open311's, or the
    400 page), and nothing runs. Before, a NUL failed deep in a PostgreSQL query, a
    control character stored in a name broke every export of its scope, and an id past
    64 bits or a date in year 1 was a server error."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = request_input_problem(request)
        if problem:
            return self.refuse(request, problem)
        return self.get_response(request)

    @staticmethod
    def refuse(request: HttpRequest, problem: str) -> HttpResponse:
        from django.http import JsonResponse
        from django.shortcuts import render
        from django.utils.translation import gettext as _

        if problem == CONTROL:
            message = _("提交的内容含有不允许的控制字符（如 NUL），请删除后重试。")
        elif problem == TOO_DEEP:
            message = _("提交的内容嵌套层数过多。")
        else:
            message = _("提交的数字或日期超出允许的范围（日期须在 1900—2999 年之间）。")
        path = request.path_info
        if path.startswith("/api/"):
            return JsonResponse({"code": problem, "message": message, "field": None}, status=400)
        if path.startswith("/open311/"):
            return JsonResponse([{"code": 400, "description": message}], status=400, safe=False)
        return render(request, "400.html", {"message": message}, status=400)
