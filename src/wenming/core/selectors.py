"""Reads of the audit log, scoped: an actor sees the events in its AUDIT_VIEW subtree,
and always its own actions."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from wenming.core.access import scope_q
from wenming.core.actor import Principal
from wenming.core.models import VERB_LABELS, AuditEvent
from wenming.core.roles import Perm


def audit_list(
    *,
    actor: Principal | None,
    verb: str = "",
    actor_name: str = "",
    target_type: str = "",
    region_prefix: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    mine: bool = False,
) -> QuerySet[AuditEvent]:
    if actor is None or not actor.is_authenticated:
        return AuditEvent.objects.none()
    own = Q(actor_id=actor.pk)
    qs = AuditEvent.objects.filter(
        own if mine else scope_q(actor, Perm.AUDIT_VIEW, "region_code") | own
    )
    if verb:
        qs = qs.filter(verb=verb)
    if actor_name:
        qs = qs.filter(actor_label__icontains=actor_name)
    if target_type:
        qs = qs.filter(target_type=target_type)
    if region_prefix:
        qs = qs.filter(region_code__startswith=region_prefix)
    if date_from:
        qs = qs.filter(created_at__date__gte=date_from)
    if date_to:
        qs = qs.filter(created_at__date__lte=date_to)
    return qs.order_by("-created_at", "-id")


AUDIT_VERBS = VERB_LABELS
