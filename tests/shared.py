"""Assertions every domain's tests share: a refused write changed nothing; a page takes
the same number of queries however many rows it lists."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from django.core.cache import cache
from django.db import connection, models
from django.test.utils import CaptureQueriesContext

from wenming.core.models import AuditEvent


def rows(*tables: type[models.Model] | models.QuerySet[Any]) -> tuple[Any, ...]:
    """Every row of each model (or queryset), in id order, and the number of audit
    events: compare before and after an action that must change nothing."""
    snapshot: list[Any] = []
    for table in tables:
        qs = table if isinstance(table, models.QuerySet) else table._default_manager.all()
        snapshot.append(list(qs.order_by("pk").values()))
    snapshot.append(AuditEvent.objects.count())
    return tuple(snapshot)


@contextlib.contextmanager
def db_unchanged(*tables: type[models.Model] | models.QuerySet[Any]) -> Iterator[None]:
    """`with db_unchanged(Order, OrderEvent): service(...)`: the block may raise (it is
    a refusal); whatever it does, the tables and the audit log are as they were."""
    before = rows(*tables)
    try:
        yield
    finally:
        assert rows(*tables) == before, "a refused action changed the database"


def queries_for(client: Any, url: str, *, status: int = 200, fresh: bool = False) -> int:
    """How many queries a GET of `url` takes; `fresh` clears the cache first, so that a
    page that caches what it renders shows its queries."""
    if fresh:
        cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == status, response.status_code
    return len(ctx.captured_queries)
