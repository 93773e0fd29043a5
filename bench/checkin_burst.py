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


def seed(n: int) -> None:
    """Run inside `wenming shell` (the server's settings and SECRET_KEY): print the
    activity id, the organiser's session key and one session key per volunteer."""
    import datetime as dt

    from django.utils import timezone

    from bench.seeding import first_station, volunteers_with_sessions
    from wenming.activities.models import Activity, ActivityState, SignUp, SignUpState, WorkItem

    unit = first_station()
    volunteers, organiser, sessions = volunteers_with_sessions(n, unit)
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
    print(json.dumps({"activity": activity.pk, "organiser": organiser, "volunteers": sessions}))


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
