"""The whole API fuzzed: every operation, every method, as anonymous and as the county
admin, answers without a server error and only with statuses and bodies its OpenAPI
document declares (schemathesis against the WSGI app, in the test's transaction)."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.specs.openapi import checks as oas  # noqa: E402

from wenming.wsgi import application  # noqa: E402

EXAMPLES_PER_OPERATION = 6
CHECKS = [
    schemathesis.checks.not_a_server_error,
    oas.status_code_conformance,
    oas.content_type_conformance,
    oas.response_schema_conformance,
]


def _session(client, user):
    if user is None:
        return {}, {}
    client.force_login(user)
    # A CSRF secret of our own, sent as cookie and header, as a browser page would.
    token = "wenmingschemathesiscsrftoken0001"
    cookies = {k: v.value for k, v in client.cookies.items()} | {"csrftoken": token}
    return cookies, {"X-CSRFToken": token}


@pytest.fixture
def keep_the_test_connection():
    """Django closes the database connection when a request starts and finishes; its test client
    stops that for the test's transaction, and so must calls straight to the WSGI app
    (on PostgreSQL the test's connection would close after the first request)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.parametrize("who", ["anonymous", "county_admin"])
def test_every_operation_answers_within_its_document(
    client, cast, net, who, keep_the_test_connection
):
    cookies, headers = _session(client, None if who == "anonymous" else cast.county_admin)
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 80
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,  # the same examples every run: no flaky CI
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            try:
                case.call_and_validate(cookies=cookies, headers=headers, checks=CHECKS)
            except (Exception, BaseExceptionGroup) as exc:  # collect all, report at the end
                failures.append(f"{case.method} {case.formatted_path}: {str(exc)[:400]}")

        check()
    assert failures == [], "\n".join(sorted(set(failures))[:40])
