"""Reads of the household contact register, scoped to the actor: staff see the
households of their subtree (HOUSEHOLD_VIEW over the village); a contact person sees
the households assigned to them. Nothing here decrypts: lists show masked forms."""

from __future__ import annotations

import contextlib
import datetime as dt
import statistics
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from wenming.accounts.phones import normalize_phone
from wenming.accounts.types import Actor, user_id_of
from wenming.core import crypto
from wenming.core import regions as rc
from wenming.core.access import in_scope, prefixes_for, scope_q, scoped, subtree_q
from wenming.core.errors import NotFound, RuleViolation
from wenming.core.figures import by_child
from wenming.core.home import HomeCounter
from wenming.core.registry import Period
from wenming.core.roles import Perm, Role
from wenming.households.models import (
    Assignment,
    AssignmentKind,
    ContactPerson,
    EventKind,
    EventState,
    Household,
    HouseholdEvent,
    HouseholdMember,
    Visit,
)
from wenming.households.policy import care_due_at, household_cadence, policy_for
from wenming.network.models import Region
from wenming.network.selectors import staff_on_duty

AUDIT_VERBS = {
    "household.policy": pgettext_lazy("audit verb", "修改十必联设置"),
    "household.create": pgettext_lazy("audit verb", "登记家庭户"),
    "household.update": pgettext_lazy("audit verb", "修改家庭户"),
    "household.member_add": pgettext_lazy("audit verb", "添加家庭成员"),
    "household.member_remove": pgettext_lazy("audit verb", "删除家庭成员"),
    "household.reveal": pgettext_lazy("audit verb", "查看家庭成员信息"),
    "household.card_reset": pgettext_lazy("audit verb", "重置联系卡"),
    "household.contact_add": pgettext_lazy("audit verb", "新增联系人"),
    "household.assign": pgettext_lazy("audit verb", "包挂结对"),
    "household.unassign": pgettext_lazy("audit verb", "解除包挂结对"),
    "household.event_report": pgettext_lazy("audit verb", "报告十必联事项"),
    "household.event_cancel": pgettext_lazy("audit verb", "撤销十必联事项"),
    "household.event_order": pgettext_lazy("audit verb", "事项转为点单"),
    "household.visit": pgettext_lazy("audit verb", "记录联系走访"),
}


MAX_ID = 2**63 - 1


def _id(value: int) -> int:
    """An id from a query string as a filter value: out of the column's range it matches
    nothing (0) instead of overflowing the database driver."""
    return value if 0 < value <= MAX_ID else 0


def _open_assignments() -> Prefetch[Any]:
    return Prefetch(
        "assignments",
        queryset=Assignment.objects.filter(ended_at__isnull=True).select_related("contact"),
        to_attr="open_assignments",
    )


def _covered() -> Exists:
    return Exists(Assignment.objects.filter(household=OuterRef("pk"), ended_at__isnull=True))


def household_list(
    *,
    actor: Actor,
    search: str = "",
    region_prefix: str = "",
    tag: str = "",
    uncovered: bool = False,
    contact_id: int | None = None,
) -> QuerySet[Household]:
    """Search: an address (contains), a contact-card code (exact) or a member's phone
    (exact, through its keyed hash)."""
    qs = scoped(Household.objects.all(), actor, Perm.HOUSEHOLD_VIEW, "region_id")
    search = search.strip()
    if search:
        match = Q(address__icontains=search) | Q(report_code=search.upper())
        with contextlib.suppress(RuleViolation):
            digests = crypto.digests(normalize_phone(search))
            match |= Q(
                pk__in=HouseholdMember.objects.filter(phone_digest__in=digests).values(
                    "household_id"
                )
            )
        qs = qs.filter(match)
    if region_prefix:
        qs = qs.filter(subtree_q("region_id", region_prefix))
    if tag:
        qs = qs.filter(
            pk__in=Household.tags.through.objects.filter(caretag__code=tag).values("household_id")
        )
    if uncovered:
        qs = qs.filter(is_active=True).exclude(_covered())
    if contact_id:
        qs = qs.filter(
            pk__in=Assignment.objects.filter(
                contact_id=_id(contact_id), ended_at__isnull=True
            ).values("household_id")
        )
    return (
        qs.select_related("region")
        .prefetch_related("tags", _open_assignments())
        .order_by("region_id", "address", "id")
    )


def _visible(actor: Actor) -> Q:
    """Households in the actor's view scope, or assigned to the actor."""
    mine = Q(
        pk__in=Assignment.objects.filter(
            contact__user_id=user_id_of(actor), ended_at__isnull=True
        ).values("household_id")
    )
    return scope_q(actor, Perm.HOUSEHOLD_VIEW, "region_id") | mine


