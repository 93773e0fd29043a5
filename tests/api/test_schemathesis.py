"""Property-based smoke test: every GET endpoint of our OpenAPI schema, fed values that
schemathesis generates from it, answers without a server error for a logged-in user."""

from __future__ import annotations

from urllib.parse import quote

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

EXAMPLES_PER_OPERATION = 25


def test_get_endpoints_never_answer_5xx(login, cast, net):
    client = login(cast.county_admin)
    raw = client.get("/api/openapi.json").json()
    schema = schemathesis.openapi.from_dict(raw)
    operations = [
        result.ok() for result in schema.get_all_operations() if result.ok().method.upper() == "GET"
    ]
    assert {op.path for op in operations} >= {
        "/api/network/units",
        "/api/network/units/{unit_id}",
        "/api/network/regions",
        "/api/audit/events",
    }
    # Known ids too, so that detail endpoints are exercised past their 404.
    unit_ids = st.sampled_from([net.center.pk, net.station.pk, net.other_center.pk])

    for operation in operations:
        strategy = operation.as_strategy()

        @given(case=strategy, known=unit_ids, use_known=st.booleans())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,  # the same examples every run: no flaky CI
            suppress_health_check=list(HealthCheck),
        )
        def check(case, known, use_known):
            params = dict(case.path_parameters or {})
            if use_known and "unit_id" in params:
                params["unit_id"] = known
            path = case.path
            for name, value in params.items():
                path = path.replace("{" + name + "}", quote(str(value), safe=""))
            response = client.get(path, case.query or {})
            assert response.status_code < 500, (path, case.query, response.content[:300])
            if response.status_code == 200:
                response.json()

        check()
