"""The shared assertions fail when they should."""

from __future__ import annotations

import pytest

from tests.shared import db_unchanged, queries_for, rows
from wenming.core.errors import RuleViolation
from wenming.volunteers.models import Skill


def test_db_unchanged_passes_a_refusal_and_catches_a_change(db):
    with pytest.raises(RuleViolation), db_unchanged(Skill):
        raise RuleViolation("拒绝")
    with pytest.raises(AssertionError, match="changed the database"), db_unchanged(Skill):
        Skill.objects.create(name="新技能")
    assert rows(Skill)[0][-1]["name"] == "新技能"


def test_queries_for_counts_and_checks_the_status(client, db):
    assert queries_for(client, "/healthz") >= 1
    with pytest.raises(AssertionError):
        queries_for(client, "/healthz", status=404)
