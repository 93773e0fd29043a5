from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.http import HttpRequest


def paginate(request: HttpRequest, queryset: Any, per_page: int | None = None) -> Page[Any]:
    """One page of `queryset` by ?page=N (out-of-range pages clamp to the last one)."""
    paginator = Paginator(queryset, per_page or settings.WENMING_PAGE_SIZE)
    return paginator.get_page(request.GET.get("page"))


def querystring_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
