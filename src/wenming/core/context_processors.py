from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from wenming.core.access import has_perm, roles_of
from wenming.core.roles import Perm, Role

ELDERLY_COOKIE = "wenming_elderly"


def site(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    roles = roles_of(user) if user is not None else set()
    return {
        "elderly_mode": request.COOKIES.get(ELDERLY_COOKIE) == "1",
        "nav": {
            "network": has_perm(user, Perm.NETWORK_VIEW),
            "volunteers": has_perm(user, Perm.VOLUNTEER_VIEW),
            "audit": has_perm(user, Perm.AUDIT_VIEW) or bool(user and user.is_authenticated),
            "admin_site": has_perm(user, Perm.ADMIN_SITE),
        },
        "my_roles": [Role(r).label for r in sorted(roles)],
        "lockout_minutes": round(settings.AXES_COOLOFF_TIME * 60),
    }
