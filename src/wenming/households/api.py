"""The household register API at /api/households: households and members (masked),
reveal, contact persons, assignments, events with their timeline, contacts (visits),
coverage, figures, 我的包挂户 and the settings — through the same services and
selectors as the pages, scoped the same way."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from wenming.core.api import ErrorOut, Paging
from wenming.households import selectors, services
from wenming.households.models import (
    Assignment,
    ContactPerson,
    EventEntry,
    EventKind,
    EventState,
    Household,
    HouseholdEvent,
    HouseholdMember,
    Visit,
)
from wenming.households.policy import policy_for

router = Router(tags=["households"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class HouseholdMemberOut(Schema):
    """Masked forms only; a plaintext value needs the audited reveal."""

    id: int
    relation: str
    name_masked: str
    birth_year: int | None
    phone_masked: str


class AssignmentOut(Schema):
    id: int
    household_id: int
    contact_id: int
    contact_name: str
    kind: str
    started_at: dt.datetime
    ended_at: dt.datetime | None

    @staticmethod
    def resolve_contact_name(obj: Assignment) -> str:
        return obj.contact.name


class HouseholdOut(Schema):
    id: int
    region_code: str
    region_name: str
    address: str
    head_masked: str
    tags: list[str]
    is_active: bool
    last_contact_at: dt.datetime | None
    contacts: list[AssignmentOut]

    @staticmethod
    def resolve_region_code(obj: Household) -> str:
        return obj.region_id

    @staticmethod
    def resolve_region_name(obj: Household) -> str:
        return obj.region.name

    @staticmethod
    def resolve_tags(obj: Household) -> list[str]:
        return [t.code for t in obj.tags.all()]

    @staticmethod
    def resolve_contacts(obj: Household) -> list[Assignment]:
        return list(getattr(obj, "open_assignments", []))


class HouseholdDetailOut(HouseholdOut):
    note: str
    members: list[HouseholdMemberOut]

    @staticmethod
    def resolve_members(obj: Household) -> list[HouseholdMember]:
        return list(obj.members.all())


class MemberIn(Schema):
    name: str
    relation: str
    birth_year: int | None = None
    phone: str = ""


class HouseholdIn(Schema):
    region_code: str
    address: str
    tags: list[str] = []
    note: str = ""
    members: list[MemberIn] = []


class HouseholdUpdateIn(Schema):
    address: str
    tags: list[str] = []
    note: str = ""
    is_active: bool = True


class RevealIn(Schema):
    what: str
    reason: str


class RevealOut(Schema):
    value: str


class ContactOut(Schema):
    id: int
    user_id: int
    volunteer_id: int | None
    name: str
    region_code: str
    is_party_member: bool
    is_cadre: bool
    is_active: bool
    open_households: int

    @staticmethod
    def resolve_region_code(obj: ContactPerson) -> str:
        return obj.region_id


class ContactIn(Schema):
    phone: str
    region_code: str
    is_party_member: bool = False


class AssignIn(Schema):
    contact_id: int
    kind: str = "group"


class ReasonIn(Schema):
    reason: str


class EventEntryOut(Schema):
    at: dt.datetime
    actor_label: str
    from_state: str
    to_state: str
    text: str


class EventOut(Schema):
    id: int
    household_id: int
    region_code: str
    kind: str
    summary: str
    channel: str
    state: str
    reported_at: dt.datetime
    due_at: dt.datetime
    first_contact_at: dt.datetime | None
    answered_in_time: bool | None
    closed_at: dt.datetime | None
    outcome: str
    order_id: int | None

    @staticmethod
    def resolve_region_code(obj: HouseholdEvent) -> str:
        return obj.region_id

    @staticmethod
    def resolve_answered_in_time(obj: HouseholdEvent) -> bool | None:
        if obj.first_contact_at is None:
            return None
        return obj.first_contact_at <= obj.due_at


class EventDetailOut(EventOut):
    timeline: list[EventEntryOut]

    @staticmethod
    def resolve_timeline(obj: HouseholdEvent) -> list[EventEntry]:
        return list(obj.entries.all())


class EventIn(Schema):
    kind: str
    summary: str


class VisitOut(Schema):
    id: int
    household_id: int
    contact_id: int | None
    by_id: int
    channel: str
    happened_at: dt.datetime
    notes: str
    event_id: int | None


class VisitIn(Schema):
    channel: str
    notes: str = ""
    happened_at: dt.datetime | None = None
    event_id: int | None = None
    close: bool = False
    outcome: str = ""


class CoverageOut(Schema):
    households: int
    covered: int
    uncovered_count: int
    uncovered_ids: list[int]
    over_limit: list[ContactOut]


class HouseholdFiguresOut(Schema):
    region_code: str
    name: str
    households: int
    covered: int
    events: int
    by_kind: dict[str, int]
    answered: int
    answered_in_time: int
    in_time_percent: int | None
    overdue_events: int
    overdue_care: int
    median_response_minutes: float | None


class FiguresReportOut(Schema):
    total: HouseholdFiguresOut
    children: list[HouseholdFiguresOut]


class MyHouseholdOut(Schema):
    household: HouseholdOut
    kind: str
    open_events: list[EventOut]
    care_due: dt.datetime | None
    care_overdue: bool


class PolicyIn(Schema):
    assignment_limit: int
    response_hours: dict[str, int] = {}
    cadence_days: dict[str, int] = {}


class PolicyOut(Schema):
    region_code: str
    assignment_limit: int
    response_hours: dict[str, int]
    cadence_days: dict[str, int]


def _members(items: list[MemberIn]) -> list[services.MemberInput]:
    return [services.MemberInput(m.name, m.relation, m.birth_year, m.phone) for m in items]


# ---------------------------------------------------------------- households


@router.get("", response=list[HouseholdOut])
@paginate(Paging)
def list_households(
    request: HttpRequest,
    q: str = "",
    region: str = "",
    tag: str = "",
    uncovered: bool = False,
    contact_id: int | None = None,
) -> object:
    """Households in the caller's HOUSEHOLD_VIEW scope (masked)."""
    return selectors.household_list(
        actor=request.user,
        search=q,
        region_prefix=region,
        tag=tag,
        uncovered=uncovered,
        contact_id=contact_id,
    )


