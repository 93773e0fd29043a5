from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from wenming.core.api import ErrorOut, Paging
from wenming.core.roles import Role
from wenming.network import selectors, services

router = Router(tags=["network"])


class RegionOut(Schema):
    code: str
    name: str
    level: int
    parent_id: str | None


class UnitOut(Schema):
    id: int
    kind: str
    name: str
    region_code: str
    region_name: str
    parent_id: int | None
    address: str
    phone: str
    description: str
    latitude: float | None
    longitude: float | None
    is_active: bool

    @staticmethod
    def resolve_region_code(obj: object) -> str:
        return obj.region_id  # type: ignore[attr-defined]

    @staticmethod
    def resolve_region_name(obj: object) -> str:
        return obj.region.name  # type: ignore[attr-defined]


class UnitCreateIn(Schema):
    kind: str
    name: str
    region_code: str
    address: str = ""
    phone: str = ""
    description: str = ""


class UnitPatchIn(Schema):
    name: str | None = None
    address: str | None = None
    phone: str | None = None
    description: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    is_active: bool | None = None


class GrantOut(Schema):
    id: int
    role: str
    role_label: str
    region_code: str
    unit_id: int | None
    user_id: int
    user_name: str
    user_phone: str

    @staticmethod
    def resolve_role_label(obj: object) -> str:
        return str(Role(obj.role).label)  # type: ignore[attr-defined]

    @staticmethod
    def resolve_region_code(obj: object) -> str:
        return obj.region_id  # type: ignore[attr-defined]

    @staticmethod
    def resolve_user_name(obj: object) -> str:
        return obj.user.name  # type: ignore[attr-defined]

    @staticmethod
    def resolve_user_phone(obj: object) -> str:
        return obj.user.phone_masked  # type: ignore[attr-defined]


@router.get("/regions", response=list[RegionOut])
@paginate(Paging)
def list_regions(request: HttpRequest, parent: str = "", q: str = "") -> object:
    """Regions in the caller's scope; `parent` lists one level of the tree."""
    return selectors.region_list(actor=request.user, parent_code=parent or None, search=q)


@router.get("/units", response=list[UnitOut])
@paginate(Paging)
def list_units(request: HttpRequest, q: str = "", kind: str = "", region: str = "") -> object:
    return selectors.unit_list(actor=request.user, search=q, kind=kind, region_prefix=region)


@router.get("/units/{unit_id}", response={200: UnitOut, 404: ErrorOut})
def get_unit(request: HttpRequest, unit_id: int) -> object:
    return selectors.unit_get(actor=request.user, unit_id=unit_id)


@router.post("/units", response={201: UnitOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut})
def create_unit(request: HttpRequest, payload: UnitCreateIn) -> object:
    unit = services.unit_create(actor=request.user, **payload.dict())
    return Status(201, selectors.unit_get(actor=request.user, unit_id=unit.pk))


@router.patch(
    "/units/{unit_id}", response={200: UnitOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
)
def update_unit(request: HttpRequest, unit_id: int, payload: UnitPatchIn) -> object:
    unit = selectors.unit_get(actor=request.user, unit_id=unit_id)
    services.unit_update(actor=request.user, unit=unit, **payload.dict(exclude_none=True))
    return selectors.unit_get(actor=request.user, unit_id=unit_id)


@router.get("/units/{unit_id}/staff", response={200: list[GrantOut], 404: ErrorOut})
def list_unit_staff(request: HttpRequest, unit_id: int) -> object:
    unit = selectors.unit_get(actor=request.user, unit_id=unit_id)
    return list(selectors.unit_staff(actor=request.user, unit=unit))
