"""Bulk seeding shared by the HTTP benchmarks. Runs inside `wenming shell` (the server's
own settings and SECRET_KEY), so that the sessions it writes are the server's."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

ORGANISER_PHONE = "13800000001"  # the demo county's center admin


def first_station() -> Any:
    from wenming.network.models import Unit, UnitKind

    unit = Unit.objects.filter(kind=UnitKind.STATION).order_by("id").first()
    assert unit is not None, "the demo county has no station"
    return unit


def volunteers_with_sessions(n: int, unit: Any) -> tuple[list[Any], str, list[str]]:
    """N users with active volunteer records at `unit` and a logged-in session each,
    written in bulk; returns the volunteers, the organiser's session key and the
    volunteers' session keys (in the same order)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.core.cache import caches
    from django.utils import timezone

    from wenming.accounts.models import User
    from wenming.core import crypto
    from wenming.volunteers.models import Volunteer, VolunteerStatus

    users = []
    for i in range(n):
        user = User(name=f"压测志愿者{i}")
        user.set_phone(f"1990000{i:04d}")
        user.set_unusable_password()
        users.append(user)
    User.objects.bulk_create(users, batch_size=500)
    users = list(User.objects.filter(name__startswith="压测志愿者").order_by("id"))
    volunteers = Volunteer.objects.bulk_create(
        [
            Volunteer(
                user=u,
                name=u.name,
                gender="m",
                birth_date=dt.date(1990, 1, 1),
                id_type="ric",
                id_digest=crypto.digest(f"bench-id-{u.pk}"),
                id_cipher="",
                id_masked="",
                phone_digest=crypto.digest(f"bench-phone-{u.pk}"),
                phone_cipher="",
                phone_masked="",
                region_id=unit.region_id,
                unit=unit,
                consent_at=timezone.now(),
                status=VolunteerStatus.ACTIVE,
            )
            for u in users
        ],
        batch_size=500,
    )
    backend = "wenming.accounts.backends.PhonePasswordBackend"
    expires = timezone.now() + dt.timedelta(days=1)

    def session_for(user: User) -> Session:
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: backend,
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        return Session(
            session_key=secrets.token_hex(16),
            session_data=SessionStore().encode(data),
            expire_date=expires,
        )

    organiser = User.objects.get_by_phone(ORGANISER_PHONE)
    sessions = Session.objects.bulk_create(
        [session_for(u) for u in [organiser, *users]], batch_size=500
    )
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db":
        # What logging in writes with this engine: the session in the cache as well.
        from django.contrib.sessions.backends import cached_db

        caches[settings.SESSION_CACHE_ALIAS].set_many(
            {cached_db.KEY_PREFIX + s.session_key: s.get_decoded() for s in sessions},
            timeout=int((expires - timezone.now()).total_seconds()),
        )
    return volunteers, sessions[0].session_key, [s.session_key for s in sessions[1:]]