@router.post("", response={201: HouseholdDetailOut, **ERRORS})
def create_household(request: HttpRequest, payload: HouseholdIn) -> object:
    household = services.household_create(
        actor=request.user,
        data=services.HouseholdInput(
            region_code=payload.region_code,
            address=payload.address,
            tag_codes=payload.tags,
            note=payload.note,
            members=_members(payload.members),
        ),
    )
    return Status(201, selectors.household_get(actor=request.user, household_id=household.pk))


@router.get("/mine", response=list[MyHouseholdOut])
def my_households(request: HttpRequest) -> object:
    """The caller's own households as a contact person (我的包挂户)."""
    return selectors.my_households(actor=request.user)


@router.get("/coverage", response=CoverageOut)
def coverage(request: HttpRequest, region: str = "") -> object:
    cov = selectors.coverage(actor=request.user, region_prefix=region, show=500)
    return {
        "households": cov.households,
        "covered": cov.covered,
        "uncovered_count": cov.uncovered_count,
        "uncovered_ids": [h.pk for h in cov.uncovered],
        "over_limit": cov.over_limit,
    }


@router.get("/figures", response={200: FiguresReportOut, 404: ErrorOut})
def household_figures(
    request: HttpRequest, region: str, since: dt.datetime | None = None
) -> object:
    """Figures of a village, town or county and of each of its children."""
    total, children = selectors.figures(actor=request.user, region_code=region, since=since)
    return {"total": total, "children": children}


