"""A burst of QR check-ins against `wenming serve` on PostgreSQL.

    python bench/checkin_burst.py [--volunteers 2000] [--concurrency 32] [--sqlite]

Loads the demo county, then seeds (in bulk, inside the server's own settings) N users
with active volunteer records, one ongoing activity with quota N and their sign-ups,
and a logged-in session per volunteer written straight into the session table. The
organiser's session reads the current token from the check-in screen (the URL behind
the QR code); then N distinct volunteers POST /api/records/checkin/<id> with that token
as fast as the server takes them (a closed loop of `concurrency` keep-alive clients).
Figures print last, one a line, with the Attendance count, which must equal N."""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import loadclient, server

PG_URL = "postgres://postgres@127.0.0.1:5432/wenming_bench_checkin"
ORGANISER_PHONE = "13800000001"  # the demo county's center admin


def seed(n: int) -> None:
    """Run inside `wenming shell` (the server's settings and SECRET_KEY): print the
    activity id, the organiser's session key and one session key per volunteer."""
    import datetime as dt

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.core.cache import caches
    from django.utils import timezone

    from wenming.accounts.models import User
    from wenming.activities.models import Activity, ActivityState, SignUp, SignUpState, WorkItem
    from wenming.core import crypto
    from wenming.network.models import Unit, UnitKind
    from wenming.volunteers.models import Volunteer, VolunteerStatus

    unit = Unit.objects.filter(kind=UnitKind.STATION).order_by("id").first()
    assert unit is not None, "the demo county has no station"
    users = []
    for i in range(n):
        user = User(name=f"压测志愿者{i}")
        user.set_phone(f"1990000{i:04d}")
        user.set_unusable_password()
        users.append(user)
    users = User.objects.bulk_create(users, batch_size=500)
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
    now = timezone.now()
    activity = Activity.objects.create(
        title="压测：万人签到",
        work_item=WorkItem.CULTURE,
        unit=unit,
        region_id=unit.region_id,
        venue="文化广场",
        starts_at=now - dt.timedelta(minutes=10),
        ends_at=now + dt.timedelta(hours=3),
        signup_closes_at=now - dt.timedelta(minutes=10),
        quota=n,
        signed_up_count=n,
        state=ActivityState.ONGOING,
    )
    SignUp.objects.bulk_create(
        [SignUp(activity=activity, volunteer=v, state=SignUpState.SIGNED_UP) for v in volunteers],
        batch_size=500,
    )
    backend = "wenming.accounts.backends.PhonePasswordBackend"
    expires = now + dt.timedelta(days=1)

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
    print(
        json.dumps(
            {
                "activity": activity.pk,
                "organiser": sessions[0].session_key,
                "volunteers": [s.session_key for s in sessions[1:]],
            }
        )
    )


def count_attendance(env: dict[str, str], activity_id: int) -> int:
    code = (
        "from wenming.records.models import Attendance;"
        f"print(Attendance.objects.filter(activity_id={activity_id}).count())"
    )
    return int(server.manage(env, "shell", "-c", code).strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--volunteers", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args()

    database_url = None if args.sqlite else PG_URL
    env = server.demo_database(database_url)
    env["PYTHONPATH"] = str(server.ROOT)
    out = server.manage(
        env, "shell", "-c", f"from bench.checkin_burst import seed; seed({args.volunteers})"
    )
    seeded = json.loads(out.strip().splitlines()[-1])
    activity_id = seeded["activity"]
    csrf = secrets.token_hex(16)  # a 32-character CSRF secret, sent as cookie and header

    with server.running(env, threads=args.threads) as base:
        # The organiser's check-in screen: the QR code's URL carries the current token.
        pages: list[str] = []
        screen = loadclient.run(
            base,
            iter(
                [
                    loadclient.Request(
                        "GET",
                        f"/checkin/{activity_id}/screen/qr/",
                        None,
                        {"Cookie": f"sessionid={seeded['organiser']}"},
                    )
                ]
            ),
            concurrency=1,
            on_response=lambda _r, _s, body: pages.append(body.decode()),
        )
        assert screen.statuses == {200: 1}, screen
        scan_url = re.search(r'data-scan-url="([^"]+)"', pages[0])
        assert scan_url, "no scan URL on the check-in screen"
        token = scan_url.group(1).rsplit("t=", 1)[1]
        body = json.dumps({"token": token}).encode()

        def request(session: str) -> loadclient.Request:
            return loadclient.Request(
                "POST",
                f"/api/records/checkin/{activity_id}",
                body,
                {
                    "Cookie": f"sessionid={session}; csrftoken={csrf}",
                    "X-CSRFToken": csrf,
                    "Content-Type": "application/json",
                },
            )

        # The floor on this machine in this run: one `SELECT 1` a request.
        floor = loadclient.run(
            base,
            (loadclient.Request("GET", "/healthz") for _ in range(args.volunteers)),
            concurrency=args.concurrency,
        )
        failures: list[tuple[int, bytes]] = []

        def check(_req: loadclient.Request, status: int, payload: bytes) -> None:
            if status != 200:
                failures.append((status, payload[:200]))

        result = loadclient.run(
            base,
            (request(s) for s in seeded["volunteers"]),
            concurrency=args.concurrency,
            on_response=check,
        )
    records = count_attendance(env, activity_id)
    for status, payload in failures[:5]:
        print(f"failed: {status} {payload!r}", file=sys.stderr)
    db = "sqlite" if args.sqlite else "postgresql"
    print(
        f"database {db}; gunicorn gthread 2x{args.threads}; {args.volunteers} volunteers; "
        f"concurrency {args.concurrency}; cpus {os.cpu_count()}"
    )
    for line in floor.lines("healthz") + result.lines("checkin"):
        print(line)
    print(f"checkin.attendance_rows {records}")
    print(f"checkin.exact {'yes' if records == args.volunteers and not failures else 'no'}")


if __name__ == "__main__":
    main()
