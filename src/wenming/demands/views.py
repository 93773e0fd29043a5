"""Resident demand pages (filled in by the next commit)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse


def _todo(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


menu = order_form = board = track = track_action = tasks = manage_list = _todo
manage_create = figures = menu_manage = menu_edit = manage_detail = contact_reveal = _todo
manage_action = photo_file = _todo