@router.get("/policy/{region_code}", response={200: PolicyOut, 404: ErrorOut})
def get_policy(request: HttpRequest, region_code: str) -> object:
    from wenming.core.access import in_scope
    from wenming.core.errors import NotFound
    from wenming.core.roles import Perm

    if not in_scope(request.user, Perm.HOUSEHOLD_VIEW, region_code):
        raise NotFound(_("找不到该区划。"))
    policy = policy_for(region_code)
    return {
        "region_code": region_code,
        "assignment_limit": policy.assignment_limit,
        "response_hours": policy.response_hours,
        "cadence_days": policy.cadence_days,
    }


@router.put("/policy/{region_code}", response={200: PolicyOut, **ERRORS})
def set_policy(request: HttpRequest, region_code: str, payload: PolicyIn) -> object:
    services.household_policy_set(
        actor=request.user,
        region_code=region_code,
        assignment_limit=payload.assignment_limit,
        response_hours=payload.response_hours,
        cadence_days=payload.cadence_days,
    )
    return get_policy(request, region_code)


@router.post("/{household_id}/members", response={201: HouseholdMemberOut, **ERRORS})
def add_member(request: HttpRequest, household_id: int, payload: MemberIn) -> object:
    household = selectors.household_get(actor=request.user, household_id=household_id)
    member = services.member_add(
        actor=request.user, household=household, data=_members([payload])[0]
    )
    return Status(201, member)


@router.post("/members/{member_id}/reveal", response={200: RevealOut, **ERRORS})
def reveal_member(request: HttpRequest, member_id: int, payload: RevealIn) -> object:
    """One plaintext name or phone (PERSONAL_REVEAL, or the household's contact person);
    audited."""
    member = selectors.member_get(actor=request.user, member_id=member_id)
    value = services.member_reveal(
        actor=request.user, member=member, what=payload.what, reason=payload.reason
    )
    return {"value": value}


@router.post("/{household_id}/assignments", response={201: AssignmentOut, **ERRORS})
def assign(request: HttpRequest, household_id: int, payload: AssignIn) -> object:
    household = selectors.household_get(actor=request.user, household_id=household_id)
    contact = selectors.contact_get(actor=request.user, contact_id=payload.contact_id)
    assignment = services.assignment_create(
        actor=request.user, household=household, contact=contact, kind=payload.kind
    )
    return Status(201, assignment)


@router.post("/assignments/{assignment_id}/end", response={200: AssignmentOut, **ERRORS})
def end_assignment(request: HttpRequest, assignment_id: int, payload: ReasonIn) -> object:
    assignment = selectors.assignment_get(actor=request.user, assignment_id=assignment_id)
    return services.assignment_end(actor=request.user, assignment=assignment, reason=payload.reason)


# ---------------------------------------------------------------- contact persons


@router.get("/contacts", response=list[ContactOut])
@paginate(Paging)
def list_contacts(request: HttpRequest, q: str = "", over_limit: bool = False) -> object:
    return selectors.contact_list(actor=request.user, search=q, over_limit=over_limit)


@router.post("/contacts", response={201: ContactOut, **ERRORS})
def add_contact(request: HttpRequest, payload: ContactIn) -> object:
    """Make a volunteer (with a login) or a cadre a contact person, by login phone."""
    contact = services.contact_person_add_by_phone(
        actor=request.user,
        phone=payload.phone,
        region_code=payload.region_code,
        is_party_member=payload.is_party_member,
    )
    return Status(201, contact)


# ---------------------------------------------------------------- events and visits


@router.get("/events", response=list[EventOut])
@paginate(Paging)
def list_events(
    request: HttpRequest,
    state: str = "",
    kind: str = "",
    region: str = "",
    overdue: bool = False,
    household_id: int | None = None,
) -> object:
    """Events in the caller's scope, and of the caller's own households."""
    return selectors.event_list(
        actor=request.user,
        state=state if state in EventState.values else "",
        kind=kind if kind in EventKind.values else "",
        region_prefix=region,
        overdue=overdue,
        household_id=household_id,
    )


