"""The volunteer list's region filter: one level of sub-regions at a time, never outside
the actor's scope."""

from __future__ import annotations

import re

from tests.volunteers.test_services import register


def options(body: str) -> list[tuple[str, str]]:
    select = re.search(r'<select[^>]*id="filter-region".*?</select>', body, re.S)
    assert select
    return re.findall(r'<option value="(\d*)"[^>]*>(?:— )?([^<]*)</option>', select.group(0))


def test_county_admin_narrows_town_then_village(cast, login):
    register(cast.county_admin, 1)
    client = login(cast.county_admin)
    top = options(client.get("/volunteers/").content.decode())
    assert ("320305005", "潘安湖街道") in top and ("320305102", "青山泉镇") in top
    assert all(value.startswith("320305") for value, _ in top if value)
    town = client.get("/volunteers/?region=320305005").content.decode()
    town_opts = options(town)
    assert ("320305005", "潘安湖街道") in town_opts  # the current choice
    assert ("320305005204", "马庄村委会") in town_opts and (
        "320305005200",
        "唐庄村委会",
    ) in town_opts


def test_supervisor_of_the_city_starts_from_counties(cast, login):
    top = options(login(cast.supervisor).get("/volunteers/").content.decode())
    assert ("320305", "贾汪区") in top and ("320311", "泉山区") in top


def test_out_of_scope_region_is_not_offered(cast, login):
    client = login(cast.institute_admin)
    body = client.get("/volunteers/?region=320311").content.decode()
    assert "泉山区" not in body
    assert ("320305005204", "马庄村委会") in options(body)  # back to the actor's own level
