"""The 1+10 limit under concurrency on PostgreSQL: staff assigning households to the
same contact person at the same moment never pass the limit."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from tests.households.helpers import contact, household
from wenming.accounts.models import User
from wenming.core.errors import RuleViolation
from wenming.households import services
from wenming.households.models import Assignment, ContactPerson, Household

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(calls: list[Any]) -> tuple[list[Any], list[BaseException]]:
    go = threading.Barrier(len(calls))
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(call: Any) -> None:
        try:
            go.wait(timeout=30)
            result = call()
            with lock:
                results.append(result)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def test_concurrent_assignments_stop_at_the_limit(cast):
    c = contact(cast.county_admin)
    homes = [household(cast.station_admin, n) for n in range(14)]
    for h in homes[:8]:
        services.assignment_create(actor=cast.station_admin, household=h, contact=c, kind="group")

    def assign(household_id: int) -> Any:
        def call() -> int:
            actor = User.objects.get(pk=cast.station_admin.pk)
            return services.assignment_create(
                actor=actor,
                household=Household.objects.get(pk=household_id),
                contact=ContactPerson.objects.get(pk=c.pk),
                kind="group",
            ).pk

        return call

    results, errors = race([assign(h.pk) for h in homes[8:]])  # six at once, two places
    assert len(results) == 2
    assert len(errors) == 4 and all(isinstance(e, RuleViolation) for e in errors)
    assert Assignment.objects.filter(contact=c, ended_at__isnull=True).count() == 10
    assert ContactPerson.objects.get(pk=c.pk).open_households == 10


def test_two_contacts_racing_for_one_household_leave_one_and_the_counters_right(cast):
    c1, c2 = contact(cast.county_admin, 1), contact(cast.county_admin, 2)
    h = household(cast.station_admin, 1)

    def assign(contact_id: int) -> Any:
        def call() -> int:
            return services.assignment_create(
                actor=User.objects.get(pk=cast.station_admin.pk),
                household=Household.objects.get(pk=h.pk),
                contact=ContactPerson.objects.get(pk=contact_id),
                kind="group",
            ).pk

        return call

    results, errors = race([assign(c1.pk), assign(c2.pk)])
    assert len(results) == 1 and len(errors) == 1
    counters = sorted(ContactPerson.objects.values_list("open_households", flat=True))
    assert counters == [0, 1]
