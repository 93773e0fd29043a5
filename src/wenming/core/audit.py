"""Recording audit events. Services call `audit_record` inside their transaction, so the
event exists if and only if the write does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import models

from wenming.core.access import actor_label
from wenming.core.middleware import current_ip
from wenming.core.models import AuditEvent


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
    actor: Any,
    verb: str,
    target: models.Model | None,
    region_code: str,
    changes: Mapping[str, Any] | None = None,
    note: str = "",
) -> AuditEvent:
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=user,
        actor_label=actor_label(user),
        verb=verb,
        target_type=target._meta.label_lower if target is not None else "system",
        target_id=str(target.pk) if target is not None else "",
        target_label=str(target)[:300] if target is not None else "",
        region_code=region_code,
        changes=dict(changes or {}),
        note=note[:500],
        ip=current_ip.get(),
    )
