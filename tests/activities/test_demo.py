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


def test_the_demo_always_has_a_majuang_activity_open_for_check_in(db):
    """README step 10: the station admin of 马庄 checks in the demo volunteer, whatever
    the date the demo is started on (each `wenming demo` start loads the demo again)."""
    import datetime as dt

    import time_machine
    from django.utils import timezone

    from wenming.accounts.models import User
    from wenming.activities.demo import CHECKIN_DEMO_TITLE
    from wenming.records import services as records
    from wenming.records.checkin import token_for

    def open_now() -> Activity:
        now = timezone.now()
        a = Activity.objects.filter(title=CHECKIN_DEMO_TITLE).order_by("-starts_at").first()
        assert a is not None and a.unit.region_id == "320305005204" and a.unit.kind == "station"
        assert a.starts_at <= now < a.ends_at - dt.timedelta(hours=1)
        return a

    demo_load()
    first = open_now()
    liu = User.objects.get_by_phone("13800000005")
    assert SignUp.objects.filter(activity=first, volunteer__user=liu).exists()
    later = timezone.now() + dt.timedelta(days=40)
    with time_machine.travel(later, tick=False):
        demo_load()
        second = open_now()
        assert second.pk != first.pk
        now = timezone.now()
        records.attendance_check_in(
            actor=liu, activity=second, token=token_for(second.pk, now), now=now
        )
