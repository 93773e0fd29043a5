"""The volunteers API: scoped lists and profiles with masked numbers only, staff
registration and profile edits through the services."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from wenming.core.api import ErrorOut, Paging
from wenming.core.errors import NotFound
from wenming.volunteers import selectors, services
from wenming.volunteers.models import Skill, Volunteer, VolunteerStatus

router = Router(tags=["volunteers"])


class SkillOut(Schema):
    id: int
    name: str


class VolunteerOut(Schema):
    """Never a plaintext ID or phone number: only the masked forms."""

    id: int
    number: str | None
    name: str
    gender: str
    status: str
    id_type: str
    id_masked: str
    phone_masked: str
    region_code: str
    region_name: str
    unit_id: int
    unit_name: str
    political_status: str
    is_minor: bool
    star_level: int
    confirmed_hours: float
    created_at: dt.datetime

    @staticmethod
    def resolve_region_code(obj: object) -> str:
        return obj.region_id  # type: ignore[attr-defined]

    @staticmethod
    def resolve_region_name(obj: object) -> str:
        return obj.region.name  # type: ignore[attr-defined]

    @staticmethod
    def resolve_unit_name(obj: object) -> str:
        return obj.unit.name  # type: ignore[attr-defined]


class VolunteerDetailOut(VolunteerOut):
    skills: list[SkillOut]
    service_region_codes: list[str]
    availability: list[str]
    review_note: str

    @staticmethod
    def resolve_skills(obj: object) -> list[Skill]:
        return list(obj.skills.all())  # type: ignore[attr-defined]

    @staticmethod
    def resolve_service_region_codes(obj: object) -> list[str]:
        return [r.code for r in obj.service_regions.all()]  # type: ignore[attr-defined]


class VolunteerCreateIn(Schema):
    name: str
    phone: str
    id_type: str = "ric"
    id_number: str
    region_code: str
    consent: bool = False
    skill_ids: list[int] = []
    service_region_codes: list[str] = []
    availability: list[str] = []
    political_status: str = ""
    guardian_name: str = ""
    guardian_phone: str = ""
    guardian_consent: bool = False
    birth_date: dt.date | None = None
    gender: str = ""


class VolunteerPatchIn(Schema):
    name: str | None = None
    phone: str | None = None
    skill_ids: list[int] | None = None
    service_region_codes: list[str] | None = None
    availability: list[str] | None = None
    political_status: str | None = None


@router.get("/skills", response=list[SkillOut])
def list_skills(request: HttpRequest) -> object:
    return list(Skill.objects.all())


@router.get("", response=list[VolunteerOut])
@paginate(Paging)
def list_volunteers(
    request: HttpRequest,
    q: str = "",
    status: str = "",
    skill: int | None = None,
    star: int | None = None,
    region: str = "",
    team: int | None = None,
) -> object:
    """Volunteers in the caller's VOLUNTEER_VIEW scope; `q` matches a name, a volunteer
    number or an exact phone number; `team`: the active members of a team."""
    return selectors.volunteer_list(
        actor=request.user,
        search=q[:50],
        region_prefix=region,
        status=status if status in VolunteerStatus.values else "",
        skill_id=skill,
        star=star,
        team_id=team,
    )


def _volunteer_for(request: HttpRequest, volunteer_id: int) -> Volunteer:
    """A volunteer in the caller's scope, or the caller's own record (a volunteer sees
    and edits their own profile without any staff role)."""
    try:
        return selectors.volunteer_get(actor=request.user, volunteer_id=volunteer_id)
    except NotFound:
        own = selectors.volunteer_of_user(request.user)
        if own is not None and own.pk == volunteer_id:
            return own
        raise


@router.get("/{volunteer_id}", response={200: VolunteerDetailOut, 404: ErrorOut})
def get_volunteer(request: HttpRequest, volunteer_id: int) -> object:
    return _volunteer_for(request, volunteer_id)


@router.post("", response={201: VolunteerDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut})
def create_volunteer(request: HttpRequest, payload: VolunteerCreateIn) -> object:
    """Staff registration (VOLUNTEER_MANAGE over the volunteer's region)."""
    volunteer = services.volunteer_register(
        actor=request.user,
        data=services.RegistrationInput(**payload.dict()),
        self_service=False,
    )
    return Status(201, selectors.volunteer_get(actor=request.user, volunteer_id=volunteer.pk))


@router.patch(
    "/{volunteer_id}",
    response={200: VolunteerDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def update_volunteer(request: HttpRequest, volunteer_id: int, payload: VolunteerPatchIn) -> object:
    volunteer = _volunteer_for(request, volunteer_id)
    services.volunteer_update(
        actor=request.user, volunteer=volunteer, **payload.dict(exclude_none=True)
    )
    return _volunteer_for(request, volunteer_id)
