"""The activities API: the public list and detail (no login needed), staff create,
edit and transitions, volunteers' sign-up and cancel — all through the same services
and selectors as the pages."""

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from wenming.activities import selectors, services
from wenming.activities.models import (
    Activity,
    ActivityState,
    Project,
    SignUp,
    Subcategory,
    WorkItem,
)
from wenming.core.api import ErrorOut, Paging, input_of, input_schema
from wenming.core.errors import NotFound

router = Router(tags=["activities"])


class ActivityOut(Schema):
    id: int
    title: str
    work_item: str
    subcategory_id: int | None
    project_id: int | None
    unit_id: int
    unit_name: str
    region_code: str
    venue: str
    address: str
    latitude: Decimal | None
    longitude: Decimal | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    signup_opens_at: dt.datetime | None
    signup_closes_at: dt.datetime
    quota: int
    signed_up_count: int
    open_places: int
    state: str

    @staticmethod
    def resolve_unit_name(obj: Activity) -> str:
        return obj.unit.name

    @staticmethod
    def resolve_region_code(obj: Activity) -> str:
        return obj.region_id


class ActivityDetailOut(ActivityOut):
    description: str
    team_id: int | None
    skill_ids: list[int]

    @staticmethod
    def resolve_skill_ids(obj: Activity) -> list[int]:
        return [s.pk for s in obj.skills.all()]


# The body of create and update: the service's ActivityInput, field for field.
if TYPE_CHECKING:
    ActivityIn = services.ActivityInput
else:
    ActivityIn = input_schema(services.ActivityInput, "ActivityIn")


class TransitionIn(Schema):
    action: str
    reason: str = ""


class SignUpOut(Schema):
    id: int
    activity_id: int
    state: str
    position: int | None
    created_at: dt.datetime
    promoted_at: dt.datetime | None
    cancelled_at: dt.datetime | None


class RosterOut(SignUpOut):
    volunteer_name: str
    volunteer_number: str | None
    phone_masked: str

    @staticmethod
    def resolve_volunteer_name(obj: SignUp) -> str:
        return obj.volunteer.name

    @staticmethod
    def resolve_volunteer_number(obj: SignUp) -> str | None:
        return obj.volunteer.number

    @staticmethod
    def resolve_phone_masked(obj: SignUp) -> str:
        return obj.volunteer.phone_masked


def _clean_filters(
    q: str, work_item: str, region: str, date_from: dt.date | None, date_to: dt.date | None,
    open_only: bool,
) -> dict[str, object]:  # fmt: skip
    return {
        "search": q[:50],
        "work_item": work_item if work_item in WorkItem.values else "",
        "region_prefix": region if region.isascii() and region.isdigit() else "",
        "date_from": date_from,
        "date_to": date_to,
        "open_only": open_only,
    }


@router.get("", response=list[ActivityOut], auth=None)
@paginate(Paging)
def list_activities(
    request: HttpRequest,
    q: str = "",
    work_item: str = "",
    region: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    open_only: bool = False,
) -> object:
    """Published, ongoing and finished activities, for anyone. `region` is a code
    prefix (320305005 for a town)."""
    return selectors.public_activity_list(
        **_clean_filters(q, work_item, region, date_from, date_to, open_only)
    )


@router.get("/manage", response=list[ActivityOut])
@paginate(Paging)
def list_managed_activities(
    request: HttpRequest, q: str = "", work_item: str = "", state: str = "", region: str = ""
) -> object:
    """Every activity in the caller's ACTIVITY_VIEW scope, drafts included."""
    filters = _clean_filters(q, work_item, region, None, None, False)
    return selectors.staff_activity_list(
        actor=request.user, state=state if state in ActivityState.values else "", **filters
    )


@router.get("/mine", response=list[SignUpOut])
@paginate(Paging)
def list_my_signups(request: HttpRequest) -> object:
    return selectors.my_signups(actor=request.user)


class SubcategoryOut(Schema):
    id: int
    work_item: str
    name: str
    sort: int
    is_active: bool


class SubcategoryIn(Schema):
    work_item: str
    name: str
    sort: int = 0
    is_active: bool = True


class ProjectOut(Schema):
    id: int
    name: str
    unit_id: int
    region_code: str
    work_item: str
    is_brand: bool
    description: str
    is_active: bool

    @staticmethod
    def resolve_region_code(obj: Project) -> str:
        return obj.region_id


