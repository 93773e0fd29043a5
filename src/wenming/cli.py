"""The `wenming` command.

wenming demo            set up the demo county under $WENMING_DATA_DIR and serve it
wenming serve           production: gunicorn and the background-job consumer together
wenming <command> ...   any Django management command (migrate, regions import FILE, ...)
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path


def _data_dir() -> Path:
    path = Path(os.environ.get("WENMING_DATA_DIR", "var")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    os.environ["WENMING_DATA_DIR"] = str(path)
    return path


def _demo_secrets(data_dir: Path) -> None:
    """The demo keeps its own secrets in its data folder (made once, mode 600)."""
    path = data_dir / "secrets.json"
    if path.exists():
        values = json.loads(path.read_text())
    else:
        values = {
            "SECRET_KEY": secrets.token_urlsafe(50),
            "WENMING_DATA_KEY": base64.b64encode(os.urandom(32)).decode(),
        }
        path.write_text(json.dumps(values, indent=2))
        path.chmod(0o600)
    for key, value in values.items():
        os.environ.setdefault(key, value)


def _demo_data_folder() -> None:
    """A management command run on a demo's data folder (one holding the demo's
    secrets.json) uses the demo's own keys, as the README's commands expect; without
    them every keyed lookup (a phone number) misses and settings refuse to start. A
    deployment that sets SECRET_KEY itself is never touched."""
    if "SECRET_KEY" in os.environ:
        return
    data_dir = Path(os.environ.get("WENMING_DATA_DIR", "var")).resolve()
    if (data_dir / "secrets.json").exists():
        os.environ["WENMING_DATA_DIR"] = str(data_dir)
        os.environ.setdefault("WENMING_DEMO", "1")
        _demo_secrets(data_dir)


def _django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wenming.settings")
    import django

    django.setup()


def _collectstatic_if_changed(data_dir: Path) -> None:
    """collectstatic compresses every file (brotli on ECharts takes ~20 s), so the demo
    skips it when no static source changed since the last run."""
    import hashlib

    from django.conf import settings
    from django.contrib.staticfiles.finders import get_finders
    from django.core.management import call_command

    digest = hashlib.sha256()
    for finder in get_finders():
        for path, storage in finder.list([]):
            stat = os.stat(storage.path(path))
            digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    fingerprint = digest.hexdigest()
    stamp = data_dir / "static.fingerprint"
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if manifest.exists() and stamp.exists() and stamp.read_text() == fingerprint:
        return
    print("  collecting static files (first run only)…", flush=True)
    call_command("collectstatic", interactive=False, verbosity=0)
    stamp.write_text(fingerprint)


def serve(bind: str, workers: int) -> int:
    """Run gunicorn and the Huey consumer; stop both when either stops or on a signal."""
    python = sys.executable
    web = subprocess.Popen(
        [
            python, "-m", "gunicorn", "wenming.wsgi:application",
            "--bind", bind,
            "--workers", str(workers),
            "--worker-class", "gthread",
            "--threads", os.environ.get("WEB_THREADS", "4"),
            "--access-logfile", "-" if os.environ.get("ACCESS_LOG", "1") == "1" else "/dev/null",
            "--graceful-timeout", "10",
        ]
    )  # fmt: skip
    jobs = subprocess.Popen([python, "-m", "wenming.cli", "run_huey"])
    children = {"web server (gunicorn)": web, "job consumer (huey)": jobs}
    signalled = False

    def stop(signum: int = signal.SIGTERM, frame: object = None) -> None:
        nonlocal signalled
        signalled = signalled or frame is not None
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while all(child.poll() is None for child in children.values()):
            time.sleep(0.5)
    finally:
        ended = [name for name, child in children.items() if child.poll() is not None]
        stop()
        for child in children.values():
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
    if signalled:
        # Asked to stop: a child ended by our SIGTERM (even one still booting) is a clean stop.
        codes = [c.returncode for c in children.values()]
        return 0 if all(code in (0, -signal.SIGTERM) for code in codes) else 1
    # A child stopped on its own: say which, and fail so a supervisor restarts us.
    for name in ended:
        print(f"wenming serve: the {name} stopped (exit code {children[name].returncode})",
              file=sys.stderr)  # fmt: skip
    positive = [children[n].returncode for n in ended if children[n].returncode > 0]
    return positive[0] if positive else 1


def demo() -> int:
    data_dir = _data_dir()
    os.environ["WENMING_DEMO"] = "1"
    os.environ.setdefault("DEBUG", "0")
    _demo_secrets(data_dir)
    _django_setup()
    from django.core.management import call_command

    from wenming.core.roles import Role
    from wenming.network.demo import DEMO_ACCOUNTS, DEMO_PASSWORD

    call_command("migrate", interactive=False, verbosity=0)
    _collectstatic_if_changed(data_dir)
    call_command("demo_load")
    port = os.environ.get("PORT", "8000")
    print()
    print(f"  wenming demo · 贾汪区 · data in {data_dir}")
    print(f"  open http://127.0.0.1:{port}/")
    print()
    print(f"  demo logins (password for all: {DEMO_PASSWORD})")
    for account in DEMO_ACCOUNTS:
        print(f"    {account.phone}  {account.name}  {Role(account.role).label}")
    from wenming.certificates.models import Certificate

    # Certificate numbers end in random check characters: say which one to verify.
    number = Certificate.objects.order_by("pk").values_list("number", flat=True).first()
    if number:
        print()
        print(f"  a certificate to verify: http://127.0.0.1:{port}/verify/{number}/")
    print()
    sys.stdout.flush()
    return serve(f"127.0.0.1:{port}", int(os.environ.get("WEB_WORKERS", "2")))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    command = argv[1] if len(argv) > 1 else "help"
    if command == "demo":
        return demo()
    if command == "serve":
        _data_dir()
        bind = os.environ.get("BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
        return serve(bind, int(os.environ.get("WEB_WORKERS", "2")))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wenming.settings")
    _demo_data_folder()
    from django.core.management import execute_from_command_line

    if command == "help" and len(argv) <= 2:
        print(__doc__)
    argv[0] = "wenming"
    execute_from_command_line(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
