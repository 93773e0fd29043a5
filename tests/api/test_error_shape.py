"""Every error the API answers has the one documented shape {code, message, field},
and the OpenAPI document names each schema once."""

from __future__ import annotations

import pytest
from django.test import Client


def _shape(response) -> dict:
    body = response.json()
    assert set(body) == {"code", "message", "field"}, body
    return body


def test_unauthenticated_is_401_in_shape(client, net):
    response = client.get("/api/volunteers")
    assert response.status_code == 401
    assert _shape(response)["code"] == "unauthenticated"


def test_csrf_failure_is_403_in_shape(cast, net):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.county_admin)
    response = client.post("/api/network/units", {}, content_type="application/json")
    assert response.status_code == 403
    body = _shape(response)
    assert body["code"] == "csrf_failed"


def test_unparsable_body_is_400_in_shape(client, cast):
    client.force_login(cast.county_admin)
    response = client.post("/api/network/units", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert _shape(response)["code"] == "unparsable"


@pytest.mark.parametrize(
    ("url", "field"), [("/api/teams?unit=abc", "unit"), ("/api/audit/events?page=0", "page")]
)
def test_wrong_types_are_422_in_shape_naming_the_field(client, cast, url, field):
    client.force_login(cast.county_admin)
    response = client.get(url)
    assert response.status_code == 422
    body = _shape(response)
    assert body["code"] == "invalid_input" and body["field"] == field


def test_body_schema_error_names_the_body_field(client, cast):
    client.force_login(cast.county_admin)
    response = client.post("/api/network/units", {"kind": "point"}, content_type="application/json")
    assert response.status_code == 422
    body = _shape(response)
    assert body["code"] == "invalid_input"
    assert body["field"] == "name" and "name" in body["message"]


def test_schema_names_do_not_collide(client, cast):
    client.force_login(cast.county_admin)
    doc = client.get("/api/openapi.json").json()
    schemas = doc["components"]["schemas"]
    assert {"TeamMemberOut", "HouseholdMemberOut", "DemandFiguresOut"} <= set(schemas)
    assert {"HouseholdFiguresOut", "ErrorOut"} <= set(schemas)
    team = doc["paths"]["/api/teams/{team_id}"]["get"]["responses"]["200"]
    team_schema = schemas[team["content"]["application/json"]["schema"]["$ref"].split("/")[-1]]
    assert "TeamMemberOut" in str(team_schema)
    figures = doc["paths"]["/api/demands/figures"]["get"]["responses"]["200"]
    assert "DemandFiguresOut" in str(figures)
    operation_ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
    assert len(operation_ids) == len(set(operation_ids))


def test_every_operation_documents_the_error_statuses(client, cast):
    client.force_login(cast.county_admin)
    doc = client.get("/api/openapi.json").json()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            codes = set(op["responses"])
            assert {"400", "403", "404", "422"} <= codes, (method, path)
            if op.get("security"):
                assert "401" in codes, (method, path)


def test_api_url_names_are_unique():
    from django.urls import reverse

    assert reverse("api:demand_figures") != reverse("api:household_figures")
