"""The demo activities: all five work items, past and upcoming, sign-ups that match the
counters, and a second load changes no row."""

from __future__ import annotations

from django.db.models import Count, Q

from tests.network.snapshot import db_state
from wenming.activities.models import Activity, Project, SignUp, WorkItem
from wenming.core.demo import demo_load


def activity_state() -> dict[str, list[object]]:
    return {
        **db_state(),
        "projects": list(Project.objects.order_by("pk").values()),
        "activities": list(Activity.objects.order_by("pk").values()),
        "signups": list(SignUp.objects.order_by("pk").values()),
    }


def test_demo_activities(db):
    result = demo_load()
    assert result["activities"] == {"projects": 2, "activities": 12, "signups": 57}
    assert set(Project.objects.values_list("name", flat=True)) == {"幸福巴士", "文明大篷车"}
    assert set(Activity.objects.values_list("work_item", flat=True)) == set(WorkItem.values)
    assert {"published", "finished"} == set(Activity.objects.values_list("state", flat=True))
    rows = Activity.objects.annotate(
        taken=Count("signups", filter=Q(signups__state="signed_up"))
    ).values_list("signed_up_count", "taken", "quota")
    assert all(count == taken <= quota for count, taken, quota in rows)
    assert SignUp.objects.filter(state="waitlisted").exists()
    assert SignUp.objects.filter(volunteer__user__isnull=False).exists()  # the demo login


def test_demo_activities_load_once(db):
    demo_load()
    before = activity_state()
    assert demo_load()["activities"] == {"projects": 0, "activities": 0, "signups": 0}
    assert activity_state() == before
