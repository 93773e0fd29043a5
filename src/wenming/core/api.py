"""The REST API: one NinjaAPI, one router per domain, one error shape.

Errors: {"code": "...", "message": "...", "field": "..."} with the service error's
status (400 rule violation, 403 read-only, 404 not found or out of scope)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing
from typing import Any, TypeVar

import pydantic
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI, Router, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.pagination import PageNumberPagination, paginate
from ninja.security import SessionAuth

from wenming.core.errors import ServiceError
from wenming.core.selectors import audit_list

ERROR_STATUSES = {
    400: "请求有误（规则不允许、无法解析的请求体、不允许的字符或超出范围的数值）",
    401: "未登录",
    403: "没有权限，或 CSRF 校验失败",
    404: "不存在，或不在您的管辖范围内",
    422: "参数不符合接口定义",
    429: "请求过于频繁",
}


class WenmingAPI(NinjaAPI):
    """The one API. Every operation's document lists every error it can answer, in
    the one error shape, so that clients (and schemathesis) see what really comes."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas.setdefault("ErrorOut", ErrorOut.model_json_schema())
        ref = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status, description in ERROR_STATUSES.items():
                    if status == 401 and not operation.get("security"):
                        continue
                    responses.setdefault(status, {"description": description, "content": ref})
        return schema


T = TypeVar("T")


def input_schema(cls: type[Any], name: str) -> type[Schema]:
    """The API body of a service's input dataclass: the same fields, types and defaults,
    so that the API and the service cannot drift apart (one declaration, the service's).
    Use with `input_of`; for mypy, alias the name to the dataclass under TYPE_CHECKING."""
    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            default: Any = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = ...
        fields[f.name] = (hints[f.name], default)
    schema: type[Schema] = pydantic.create_model(name, __base__=Schema, **fields)
    return schema


def input_of(payload: Any, cls: type[T]) -> T:
    """The service's input dataclass from a body parsed with `input_schema(cls, …)`."""
    return cls(**payload.dict())


class ErrorOut(Schema):
    code: str
    message: str
    field: str | None = None


api = WenmingAPI(
    title="wenming API",
    version="1",
    description=(
        "新时代文明实践中心平台 REST API。"
        "用会话（登录后的 Cookie）认证；写操作需带 CSRF 令牌（X-CSRFToken）。"
    ),
    auth=SessionAuth(),
    urls_namespace="api",
)


@api.exception_handler(ServiceError)
def service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    return api.create_response(
        request, {"code": exc.code, "message": exc.message, "field": exc.field}, status=exc.status
    )


def _error(
    request: HttpRequest, status: int, code: str, message: str, field: str | None = None
) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": message, "field": field}, status=status
    )


@api.exception_handler(AuthenticationError)
def auth_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _error(request, 401, "unauthenticated", _("请先登录。"))


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """Errors django-ninja raises itself: a failed CSRF check (403), a body it cannot
    parse (400), throttling (429)."""
    if exc.status_code == 403:
        return _error(request, 403, "csrf_failed", _("CSRF 校验失败：写操作须带 X-CSRFToken。"))
    if exc.status_code == 400:
        return _error(request, 400, "unparsable", _("无法解析请求体：请发送 JSON。"))
    if exc.status_code == 429:
        return _error(request, 429, "rate_limited", _("请求过于频繁，请稍后再试。"))
    return _error(request, exc.status_code, "http_error", str(exc))


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _error(request, 404, "not_found", _("找不到该对象，或它不在您的管辖范围内。"))


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """Input that does not fit the operation's declared types: 422, naming the first
    field at fault (the parameter's name, or the body field's)."""
    first = exc.errors[0] if exc.errors else {}
    names = [
        part
        for part in first.get("loc", ())
        if isinstance(part, str) and part not in ("body", "payload", "query", "path", "form")
    ]
    field = names[-1] if names else None
    message = _("参数 %(field)s 不符合要求：%(reason)s") % {
        "field": field or "?",
        "reason": first.get("msg", ""),
    }
    return _error(request, 422, "invalid_input", message, field)


MAX_PAGE = 100_000


class Paging(PageNumberPagination):
    class Input(Schema):
        # Bounded: page 0 or below would slice with a negative offset, and a huge page
        # overflows the database's OFFSET (both were server errors).
        page: int = Field(1, ge=1, le=MAX_PAGE)

        # The page size is fixed by settings, not chosen by the caller; django-ninja
        # >= 1.4 still reads `pagination.page_size`, so answer "not requested".
        @property
        def page_size(self) -> None:
            return None

    def __init__(self, **kwargs: object) -> None:
        from django.conf import settings

        super().__init__(page_size=settings.WENMING_PAGE_SIZE, **kwargs)  # type: ignore[arg-type]


audit_router = Router(tags=["audit"])


class AuditOut(Schema):
    id: int
    created_at: dt.datetime
    actor_label: str
    verb: str
    target_type: str
    target_id: str
    target_label: str
    region_code: str
    changes: dict[str, object]
    note: str
    ip: str | None


@audit_router.get("/events", response=list[AuditOut])
@paginate(Paging)
def list_audit_events(
    request: HttpRequest, verb: str = "", region: str = "", mine: bool = False
) -> object:
    """Audit events in the caller's AUDIT_VIEW scope, and the caller's own actions."""
    return audit_list(actor=request.user, verb=verb, region_prefix=region, mine=mine)
