"""API bodies built from the services' input dataclasses cannot drift from them."""

from __future__ import annotations

import dataclasses

import pytest
from pydantic import ValidationError

from wenming.activities.services import ActivityInput
from wenming.core.api import input_of, input_schema
from wenming.demands.services import MenuItemInput


@pytest.mark.parametrize("cls", [ActivityInput, MenuItemInput])
def test_the_body_has_the_dataclass_fields_and_defaults(cls):
    schema = input_schema(cls, f"Test{cls.__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    assert list(schema.model_fields) == list(fields)
    for name, field in fields.items():
        required = (
            field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        )
        assert schema.model_fields[name].is_required() == required, name


def test_a_parsed_body_becomes_the_service_input():
    schema = input_schema(MenuItemInput, "TestMenuItemIn")
    body = schema(unit_id=3, title="上门理发", work_item="values", team_ids=[1, 2])
    data = input_of(body, MenuItemInput)
    assert isinstance(data, MenuItemInput)
    assert (data.unit_id, data.team_ids, data.response_hours) == (3, [1, 2], 24)
    with pytest.raises(ValidationError):
        schema(title="缺少单位")