def household_get(*, actor: Actor, household_id: int) -> Household:
    if not getattr(actor, "is_authenticated", False):
        raise NotFound(_("找不到该家庭户。"))
    household = (
        Household.objects.filter(_visible(actor), pk=household_id)
        .select_related("region")
        .prefetch_related("tags", "members", _open_assignments())
        .first()
    )
    if household is None:
        raise NotFound(_("找不到该家庭户，或它不在您的管辖范围内。"))
    return household


def member_get(*, actor: Actor, member_id: int) -> HouseholdMember:
    member = HouseholdMember.objects.select_related("household").filter(pk=member_id).first()
    if member is None:
        raise NotFound(_("找不到该成员。"))
    household_get(actor=actor, household_id=member.household_id)
    return member


def contact_of_user(user: Any) -> ContactPerson | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return ContactPerson.objects.filter(user_id=user.pk).select_related("region").first()


@dataclass
class MyHousehold:
    household: Household
    kind: str
    open_events: list[HouseholdEvent]
    care_due: dt.datetime | None
    care_overdue: bool


def my_households(*, actor: Actor, now: dt.datetime | None = None) -> list[MyHousehold]:
    """The contact person's households (我的包挂户): open events first, then overdue care,
    each with its open events. Three queries whatever the count."""
    now = now or timezone.now()
    assignments = list(
        Assignment.objects.filter(contact__user_id=user_id_of(actor), ended_at__isnull=True)
        .select_related("household", "household__region")
        .prefetch_related("household__tags")
        .order_by("household__address", "id")
    )
    ids = [a.household_id for a in assignments]
    events: dict[int, list[HouseholdEvent]] = {}
    for event in HouseholdEvent.objects.filter(
        household_id__in=ids, state__in=[EventState.OPEN, EventState.ANSWERED]
    ).order_by("due_at", "id"):
        events.setdefault(event.household_id, []).append(event)
    rows = []
    policies: dict[str, Any] = {}
    for a in assignments:
        h = a.household
        policy = policies.get(h.region_id)
        if policy is None:
            policy = policies[h.region_id] = policy_for(h.region_id)
        days = household_cadence(h, policy)
        due = care_due_at(h, days) if days else None
        rows.append(MyHousehold(h, a.kind, events.get(h.pk, []), due, bool(due and due <= now)))
    rows.sort(key=lambda r: (not r.open_events, not r.care_overdue, r.household.address))
    return rows


def event_list(
    *,
    actor: Actor,
    state: str = "",
    kind: str = "",
    region_prefix: str = "",
    overdue: bool = False,
    household_id: int | None = None,
    now: dt.datetime | None = None,
) -> QuerySet[HouseholdEvent]:
    qs = HouseholdEvent.objects.filter(_visible_events(actor))
    if state:
        qs = qs.filter(state=state)
    if kind:
        qs = qs.filter(kind=kind)
    if region_prefix:
        qs = qs.filter(subtree_q("region_id", region_prefix))
    if overdue:
        qs = qs.filter(state=EventState.OPEN, due_at__lte=now or timezone.now())
    if household_id:
        qs = qs.filter(household_id=_id(household_id))
    return qs.select_related("household", "region").order_by("-reported_at", "-id")


def _visible_events(actor: Actor) -> Q:
    mine = Q(
        household_id__in=Assignment.objects.filter(
            contact__user_id=user_id_of(actor), ended_at__isnull=True
        ).values("household_id")
    )
    return scope_q(actor, Perm.HOUSEHOLD_VIEW, "region_id") | mine


def event_get(*, actor: Actor, event_id: int) -> HouseholdEvent:
    if not getattr(actor, "is_authenticated", False):
        raise NotFound(_("找不到该事项。"))
    event = (
        HouseholdEvent.objects.filter(_visible_events(actor), pk=event_id)
        .select_related("household", "region", "reported_by", "closed_by", "order")
        .prefetch_related("entries")
        .first()
    )
    if event is None:
        raise NotFound(_("找不到该事项，或它不在您的管辖范围内。"))
    return event


def visit_list(
    *, actor: Actor, household_id: int | None = None, event_id: int | None = None
) -> QuerySet[Visit]:
    qs = Visit.objects.filter(_visible_events(actor))
    if household_id:
        qs = qs.filter(household_id=_id(household_id))
    if event_id:
        qs = qs.filter(event_id=_id(event_id))
    return qs.select_related("contact", "by", "household").order_by("-happened_at", "-id")


