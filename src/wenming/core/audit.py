"""Recording audit events. Services call `audit_record` inside their transaction, so the
event exists if and only if the write does."""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import models

from wenming.core.access import actor_label
from wenming.core.actor import Principal
from wenming.core.middleware import current_ip
from wenming.core.models import AuditEvent

# Set while the demo loads: its seeds act through the real services as demo people, but
# the log must not say those people did it (it showed under their "我最近的操作").
demo_seeding: contextvars.ContextVar[bool] = contextvars.ContextVar("demo_seeding", default=False)


def _recorded_actor(actor: Principal | None) -> tuple[Any, str]:
    """Who an event is recorded for, and the label shown."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    if demo_seeding.get():
        return None, f"演示数据（{actor_label(user)}）"
    return user, actor_label(user)


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if hasattr(value, "value") and hasattr(value, "label"):  # Choices members
        return value.value
    return value


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The current values of `fields`, JSON-ready (foreign keys as their ids)."""
    result = {}
    for name in fields:
        field = obj._meta.get_field(name)
        attname = getattr(field, "attname", name)
        result[name] = _plain(getattr(obj, attname))
    return result


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for the fields that changed."""
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def audit_record(
    *,
    actor: Principal | None,
    verb: str,
    target: models.Model | None,
    region_code: str,
    changes: Mapping[str, Any] | None = None,
    note: str = "",
) -> AuditEvent:
    user, label = _recorded_actor(actor)
    return AuditEvent.objects.create(
        actor=user,
        actor_label=label,
        verb=verb,
        target_type=target._meta.label_lower if target is not None else "system",
        target_id=str(target.pk) if target is not None else "",
        target_label=str(target)[:300] if target is not None else "",
        region_code=region_code,
        changes=dict(changes or {}),
        note=note[:500],
        ip=current_ip.get(),
    )


def column_sql(model: type[models.Model], name: str) -> str:
    """The quoted column of a model's field, for hand-written SQL."""
    from django.db import connection

    field: Any = model._meta.get_field(name)
    return str(connection.ops.quote_name(field.column))


def audit_insert_select_sql(*, source: str, target_id: str, target_label: str, changes: str) -> str:
    """PostgreSQL: `INSERT INTO <audit table> ... SELECT ... FROM <source>`, one event per
    row of `source` (a CTE name), for services that write their row and its event in a
    single statement. `target_id`, `target_label` and `changes` are SQL expressions over
    `source` (text, text, jsonb); the fixed values are parameters, see `audit_sql_params`.
    Identifiers come from the model's metadata; every value is a parameter."""
    from django.db import connection

    names = ["created_at", "actor", "actor_label", "verb", "target_type", "region_code",
             "ip", "note", "target_id", "target_label", "changes"]  # fmt: skip
    columns = ", ".join(column_sql(AuditEvent, n) for n in names)
    return (
        f"INSERT INTO {connection.ops.quote_name(AuditEvent._meta.db_table)} ({columns}) "  # noqa: S608
        "SELECT %s::timestamptz, %s::bigint, %s::text, %s::text, %s::text, %s::text, "
        f"%s::inet, '', ({target_id})::text, ({target_label})::text, ({changes})::jsonb "
        f"FROM {source}"
    )


def audit_sql_params(
    *, actor: Principal | None, verb: str, target_type: str, region_code: str
) -> list[Any]:
    """The parameters of `audit_insert_select_sql`, as `audit_record` would fill them."""
    from django.utils import timezone

    user, label = _recorded_actor(actor)
    return [
        timezone.now(),
        user.pk if user else None,
        label,
        verb,
        target_type,
        region_code,
        current_ip.get(),
    ]
