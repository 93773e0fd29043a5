"""Settings come from the environment and fail loudly; production passes check --deploy.

Each case runs a fresh interpreter with a clean environment, because settings are read
once at import."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": SRC,
        "WENMING_DATA_DIR": str(tmp_path / "data"),
        "DJANGO_SETTINGS_MODULE": "wenming.settings",
    }
    env.update(values)
    return env


def _production(tmp_path: Path, **values: str) -> dict[str, str]:
    production = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "WENMING_DATA_KEY": base64.b64encode(os.urandom(32)).decode(),
        "ALLOWED_HOSTS": "example.org",
        "DEBUG": "0",
    }
    return _env(tmp_path, **{**production, **values})


def _run(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _import_settings(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return _run(tmp_path, env, "-c", "import wenming.settings")


DUMP = """
import json
from django.conf import settings
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
    "PASSWORD_HASHERS": settings.PASSWORD_HASHERS,
    "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": settings.CSRF_COOKIE_SECURE,
    "SECURE_SSL_REDIRECT": settings.SECURE_SSL_REDIRECT,
    "SECURE_HSTS_SECONDS": settings.SECURE_HSTS_SECONDS,
    "HUEY_IMMEDIATE": settings.HUEY["immediate"],
    "STATICFILES": settings.STORAGES["staticfiles"]["BACKEND"],
    "ENGINE": settings.DATABASES["default"]["ENGINE"],
    "CACHE": settings.CACHES["default"]["BACKEND"],
}))
"""


# ---------------------------------------------------------------- refusals


def test_production_without_secret_key_is_refused(tmp_path):
    result = _import_settings(tmp_path, _env(tmp_path))
    assert result.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured: SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize("weak", ["change-me", "secret", "x" * 31])
def test_production_with_a_weak_secret_key_is_refused(tmp_path, weak):
    env = _production(tmp_path)
    env["SECRET_KEY"] = weak
    result = _import_settings(tmp_path, env)
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set" in result.stderr


def test_production_without_data_key_is_refused(tmp_path):
    env = _production(tmp_path)
    del env["WENMING_DATA_KEY"]
    result = _import_settings(tmp_path, env)
    assert result.returncode != 0
    assert "ImproperlyConfigured: WENMING_DATA_KEY must be set" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG must be a boolean (true/false), got 'maybe'"),
        ("WENMING_DEMO", "sometimes", "WENMING_DEMO must be a boolean"),
        ("SECURE_HTTPS", "2", "SECURE_HTTPS must be a boolean"),
        ("AXES_FAILURE_LIMIT", "five", "AXES_FAILURE_LIMIT must be an integer, got 'five'"),
        ("WENMING_PAGE_SIZE", "2.5", "WENMING_PAGE_SIZE must be an integer"),
    ],
)
def test_bad_values_fail_loudly(tmp_path, name, value, message):
    result = _import_settings(tmp_path, _production(tmp_path, **{name: value}))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_development_runs_without_secrets(tmp_path):
    result = _run(tmp_path, _env(tmp_path, DEBUG="true"), "-c", "import django; django.setup()")
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------- production


def test_production_passes_check_deploy_without_warnings(tmp_path):
    result = _run(
        tmp_path,
        _production(tmp_path),
        "-m",
        "django",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."
    assert "WARNING" not in result.stderr
    assert "?: (" not in result.stdout + result.stderr  # no check ids like security.W004


def test_production_values(tmp_path):
    result = _run(tmp_path, _production(tmp_path), "-c", "import django; django.setup()\n" + DUMP)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {
        "DEBUG": False,
        "ALLOWED_HOSTS": ["example.org"],
        "PASSWORD_HASHERS": [
            "django.contrib.auth.hashers.Argon2PasswordHasher",
            "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        ],
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "HUEY_IMMEDIATE": False,
        "STATICFILES": "whitenoise.storage.CompressedManifestStaticFilesStorage",
        "ENGINE": "django.db.backends.sqlite3",
        "CACHE": "django.core.cache.backends.locmem.LocMemCache",
    }
    assert (tmp_path / "data").is_dir()


def test_database_url_selects_postgresql(tmp_path):
    env = _production(tmp_path, DATABASE_URL="postgres://u:p@db.example:5432/wenming")
    result = _run(tmp_path, env, "-c", "import django; django.setup()\n" + DUMP)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["ENGINE"] == (
        "django.db.backends.postgresql"
    )


def test_huey_logs_each_line_once():
    """The consumer only adds its own handler to a 'huey' logger without one; ours is
    there and does not also pass lines to the root's."""
    import logging

    huey = logging.getLogger("huey")
    assert huey.handlers and huey.propagate is False