def contact_list(
    *, actor: Actor, search: str = "", over_limit: bool = False
) -> QuerySet[ContactPerson]:
    qs = scoped(ContactPerson.objects.all(), actor, Perm.HOUSEHOLD_VIEW, "region_id")
    if search.strip():
        qs = qs.filter(name__icontains=search.strip())
    qs = qs.annotate(
        pairs=Count(
            "assignments",
            filter=Q(assignments__ended_at__isnull=True, assignments__kind=AssignmentKind.PAIR),
        )
    )
    contacts = qs.select_related("region").order_by("region_id", "name", "id")
    if over_limit:
        limits: dict[str, int] = {}
        over = []
        for pk, code, count in contacts.values_list("pk", "region_id", "open_households"):
            county = rc.county_prefix(code)
            if county not in limits:
                limits[county] = policy_for(code).assignment_limit
            if count > limits[county]:
                over.append(pk)
        contacts = contacts.filter(pk__in=over)
    return contacts


def contact_get(*, actor: Actor, contact_id: int) -> ContactPerson:
    contact = (
        scoped(ContactPerson.objects.all(), actor, Perm.HOUSEHOLD_VIEW, "region_id")
        .select_related("region", "user")
        .filter(pk=contact_id)
        .first()
    )
    if contact is None:
        raise NotFound(_("找不到该联系人，或其不在您的管辖范围内。"))
    return contact


def assignment_get(*, actor: Actor, assignment_id: int) -> Assignment:
    assignment = (
        scoped(Assignment.objects.all(), actor, Perm.HOUSEHOLD_VIEW, "region_id")
        .select_related("household", "contact")
        .filter(pk=assignment_id)
        .first()
    )
    if assignment is None:
        raise NotFound(_("找不到该包挂结对。"))
    return assignment


@dataclass
class Coverage:
    households: int
    covered: int
    uncovered: list[Household]
    uncovered_count: int
    over_limit: list[ContactPerson]


def coverage(*, actor: Actor, region_prefix: str = "", show: int = 50) -> Coverage:
    """Which households have no contact person; which contact persons are over their
    limit (after the limit was lowered, say)."""
    base = scoped(Household.objects.filter(is_active=True), actor, Perm.HOUSEHOLD_VIEW, "region_id")
    if region_prefix:
        base = base.filter(subtree_q("region_id", region_prefix))
    counts = base.aggregate(total=Count("id"), covered=Count("id", filter=Q(_covered())))
    uncovered_qs = (
        base.exclude(_covered()).select_related("region").order_by("region_id", "address")
    )
    contacts = list(contact_list(actor=actor))
    if region_prefix:
        contacts = [c for c in contacts if c.region_id.startswith(region_prefix)]
    limits: dict[str, int] = {}
    over = []
    for c in contacts:
        county = rc.county_prefix(c.region_id)
        if county not in limits:
            limits[county] = policy_for(c.region_id).assignment_limit
        if c.open_households > limits[county]:
            over.append(c)
    total = counts["total"] or 0
    covered = counts["covered"] or 0
    return Coverage(total, covered, list(uncovered_qs[:show]), total - covered, over)


# ---------------------------------------------------------------- figures


@dataclass
class Figures:
    region_code: str
    name: str
    households: int = 0
    covered: int = 0
    events: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    answered: int = 0
    answered_in_time: int = 0
    overdue_events: int = 0
    overdue_care: int = 0
    median_response_minutes: float | None = None

    @property
    def coverage_percent(self) -> int | None:
        return round(self.covered * 100 / self.households) if self.households else None

    @property
    def in_time_percent(self) -> int | None:
        due = self.answered + self.overdue_events
        return round(self.answered_in_time * 100 / due) if due else None

    @property
    def kind_counts(self) -> list[tuple[str, int]]:
        return [(str(k.label), self.by_kind.get(k.value, 0)) for k in EventKind]

    @property
    def median_response_hours(self) -> float | None:
        if self.median_response_minutes is None:
            return None
        return round(self.median_response_minutes / 60, 1)


