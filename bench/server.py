"""Start `wenming serve` on PostgreSQL (or SQLite) for a benchmark, and stop it after."""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WENMING = str(Path(sys.executable).with_name("wenming"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_env(database_url: str | None) -> dict[str, str]:
    data_dir = tempfile.mkdtemp(prefix="wenming-bench-")
    env = dict(os.environ)
    env.update(
        {
            "WENMING_DATA_DIR": data_dir,
            "SECRET_KEY": "bench-" + base64.b64encode(os.urandom(30)).decode(),
            "WENMING_DATA_KEY": base64.b64encode(os.urandom(32)).decode(),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_HTTPS": "0",
            "DEBUG": "0",
            "ACCESS_LOG": "0",
            "LOG_LEVEL": "WARNING",
        }
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def manage(env: dict[str, str], *args: str) -> str:
    out = subprocess.run([WENMING, *args], env=env, check=True, capture_output=True, text=True)
    return out.stdout


def reset_postgres(database_url: str) -> None:
    """Drop and recreate the benchmark database (never the suite's or production's)."""
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    if not name.startswith("wenming_bench"):
        raise SystemExit(
            "refusing to reset a database whose name does not start with wenming_bench"
        )
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def demo_database(database_url: str | None) -> dict[str, str]:
    """A fresh benchmark database (PostgreSQL, or SQLite when None) migrated and loaded
    with the demo county; returns the environment to run the server with."""
    if database_url:
        reset_postgres(database_url)
    env = bench_env(database_url)
    manage(env, "migrate", "-v0")
    manage(env, "demo_load")
    return env


@contextlib.contextmanager
def running(env: dict[str, str], workers: int = 2, threads: int = 4) -> Iterator[str]:
    port = free_port()
    env = {
        **env,
        "BIND": f"127.0.0.1:{port}",
        "WEB_WORKERS": str(workers),
        "WEB_THREADS": str(threads),
    }
    manage(env, "collectstatic", "--noinput", "-v0")
    proc = subprocess.Popen([WENMING, "serve"], env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.25)
        else:
            raise SystemExit("server did not start")
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
