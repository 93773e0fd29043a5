from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from wenming.core.access import grants_of
from wenming.core.roles import Role

router = Router(tags=["accounts"])


class GrantBrief(Schema):
    role: str
    role_label: str
    region_code: str


class MeOut(Schema):
    id: int
    name: str
    phone: str
    grants: list[GrantBrief]


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> object:
    """The logged-in user (phone masked) and their active role grants."""
    user = request.user
    return {
        "id": user.pk,
        "name": user.name,  # type: ignore[union-attr]
        "phone": user.phone_masked,  # type: ignore[union-attr]
        "grants": [
            {"role": g.role, "role_label": str(Role(g.role).label), "region_code": g.region_code}
            for g in grants_of(user)
        ],
    }
