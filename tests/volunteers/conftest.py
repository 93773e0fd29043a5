"""Fixtures shared by the volunteer tests."""

from tests.volunteers.teams_cast import crew  # noqa: F401 (the team cast, as a fixture)
