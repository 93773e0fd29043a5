"""What a denied action must leave untouched: every row of the network tables, the
users and the audit log, compared field by field."""

from __future__ import annotations

from typing import Any

from wenming.accounts.models import User
from wenming.core.models import AuditEvent
from wenming.network.models import Region, RoleGrant, Unit


def db_state() -> dict[str, list[dict[str, Any]]]:
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Region, Unit, RoleGrant, User, AuditEvent)
    }
