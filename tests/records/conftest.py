"""Fixtures shared by the records tests: an ongoing activity of the village station
and one volunteer signed up to it."""

from __future__ import annotations

import pytest

from tests.records.helpers import activity, signed_up_volunteer


@pytest.fixture
def act(cast, net):
    return activity(cast.county_admin, net.station)


@pytest.fixture
def vol(cast, act):
    return signed_up_volunteer(cast.county_admin, act, 1)
