"""Test settings: the real settings module under a test environment.

Set before import: the test flag (immediate Huey, fast hasher, insecure key allowed)
and a throwaway data folder. DATABASE_URL and REDIS_URL pass through, so the same
suite runs on SQLite and on PostgreSQL + Redis."""

import os
import tempfile

os.environ["WENMING_TESTING"] = "1"
os.environ.setdefault("WENMING_DATA_DIR", tempfile.mkdtemp(prefix="wenming-test-"))
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")

from wenming.settings import *  # noqa: F403

AXES_FAILURE_LIMIT = 5
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

# A test-only app holding a concrete ledger (core.ledger is abstract).
INSTALLED_APPS = [*INSTALLED_APPS, "tests.ledger_app"]  # noqa: F405
