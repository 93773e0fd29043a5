"""The console script: `wenming serve` runs the web server and the job consumer together
and stops both on SIGTERM; the demo makes its secrets once and keeps them."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from wenming import cli

WENMING = str(Path(sys.executable).with_name("wenming"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_secrets_are_made_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("WENMING_DATA_KEY", raising=False)
    cli._demo_secrets(tmp_path)
    first = json.loads((tmp_path / "secrets.json").read_text())
    assert len(first["SECRET_KEY"]) >= 50
    assert (tmp_path / "secrets.json").stat().st_mode & 0o777 == 0o600
    monkeypatch.delenv("SECRET_KEY")
    monkeypatch.delenv("WENMING_DATA_KEY")
    cli._demo_secrets(tmp_path)
    assert json.loads((tmp_path / "secrets.json").read_text()) == first
    assert os.environ["SECRET_KEY"] == first["SECRET_KEY"]


@pytest.mark.skipif(not Path(WENMING).exists(), reason="console script not installed")
def test_serve_runs_web_and_jobs_and_stops_both(tmp_path):
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "WENMING_TESTING", "DATABASE_URL", "REDIS_URL"}
    }
    env.update(
        WENMING_DATA_DIR=str(tmp_path),
        SECRET_KEY="serve-test-" + "x" * 40,
        WENMING_DATA_KEY="AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_HTTPS="0",
        BIND=f"127.0.0.1:{port}",
        WEB_WORKERS="1",
        ACCESS_LOG="0",
    )
    subprocess.run([WENMING, "migrate", "-v0"], env=env, check=True, timeout=120)
    log_path = tmp_path / "serve.log"
    log = open(log_path, "w")  # noqa: SIM115 (closed in finally)
    proc = subprocess.Popen(
        [WENMING, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        body = None
        for _ in range(80):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    body = json.loads(r.read())
                    break
            except OSError:
                time.sleep(0.25)
        assert body == {"status": "ok"}
        children = subprocess.run(
            ["pgrep", "-g", str(proc.pid), "-a"], capture_output=True, text=True
        ).stdout
        assert "gunicorn" in children
        assert "run_huey" in children
        for _ in range(80):  # the consumer logs its start a moment after gunicorn's
            if "Huey consumer started" in log_path.read_text():
                break
            time.sleep(0.25)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()
    output = log_path.read_text()
    assert proc.returncode == 0, output
    leftover = subprocess.run(["pgrep", "-g", str(proc.pid)], capture_output=True, text=True)
    assert leftover.stdout.strip() == ""
    assert "Huey consumer started" in output


def test_a_command_on_a_demo_folder_uses_the_demos_keys(tmp_path, monkeypatch):
    """`wenming open311_key …` on the demo's data folder, as the README shows it,
    without exporting anything: the demo's secrets.json is used."""
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("WENMING_DATA_KEY", raising=False)
    monkeypatch.delenv("WENMING_DEMO", raising=False)
    cli._demo_secrets(tmp_path)
    saved = json.loads((tmp_path / "secrets.json").read_text())
    monkeypatch.delenv("SECRET_KEY")
    monkeypatch.delenv("WENMING_DATA_KEY")
    monkeypatch.setenv("WENMING_DATA_DIR", str(tmp_path))
    cli._demo_data_folder()
    assert os.environ["SECRET_KEY"] == saved["SECRET_KEY"]
    assert os.environ["WENMING_DATA_KEY"] == saved["WENMING_DATA_KEY"]
    assert os.environ["WENMING_DEMO"] == "1"


def test_a_deployments_own_keys_are_never_replaced(tmp_path, monkeypatch):
    cli._demo_secrets(tmp_path)
    monkeypatch.setenv("SECRET_KEY", "deployment-" + "k" * 40)
    monkeypatch.setenv("WENMING_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("WENMING_DEMO", raising=False)
    cli._demo_data_folder()
    assert os.environ["SECRET_KEY"] == "deployment-" + "k" * 40
    assert "WENMING_DEMO" not in os.environ


@pytest.mark.skipif(not Path(WENMING).exists(), reason="console script not installed")
def test_open311_key_works_on_a_demo_folder_as_the_readme_shows(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DJANGO_SETTINGS_MODULE", "WENMING_TESTING", "DATABASE_URL", "REDIS_URL",
            "SECRET_KEY", "WENMING_DATA_KEY", "WENMING_DEMO",
        }
    }  # fmt: skip
    env["WENMING_DATA_DIR"] = str(tmp_path)
    cli._demo_secrets(tmp_path)  # what `make demo` left in the folder
    for key in ("SECRET_KEY", "WENMING_DATA_KEY"):
        os.environ.pop(key, None)
    subprocess.run([WENMING, "migrate", "-v0"], env=env, check=True, timeout=180)
    # What the demo load leaves: a region and a staff login, keyed with the demo's keys.
    setup = (
        "from wenming.network.services import regions_import;"
        "regions_import(actor=None, rows=[('320000000000', '江苏省')]);"
        "from wenming.accounts.models import User;"
        "from wenming.network.models import RoleGrant;"
        "u = User.objects.create_user('13800000000', '管理员', 'Demo@2026-x');"
        "RoleGrant.objects.create(user=u, role='sysadmin', region_id='320000000000')"
    )
    made = subprocess.run(
        [WENMING, "shell", "-c", setup], env=env, capture_output=True, text=True, timeout=120
    )
    assert made.returncode == 0, made.stderr
    result = subprocess.run(
        [WENMING, "open311_key", "--name", "12345热线", "--region", "320000000000", "--as-phone",
         "13800000000"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "o311_" in result.stdout
