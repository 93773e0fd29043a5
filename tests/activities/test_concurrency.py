"""100 volunteers sign up at once for 30 places (PostgreSQL, one connection per thread):
exactly 30 get a place, 70 are waitlisted in positions 1..70, none is lost.

The server's max_connections (100 by default) is shared with the test's own connection
and whoever else uses the server, so the threads open their connections through a
gate as wide as the free connections allow (all 100 at once on a roomy server)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from tests.activities.helpers import published
from wenming.accounts.models import User
from wenming.activities import services
from wenming.activities.models import Activity, SignUp, SignUpState
from wenming.core import crypto
from wenming.volunteers.models import Volunteer, VolunteerStatus

VOLUNTEERS = 100
QUOTA = 30


def _volunteers(net) -> list[User]:
    """100 users with active volunteer records, written in bulk (registration is tested
    elsewhere)."""
    users = [User.objects.create_user(f"1372000{n:04d}", f"并发{n}", "x") for n in range(100)]
    Volunteer.objects.bulk_create(
        [
            Volunteer(
                user=u,
                name=u.name,
                gender="m",
                birth_date="1990-01-01",
                id_type="ric",
                id_digest=crypto.digest(f"id-{u.pk}"),
                id_cipher="",
                id_masked="",
                phone_digest=crypto.digest(f"phone-{u.pk}"),
                phone_cipher="",
                phone_masked="",
                region=net.village,
                unit=net.station,
                consent_at="2026-01-01T00:00:00Z",
                status=VolunteerStatus.ACTIVE,
            )
            for u in users
        ]
    )
    return users


def _free_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('max_connections')::int, count(*) FROM pg_stat_activity"
        )
        most, used = cursor.fetchone()
    return max(10, min(VOLUNTEERS, most - used - 15))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_100_concurrent_signups_for_30_places(cast, net):
    activity = published(cast.station_admin, net.station, quota=QUOTA)
    users = _volunteers(net)
    go = threading.Event()
    gate = threading.BoundedSemaphore(_free_connections())
    outcomes: list[tuple[str, float]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def attempt(user_id: int) -> None:
        go.wait(timeout=30)
        with gate:
            try:
                actor = User.objects.get(pk=user_id)
                target = Activity.objects.get(pk=activity.pk)
                began = time.perf_counter()
                signup = services.signup_create(actor=actor, activity=target)
                with lock:
                    outcomes.append((signup.state, time.perf_counter() - began))
            except BaseException as exc:
                with lock:
                    errors.append(exc)
            finally:
                connection.close()

    threads = [threading.Thread(target=attempt, args=(u.pk,)) for u in users]
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join()
    assert errors == []
    states = [s for s, _t in outcomes]
    assert states.count(SignUpState.SIGNED_UP) == QUOTA
    assert states.count(SignUpState.WAITLISTED) == VOLUNTEERS - QUOTA
    activity.refresh_from_db()
    assert activity.signed_up_count == QUOTA
    rows = SignUp.objects.filter(activity=activity)
    assert rows.filter(state=SignUpState.SIGNED_UP).count() == QUOTA
    positions = sorted(rows.filter(state=SignUpState.WAITLISTED).values_list("position", flat=True))
    assert positions == list(range(1, VOLUNTEERS - QUOTA + 1))
    assert rows.values("volunteer").distinct().count() == VOLUNTEERS
    latencies = sorted(t for _s, t in outcomes)
    print(f"signup p50 {latencies[49] * 1000:.0f} ms, p95 {latencies[94] * 1000:.0f} ms")
