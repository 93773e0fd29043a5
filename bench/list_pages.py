"""Throughput of a logged-in list page against `wenming serve` on PostgreSQL.

    python bench/list_pages.py [--requests 3000] [--concurrency 16] [--sqlite]

Loads the demo county, logs in as the county admin and as a volunteer, then GETs
/healthz (the floor: one `SELECT 1`), the unit list page (/network/units/, 25 rows with
search and paging) as the admin, and the activity list page (/activities/, the page a
volunteer opens to find something to join) as the volunteer, with a closed-loop client
on loopback. Figures print last, one a line."""

from __future__ import annotations

import argparse
import itertools
import re
import sys
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import loadclient, server

PG_URL = "postgres://postgres@127.0.0.1:5432/wenming_bench"


def login(base: str, phone: str, password: str) -> str:
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token, "no CSRF token on the login page"
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token.group(1), "phone": phone, "password": password}
    ).encode()
    opener.open(
        urllib.request.Request(base + "/accounts/login/", data=data, headers={"Referer": base})
    )
    cookies = {c.name: c.value for c in jar}
    assert "sessionid" in cookies, "login failed"
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args()

    database_url = None if args.sqlite else PG_URL
    env = server.demo_database(database_url)
    with server.running(env) as base:
        cookie = login(base, "13800000001", "Demo@2026")
        headers = {"Cookie": cookie}
        # Warm up the workers and their persistent connections.
        loadclient.run(
            base,
            iter([loadclient.Request("GET", "/network/units/", None, headers)] * 200),
            concurrency=4,
        )
        floor = loadclient.run(
            base,
            itertools.islice(
                itertools.repeat(loadclient.Request("GET", "/healthz")), args.requests
            ),
            concurrency=args.concurrency,
        )
        pages = (f"/network/units/?page={n % 7 + 1}" for n in range(args.requests))
        units = loadclient.run(
            base,
            (loadclient.Request("GET", p, None, headers) for p in pages),
            concurrency=args.concurrency,
        )
        volunteer = {"Cookie": login(base, "13800000005", "Demo@2026")}
        loadclient.run(
            base,
            iter([loadclient.Request("GET", "/activities/", None, volunteer)] * 200),
            concurrency=4,
        )
        listing = (f"/activities/?page={n % 2 + 1}" for n in range(args.requests))
        activities = loadclient.run(
            base,
            (loadclient.Request("GET", p, None, volunteer) for p in listing),
            concurrency=args.concurrency,
        )
    db = "sqlite" if args.sqlite else "postgresql"
    print(f"database {db}; gunicorn gthread 2x4; concurrency {args.concurrency}")
    for line in (
        floor.lines("healthz") + units.lines("unit_list") + activities.lines("activity_list")
    ):
        print(line)


if __name__ == "__main__":
    main()