def figures(
    *,
    actor: Actor,
    region_code: str,
    since: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> tuple[Figures, list[Figures]]:
    """The figures of a region (village, town or county) and of each of its children:
    households covered, events by kind, share answered in time, overdue events and
    care contacts, median response time. Events reported since `since` (default: all).
    A fixed number of queries: grouped by the children's code prefix."""
    if not in_scope(actor, Perm.HOUSEHOLD_VIEW, region_code):
        raise NotFound(_("找不到该区划，或它不在您的管辖范围内。"))
    now = now or timezone.now()
    region = Region.objects.filter(code=region_code).first()
    if region is None:
        raise NotFound(_("找不到该区划。"))
    level = rc.Level(region.level)
    prefix = rc.prefix_of(region_code)
    size = rc.CODE_LENGTH if level == rc.Level.VILLAGE else rc.child_prefix_length(prefix)
    children = {r.code[:size]: r for r in Region.objects.filter(parent_id=region_code)}
    if level == rc.Level.VILLAGE:
        children = {}
    total = Figures(region_code, region.name)
    rows: dict[str, Figures] = {k: Figures(r.code, r.name) for k, r in children.items()}

    def bucket(code: str) -> list[Figures]:
        found = [total]
        child = rows.get(code[:size])
        if child is not None:
            found.append(child)
        return found

    households = Household.objects.filter(subtree_q("region_id", prefix), is_active=True)
    for row in (
        households.annotate(g=Substr("region_id", 1, size))
        .values("g")
        .annotate(n=Count("id"), c=Count("id", filter=Q(_covered())))
    ):
        for f in bucket(row["g"] + "0" * (12 - size)):
            f.households += row["n"]
            f.covered += row["c"]
    events = HouseholdEvent.objects.filter(subtree_q("region_id", prefix)).exclude(
        state=EventState.CANCELLED
    )
    if since is not None:
        events = events.filter(reported_at__gte=since)
    responses: dict[str, list[float]] = {}
    for ev in events.values_list(
        "region_id", "kind", "reported_at", "due_at", "first_contact_at", "state"
    ):
        code, kind, reported, due, first, state = ev
        for f in bucket(code):
            f.events += 1
            f.by_kind[kind] = f.by_kind.get(kind, 0) + 1
            if first is not None:
                f.answered += 1
                if first <= due:
                    f.answered_in_time += 1
                responses.setdefault(f.region_code, []).append(
                    (first - reported).total_seconds() / 60
                )
            elif state == EventState.OPEN and due <= now:
                f.overdue_events += 1
    for f in [total, *rows.values()]:
        values = responses.get(f.region_code)
        f.median_response_minutes = round(statistics.median(values), 1) if values else None
    policies: dict[str, Any] = {}
    for h in (
        households.filter(tags__isnull=False)
        .distinct()
        .prefetch_related("tags")
        .only("id", "region_id", "last_contact_at", "created_at")
    ):
        county = rc.county_prefix(h.region_id)
        if county not in policies:
            policies[county] = policy_for(h.region_id)
        days = household_cadence(h, policies[county])
        if days and care_due_at(h, days) <= now:
            for f in bucket(h.region_id):
                f.overdue_care += 1
    return total, list(rows.values())


# ---------------------------------------------------------------- home counters


def _open_events(actor: Actor) -> int:
    return scoped(
        HouseholdEvent.objects.filter(state=EventState.OPEN),
        actor,
        Perm.HOUSEHOLD_VIEW,
        "region_id",
    ).count()


def _uncovered(actor: Actor) -> int:
    return (
        scoped(Household.objects.filter(is_active=True), actor, Perm.HOUSEHOLD_VIEW, "region_id")
        .exclude(_covered())
        .count()
    )


def home_counters() -> list[HomeCounter]:
    return [
        HomeCounter(
            "households.open_events",
            pgettext_lazy("home counter", "十必联待联系事项"),
            Perm.HOUSEHOLD_VIEW,
            _open_events,
            "households:events",
            60,
        ),
        HomeCounter(
            "households.uncovered",
            pgettext_lazy("home counter", "未包挂家庭户"),
            Perm.HOUSEHOLD_VIEW,
            _uncovered,
            "households:coverage",
            61,
        ),
    ]


def can_manage(actor: Actor, region_code: str) -> bool:
    return in_scope(actor, Perm.HOUSEHOLD_MANAGE, region_code)


def manageable_villages(actor: Actor) -> list[tuple[str, str]]:
    """The villages where the actor manages households, named with their town."""
    villages = scoped(
        Region.objects.filter(level=rc.Level.VILLAGE), actor, Perm.HOUSEHOLD_MANAGE, "code"
    ).select_related("parent")
    return [
        (r.code, f"{r.parent.name if r.parent else ''} · {r.name}")
        for r in villages.order_by("code")
    ]


def manage_roots(actor: Actor) -> list[str]:
    return [rc.normalize(p) for p in prefixes_for(actor, Perm.HOUSEHOLD_MANAGE)]


def view_roots(actor: Actor) -> list[str]:
    return [rc.normalize(p) for p in prefixes_for(actor, Perm.HOUSEHOLD_VIEW)]


def events_by_child(prefix: str, period: Period) -> dict[str, float]:
    """Events of the ten (十必联) reported in the period, by the household's village."""
    start, stop = period.bounds()
    rows = HouseholdEvent.objects.filter(reported_at__gte=start, reported_at__lt=stop)
    return by_child(rows, "region_id", prefix, Count("id"))


def station_staff(region_code: str) -> list[Any]:
    """The staff of the household's station (station admins of the village), else of
    its institute (institute admins of the town)."""
    town = rc.parent_of(region_code) or region_code
    for role, code in ((Role.STATION_ADMIN, region_code), (Role.INSTITUTE_ADMIN, town)):
        users = staff_on_duty(code, roles=[role])
        if users:
            return users
    return []
