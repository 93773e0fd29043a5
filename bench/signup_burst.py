"""100 volunteers sign up at once for an activity with 30 places, against `wenming serve`
on PostgreSQL.

    python bench/signup_burst.py [--volunteers 100] [--quota 30] [--sqlite]

Loads the demo county, seeds N volunteers with a logged-in session each and one published
activity open for sign-up, then all N POST /api/activities/<id>/signups at the same time
(N keep-alive clients, one request each). Exactly `quota` must get a place and the rest
the waitlist, with no error and no one lost. Figures print last, one a line."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import loadclient, server

PG_URL = "postgres://postgres@127.0.0.1:5432/wenming_bench_signup"


def seed(n: int, quota: int) -> None:
    """Run inside `wenming shell`: print the activity id and one session key per volunteer."""
    import datetime as dt

    from django.utils import timezone

    from bench.seeding import first_station, volunteers_with_sessions
    from wenming.activities.models import Activity, ActivityState, WorkItem

    unit = first_station()
    _volunteers, _organiser, sessions = volunteers_with_sessions(n, unit)
    now = timezone.now()
    activity = Activity.objects.create(
        title="压测：抢报名",
        work_item=WorkItem.CULTURE,
        unit=unit,
        region_id=unit.region_id,
        venue="文化广场",
        starts_at=now + dt.timedelta(days=2),
        ends_at=now + dt.timedelta(days=2, hours=3),
        signup_opens_at=now - dt.timedelta(hours=1),
        signup_closes_at=now + dt.timedelta(days=1),
        quota=quota,
        state=ActivityState.PUBLISHED,
        published_at=now,
    )
    print(json.dumps({"activity": activity.pk, "volunteers": sessions}))


def count_states(env: dict[str, str], activity_id: int) -> dict[str, int]:
    code = (
        "import json; from django.db.models import Count;"
        "from wenming.activities.models import Activity, SignUp;"
        f"rows = SignUp.objects.filter(activity_id={activity_id}).values('state')"
        ".annotate(n=Count('id'));"
        "states = {r['state']: r['n'] for r in rows};"
        f"states['counter'] = Activity.objects.get(pk={activity_id}).signed_up_count;"
        "print(json.dumps(states))"
    )
    out = server.manage(env, "shell", "-c", code)
    states: dict[str, int] = json.loads(out.strip().splitlines()[-1])
    return states


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--volunteers", type=int, default=100)
    parser.add_argument("--quota", type=int, default=30)
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args()

    database_url = None if args.sqlite else PG_URL
    env = server.demo_database(database_url)
    env["PYTHONPATH"] = str(server.ROOT)
    out = server.manage(
        env,
        "shell",
        "-c",
        f"from bench.signup_burst import seed; seed({args.volunteers}, {args.quota})",
    )
    seeded = json.loads(out.strip().splitlines()[-1])
    activity_id = seeded["activity"]
    csrf = secrets.token_hex(16)
    answers: dict[str, int] = {}
    failures: list[tuple[int, bytes]] = []

    def check(_req: loadclient.Request, status: int, payload: bytes) -> None:
        if status == 201:
            state = json.loads(payload)["state"]
            answers[state] = answers.get(state, 0) + 1
        else:
            failures.append((status, payload[:200]))

    with server.running(env) as base:
        # Warm every worker thread's database and cache connections and the API's code
        # paths first, as a live server's would be: people read the activity, then sign up.
        loadclient.run(
            base,
            iter([loadclient.Request("GET", f"/api/activities/{activity_id}")] * 200),
            concurrency=8,
        )
        result = loadclient.run(
            base,
            (
                loadclient.Request(
                    "POST",
                    f"/api/activities/{activity_id}/signups",
                    b"",
                    {
                        "Cookie": f"sessionid={s}; csrftoken={csrf}",
                        "X-CSRFToken": csrf,
                    },
                )
                for s in seeded["volunteers"]
            ),
            concurrency=args.volunteers,
            on_response=check,
        )
    states = count_states(env, activity_id)
    for status, payload in failures[:5]:
        print(f"failed: {status} {payload!r}", file=sys.stderr)
    db = "sqlite" if args.sqlite else "postgresql"
    exact = (
        states.get("signed_up", 0) == args.quota
        and states["counter"] == args.quota
        and states.get("waitlisted", 0) == args.volunteers - args.quota
        and not failures
    )
    print(
        f"database {db}; gunicorn gthread 2x4; {args.volunteers} volunteers at once; "
        f"quota {args.quota}; cpus {os.cpu_count()}"
    )
    for line in result.lines("signup"):
        print(line)
    print(f"signup.answered_signed_up {answers.get('signed_up', 0)}")
    print(f"signup.answered_waitlisted {answers.get('waitlisted', 0)}")
    print(f"signup.db_signed_up {states.get('signed_up', 0)}")
    print(f"signup.db_waitlisted {states.get('waitlisted', 0)}")
    print(f"signup.db_counter {states['counter']}")
    print(f"signup.exact {'yes' if exact else 'no'}")


if __name__ == "__main__":
    main()
