from __future__ import annotations

import pytest

from tests.certificates.helpers import record, volunteer_with_login


@pytest.fixture
def vol(cast):
    return volunteer_with_login(cast.county_admin, 1)


@pytest.fixture
def other_vol(cast):
    return volunteer_with_login(cast.county_admin, 2)


@pytest.fixture
def hours(vol, net):
    """Two confirmed records at the village station: 3 h + 1.5 h."""
    _, volunteer = vol
    return [
        record(volunteer, net.station, 180, content="马庄村环境整治"),
        record(volunteer, net.station, 90, content="敬老院包饺子"),
    ]