class ProjectIn(Schema):
    name: str
    unit_id: int
    work_item: str = ""
    is_brand: bool = False
    description: str = ""


@router.get("/subcategories", response=list[SubcategoryOut], auth=None)
def list_subcategories(request: HttpRequest) -> object:
    return list(Subcategory.objects.all())


@router.post("/subcategories", response={201: SubcategoryOut, 400: ErrorOut, 403: ErrorOut})
def create_subcategory(request: HttpRequest, payload: SubcategoryIn) -> object:
    """System admins only: subcategories are shared by the whole deployment."""
    return Status(201, services.subcategory_save(actor=request.user, **payload.dict()))


@router.put(
    "/subcategories/{subcategory_id}",
    response={200: SubcategoryOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def update_subcategory(request: HttpRequest, subcategory_id: int, payload: SubcategoryIn) -> object:
    row = Subcategory.objects.filter(pk=subcategory_id).first()
    if row is None:
        raise NotFound(_("找不到该子类。"))
    return services.subcategory_save(actor=request.user, subcategory=row, **payload.dict())


@router.get("/projects", response=list[ProjectOut], auth=None)
@paginate(Paging)
def list_projects(request: HttpRequest, region: str = "") -> object:
    """Active projects (public), optionally under a region code prefix."""
    return selectors.project_list(region_prefix=region)


@router.post("/projects", response={201: ProjectOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut})
def create_project(request: HttpRequest, payload: ProjectIn) -> object:
    return Status(201, services.project_create(actor=request.user, **payload.dict()))


@router.get("/{activity_id}", response={200: ActivityDetailOut, 404: ErrorOut}, auth=None)
def get_activity(request: HttpRequest, activity_id: int) -> object:
    return selectors.activity_get(actor=request.user, activity_id=activity_id)


@router.post("", response={201: ActivityDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut})
def create_activity(request: HttpRequest, payload: ActivityIn) -> object:
    activity = services.activity_create(
        actor=request.user, data=input_of(payload, services.ActivityInput)
    )
    return Status(201, selectors.activity_get(actor=request.user, activity_id=activity.pk))


@router.put(
    "/{activity_id}",
    response={200: ActivityDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def update_activity(request: HttpRequest, activity_id: int, payload: ActivityIn) -> object:
    activity = selectors.activity_get(actor=request.user, activity_id=activity_id)
    services.activity_update(
        actor=request.user, activity=activity, data=input_of(payload, services.ActivityInput)
    )
    return selectors.activity_get(actor=request.user, activity_id=activity_id)


@router.post(
    "/{activity_id}/transitions",
    response={200: ActivityDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def transition_activity(request: HttpRequest, activity_id: int, payload: TransitionIn) -> object:
    """Move the activity along one transition: submit, approve, reject, publish, start,
    finish or cancel (reject and cancel need a reason)."""
    activity = selectors.activity_get(actor=request.user, activity_id=activity_id)
    services.activity_transition(
        actor=request.user, activity=activity, action=payload.action, reason=payload.reason
    )
    return selectors.activity_get(actor=request.user, activity_id=activity_id)


@router.get("/{activity_id}/signups", response={200: list[RosterOut], 403: ErrorOut, 404: ErrorOut})
def list_signups(request: HttpRequest, activity_id: int) -> object:
    """The roster, for staff who may see the activity in every state."""
    activity = selectors.activity_get(actor=request.user, activity_id=activity_id)
    return list(selectors.activity_roster(actor=request.user, activity=activity))


@router.post("/{activity_id}/signups", response={201: SignUpOut, 400: ErrorOut, 404: ErrorOut})
def create_signup(request: HttpRequest, activity_id: int) -> object:
    """Sign the caller (a registered volunteer) up: a place, or the waitlist."""
    activity = selectors.activity_for_signup(actor=request.user, activity_id=activity_id)
    return Status(201, services.signup_create(actor=request.user, activity=activity))


@router.post(
    "/{activity_id}/signups/cancel", response={200: SignUpOut, 400: ErrorOut, 404: ErrorOut}
)
def cancel_signup(request: HttpRequest, activity_id: int, reason: str = "") -> object:
    activity = selectors.activity_get(actor=request.user, activity_id=activity_id)
    mine = selectors.my_live_signup(actor=request.user, activity=activity)
    if mine is None:
        raise NotFound(_("您没有报名该活动。"))
    return services.signup_cancel(actor=request.user, signup=mine, reason=reason)
