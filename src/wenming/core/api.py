"""The REST API: one NinjaAPI, one router per domain, one error shape.

Errors: {"code": "...", "message": "...", "field": "..."} with the service error's
status (400 rule violation, 403 read-only, 404 not found or out of scope)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Router, Schema
from ninja.errors import AuthenticationError
from ninja.pagination import PageNumberPagination, paginate
from ninja.security import SessionAuth

from wenming.core.errors import ServiceError
from wenming.core.selectors import audit_list

api = NinjaAPI(
    title="wenming API",
    version="1",
    description=(
        "新时代文明实践中心平台 REST API。"
        "用会话（登录后的 Cookie）认证；写操作需带 CSRF 令牌（X-CSRFToken）。"
    ),
    auth=SessionAuth(),
    urls_namespace="api",
)


class ErrorOut(Schema):
    code: str
    message: str
    field: str | None = None


@api.exception_handler(ServiceError)
def service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    return api.create_response(
        request, {"code": exc.code, "message": exc.message, "field": exc.field}, status=exc.status
    )


@api.exception_handler(AuthenticationError)
def auth_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(
        request, {"code": "unauthenticated", "message": "请先登录。", "field": None}, status=401
    )


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