@router.get("/events/{event_id}", response={200: EventDetailOut, 404: ErrorOut})
def get_event(request: HttpRequest, event_id: int) -> object:
    return selectors.event_get(actor=request.user, event_id=event_id)


@router.post("/{household_id}/events", response={201: EventDetailOut, **ERRORS})
def report_event(request: HttpRequest, household_id: int, payload: EventIn) -> object:
    household = selectors.household_get(actor=request.user, household_id=household_id)
    event = services.event_report(
        actor=request.user, household=household, kind=payload.kind, summary=payload.summary
    )
    return Status(201, selectors.event_get(actor=request.user, event_id=event.pk))


@router.post("/events/{event_id}/cancel", response={200: EventDetailOut, **ERRORS})
def cancel_event(request: HttpRequest, event_id: int, payload: ReasonIn) -> object:
    event = selectors.event_get(actor=request.user, event_id=event_id)
    services.event_cancel(actor=request.user, event=event, reason=payload.reason)
    return selectors.event_get(actor=request.user, event_id=event_id)


class ToOrderIn(Schema):
    menu_item_code: str = ""
    details: str = ""
    preferred_time: str = ""


class ToOrderOut(Schema):
    order_id: int
    number: str
    event: EventDetailOut


@router.post("/events/{event_id}/order", response={201: ToOrderOut, **ERRORS})
def event_to_order(request: HttpRequest, event_id: int, payload: ToOrderIn) -> object:
    """Turn an event that needs services into a resident order (点单), linked both ways
    (`order_id` here; the order's `household_event`)."""
    event = selectors.event_get(actor=request.user, event_id=event_id)
    order = services.household_event_to_order(
        actor=request.user,
        event=event,
        menu_item_code=payload.menu_item_code,
        details=payload.details,
        preferred_time=payload.preferred_time,
    )
    return Status(
        201,
        {
            "order_id": order.pk,
            "number": order.number,
            "event": selectors.event_get(actor=request.user, event_id=event_id),
        },
    )


@router.get("/visits", response=list[VisitOut])
@paginate(Paging)
def list_visits(
    request: HttpRequest, household_id: int | None = None, event_id: int | None = None
) -> object:
    return selectors.visit_list(actor=request.user, household_id=household_id, event_id=event_id)


@router.post("/{household_id}/visits", response={201: VisitOut, **ERRORS})
def log_visit(request: HttpRequest, household_id: int, payload: VisitIn) -> object:
    """Log a contact; with `event_id` the first contact answers the event and `close`
    closes it with an outcome."""
    household = selectors.household_get(actor=request.user, household_id=household_id)
    event = None
    if payload.event_id is not None:
        event = selectors.event_get(actor=request.user, event_id=payload.event_id)
    visit: Visit = services.visit_log(
        actor=request.user,
        household=household,
        channel=payload.channel,
        notes=payload.notes,
        happened_at=payload.happened_at,
        event=event,
        close=payload.close,
        outcome=payload.outcome,
    )
    return Status(201, visit)


# Last: "/{household_id}" would otherwise catch "/events", "/contacts" ...


@router.get("/{household_id}", response={200: HouseholdDetailOut, 404: ErrorOut})
def get_household(request: HttpRequest, household_id: int) -> object:
    return selectors.household_get(actor=request.user, household_id=household_id)


@router.put("/{household_id}", response={200: HouseholdDetailOut, **ERRORS})
def update_household(request: HttpRequest, household_id: int, payload: HouseholdUpdateIn) -> object:
    household = selectors.household_get(actor=request.user, household_id=household_id)
    services.household_update(
        actor=request.user,
        household=household,
        address=payload.address,
        tag_codes=payload.tags,
        note=payload.note,
        is_active=payload.is_active,
    )
    return selectors.household_get(actor=request.user, household_id=household_id)
