"""The activity state machine, editing rules and sign-up rules: every allowed and every
refused transition, and that a refused action changes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.activities.helpers import (
    activity_input,
    audit_count,
    make_activity,
    published,
    require_approval,
    volunteer_user,
)
from wenming.activities import services
from wenming.activities.models import Activity, ActivityState, SignUp, SignUpState, Subcategory
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.core.models import AuditEvent
from wenming.volunteers.models import Volunteer, VolunteerStatus

S = ActivityState
APPROVAL_ACTIONS = {"submit", "approve", "reject"}


def state_of(activity: Activity) -> str:
    return Activity.objects.get(pk=activity.pk).state


# ---------------------------------------------------------------- the state machine


CASES = [(action, state) for action in services.TRANSITIONS for state in S.values]


@pytest.mark.parametrize(("action", "state"), CASES)
def test_every_transition_from_every_state(cast, net, action, state):
    """Allowed: the state moves to the target, one audit event says who and why.
    Refused: a RuleViolation, and nothing changed."""
    transition = services.TRANSITIONS[action]
    require_approval(net.station, action in APPROVAL_ACTIONS)
    activity = make_activity(cast.station_admin, net.station, state)
    actor = cast.institute_admin if transition.by == "approver" else cast.station_admin
    before = audit_count()
    if state in transition.sources:
        result = services.activity_transition(
            actor=actor, activity=activity, action=action, reason="理由"
        )
        assert result.state == state_of(activity) == transition.target
        event = AuditEvent.objects.get(verb=f"activity.{action}")
        assert event.changes == {"state": [state, transition.target]}
        assert (event.actor, event.note) == (actor, "理由")
        assert audit_count() == before + 1
    else:
        with pytest.raises(RuleViolation):
            services.activity_transition(
                actor=actor, activity=activity, action=action, reason="理由"
            )
        assert state_of(activity) == state
        assert audit_count() == before


def test_the_table_is_the_lifecycle():
    table = {a: (sorted(t.sources), t.target) for a, t in services.TRANSITIONS.items()}
    assert table == {
        "submit": (["draft"], "submitted"),
        "approve": (["submitted"], "published"),
        "reject": (["submitted"], "draft"),
        "publish": (["draft"], "published"),
        "start": (["published"], "ongoing"),
        "finish": (["ongoing"], "finished"),
        "cancel": (["draft", "ongoing", "published", "submitted"], "cancelled"),
    }


def test_unknown_action_is_refused(cast, net):
    activity = make_activity(cast.station_admin, net.station)
    with pytest.raises(RuleViolation):
        services.activity_transition(actor=cast.station_admin, activity=activity, action="boom")
    assert state_of(activity) == S.DRAFT


def test_publish_needs_approval_when_the_unit_requires_it(cast, net):
    require_approval(net.station)
    activity = make_activity(cast.station_admin, net.station)
    before = audit_count()
    with pytest.raises(RuleViolation, match="须经上级单位审核"):
        services.activity_transition(action="publish", actor=cast.station_admin, activity=activity)
    assert (state_of(activity), audit_count()) == (S.DRAFT, before)
    services.activity_transition(action="submit", actor=cast.station_admin, activity=activity)
    services.activity_transition(action="approve", actor=cast.institute_admin, activity=activity)
    assert state_of(activity) == S.PUBLISHED


def test_submit_is_refused_without_an_approval_policy(cast, net):
    activity = make_activity(cast.station_admin, net.station)
    before = audit_count()
    with pytest.raises(RuleViolation, match="无需审核"):
        services.activity_transition(action="submit", actor=cast.station_admin, activity=activity)
    assert (state_of(activity), audit_count()) == (S.DRAFT, before)


def test_the_owning_unit_cannot_approve_itself(cast, net):
    require_approval(net.station)
    activity = make_activity(cast.station_admin, net.station, S.SUBMITTED)
    before = audit_count()
    for action in ("approve", "reject"):
        with pytest.raises(Forbidden):
            services.activity_transition(
                actor=cast.station_admin, activity=activity, action=action, reason="x"
            )
    assert (state_of(activity), audit_count()) == (S.SUBMITTED, before)


def test_an_institute_activity_is_approved_by_the_center(cast, net):
    require_approval(net.institute)
    activity = make_activity(cast.institute_admin, net.institute, S.SUBMITTED)
    with pytest.raises(Forbidden):
        services.activity_transition(
            action="approve", actor=cast.institute_admin, activity=activity
        )
    services.activity_transition(action="approve", actor=cast.county_admin, activity=activity)
    assert state_of(activity) == S.PUBLISHED


@pytest.mark.parametrize("action", ["reject", "cancel"])
def test_reject_and_cancel_need_a_reason(cast, net, action):
    require_approval(net.station)
    activity = make_activity(cast.station_admin, net.station, S.SUBMITTED)
    actor = cast.institute_admin
    before = audit_count()
    with pytest.raises(RuleViolation) as exc:
        services.activity_transition(actor=actor, activity=activity, action=action, reason="  ")
    assert exc.value.field == "reason"
    assert (state_of(activity), audit_count()) == (S.SUBMITTED, before)


def test_publishing_after_the_signup_deadline_is_refused(cast, net):
    past = timezone.now() - dt.timedelta(hours=1)
    activity = make_activity(
        cast.station_admin, net.station, starts_at=past, ends_at=past + dt.timedelta(hours=3)
    )
    with pytest.raises(RuleViolation, match="报名截止时间已过"):
        services.activity_transition(action="publish", actor=cast.station_admin, activity=activity)
    assert state_of(activity) == S.DRAFT


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("outsider", NotFound),
        ("volunteer", NotFound),
        ("team_leader", Forbidden),
        ("supervisor", Forbidden),
    ],
)
@pytest.mark.parametrize("action", ["publish", "cancel"])
def test_who_may_not_move_an_activity(cast, net, who, error, action):
    activity = make_activity(cast.station_admin, net.station)
    before = audit_count()
    with pytest.raises(error):
        services.activity_transition(
            actor=getattr(cast, who), activity=activity, action=action, reason="x"
        )
    assert (state_of(activity), audit_count()) == (S.DRAFT, before)


@pytest.mark.parametrize("who", ["station_admin", "institute_admin", "county_admin", "sysadmin"])
def test_staff_over_the_unit_may_publish(cast, net, who):
    activity = make_activity(cast.station_admin, net.station)
    services.activity_transition(action="publish", actor=getattr(cast, who), activity=activity)
    assert state_of(activity) == S.PUBLISHED


# ---------------------------------------------------------------- create and edit


def test_create_makes_an_audited_draft(cast, net):
    sub = Subcategory.objects.get(work_item="customs", name="环境整治")
    activity = make_activity(
        cast.station_admin,
        net.station,
        subcategory_id=sub.pk,
        latitude=Decimal("34.4402"),
        longitude=Decimal("117.4563"),
    )
    assert activity.state == S.DRAFT
    assert activity.region_id == net.station.region_id
    assert activity.signup_closes_at == activity.starts_at
    event = AuditEvent.objects.get(verb="activity.create")
    assert event.changes["title"] == [None, "马庄村环境整治"]
    assert event.actor == cast.station_admin


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": " "}, "title"),
        ({"work_item": "other"}, "work_item"),
        ({"venue": ""}, "venue"),
        ({"quota": 0}, "quota"),
        ({"latitude": Decimal("34.1")}, "latitude"),
        ({"latitude": Decimal("91"), "longitude": Decimal("117")}, "latitude"),
        ({"subcategory_id": -1}, "subcategory"),
        ({"skill_ids": [99999]}, "skills"),
    ],
)
def test_create_refuses_bad_input(cast, net, overrides, field):
    before = (Activity.objects.count(), audit_count())
    with pytest.raises(RuleViolation) as exc:
        make_activity(cast.station_admin, net.station, **overrides)
    assert exc.value.field == field
    assert (Activity.objects.count(), audit_count()) == before


def test_create_refuses_end_before_start_and_a_wrong_subcategory(cast, net):
    start = timezone.now() + dt.timedelta(days=1)
    with pytest.raises(RuleViolation) as exc:
        make_activity(cast.station_admin, net.station, starts_at=start, ends_at=start)
    assert exc.value.field == "ends_at"
    theory = Subcategory.objects.filter(work_item="theory").first()
    with pytest.raises(RuleViolation) as exc:
        make_activity(cast.station_admin, net.station, subcategory_id=theory.pk)
    assert exc.value.field == "subcategory"
    assert Activity.objects.count() == 0


@pytest.mark.parametrize(("who", "error"), [("outsider", NotFound), ("supervisor", Forbidden)])
def test_create_outside_the_scope_is_refused(cast, net, who, error):
    with pytest.raises(error):
        make_activity(getattr(cast, who), net.station)
    assert Activity.objects.count() == 0


def test_a_station_cannot_create_for_its_institute(cast, net):
    with pytest.raises(NotFound):  # the institute lies outside the station's scope
        make_activity(cast.station_admin, net.institute)
    assert Activity.objects.count() == 0


def test_edit_a_draft(cast, net):
    activity = make_activity(cast.station_admin, net.station)
    services.activity_update(
        actor=cast.station_admin,
        activity=activity,
        data=activity_input(net.station, title="新名称", starts_at=activity.starts_at),
    )
    activity.refresh_from_db()
    assert activity.title == "新名称"
    event = AuditEvent.objects.get(verb="activity.update")
    assert event.changes == {"title": ["马庄村环境整治", "新名称"]}


def test_a_published_activity_keeps_its_time(cast, net):
    activity = published(cast.station_admin, net.station)
    before = audit_count()
    with pytest.raises(RuleViolation, match="活动已发布"):
        services.activity_update(
            actor=cast.station_admin,
            activity=activity,
            data=activity_input(
                net.station,
                starts_at=activity.starts_at + dt.timedelta(hours=1),
                ends_at=activity.ends_at + dt.timedelta(hours=1),
            ),
        )
    assert audit_count() == before
    assert Activity.objects.get(pk=activity.pk).starts_at == activity.starts_at


@pytest.mark.parametrize("state", [S.SUBMITTED, S.ONGOING, S.FINISHED, S.CANCELLED])
def test_only_drafts_and_published_activities_are_edited(cast, net, state):
    activity = make_activity(cast.station_admin, net.station, state)
    before = audit_count()
    with pytest.raises(RuleViolation, match="不能修改"):
        services.activity_update(
            actor=cast.station_admin,
            activity=activity,
            data=activity_input(net.station, title="x", starts_at=activity.starts_at),
        )
    assert audit_count() == before
    assert Activity.objects.get(pk=activity.pk).title == "马庄村环境整治"


# ---------------------------------------------------------------- sign-up


@pytest.fixture
def people(cast):
    return [volunteer_user(cast.county_admin, n) for n in range(1, 7)]


def signup_counts(activity: Activity) -> tuple[int, int, int]:
    a = Activity.objects.get(pk=activity.pk)
    return (
        a.signed_up_count,
        SignUp.objects.filter(activity=a, state=SignUpState.SIGNED_UP).count(),
        SignUp.objects.filter(activity=a, state=SignUpState.WAITLISTED).count(),
    )


def test_signup_then_waitlist_in_order(cast, net, people):
    activity = published(cast.station_admin, net.station, quota=2)
    results = [services.signup_create(actor=u, activity=activity) for u in people[:4]]
    assert [(s.state, s.position) for s in results] == [
        ("signed_up", None),
        ("signed_up", None),
        ("waitlisted", 1),
        ("waitlisted", 2),
    ]
    assert signup_counts(activity) == (2, 2, 2)
    assert AuditEvent.objects.filter(verb="signup.create").count() == 4


def test_signup_audit_event_is_the_same_on_every_database(cast, net, people):
    # On PostgreSQL the sign-up and its event are one statement; the event must be the
    # one audit_record writes elsewhere.
    activity = published(cast.station_admin, net.station, quota=1)
    placed = services.signup_create(actor=people[0], activity=activity)
    waiting = services.signup_create(actor=people[1], activity=activity)
    events = list(AuditEvent.objects.filter(verb="signup.create").order_by("id"))
    assert [
        (e.actor_id, e.target_type, e.target_id, e.target_label, e.region_code, e.changes)
        for e in events
    ] == [
        (
            people[0].pk,
            "activities.signup",
            str(placed.pk),
            f"{activity.pk}:{placed.volunteer_id}:signed_up",
            activity.region_id,
            {"state": [None, "signed_up"], "position": [None, None]},
        ),
        (
            people[1].pk,
            "activities.signup",
            str(waiting.pk),
            f"{activity.pk}:{waiting.volunteer_id}:waitlisted",
            activity.region_id,
            {"state": [None, "waitlisted"], "position": [None, 1]},
        ),
    ]
    from wenming.core.access import actor_label

    assert [e.actor_label for e in events] == [actor_label(people[0]), actor_label(people[1])]
    stored = SignUp.objects.get(pk=waiting.pk)
    assert (stored.state, stored.position) == (waiting.state, waiting.position)


def test_a_duplicate_that_slips_past_the_early_check_changes_nothing(
    cast, net, people, monkeypatch
):
    # Two tabs at once: both pass the early "already signed up?" check; the unique
    # constraint refuses the second, and the counter and the audit log stay right.
    from django.db.models import QuerySet

    activity = published(cast.station_admin, net.station, quota=5)
    services.signup_create(actor=people[0], activity=activity)
    monkeypatch.setattr(QuerySet, "exists", lambda self: False)
    _refused_signup(people[0], activity, "duplicate")


def _refused_signup(user, activity, code, **kw):
    before = (signup_counts(activity), SignUp.objects.count(), audit_count())
    with pytest.raises(RuleViolation) as exc:
        services.signup_create(actor=user, activity=activity, **kw)
    assert exc.value.code == code
    assert (signup_counts(activity), SignUp.objects.count(), audit_count()) == before


def test_signup_twice_is_refused(cast, net, people):
    activity = published(cast.station_admin, net.station)
    services.signup_create(actor=people[0], activity=activity)
    _refused_signup(people[0], activity, "duplicate")


def test_signup_needs_an_active_volunteer(cast, net, people):
    activity = published(cast.station_admin, net.station)
    _refused_signup(cast.station_admin, activity, "not_volunteer")
    Volunteer.objects.filter(user=people[0]).update(status=VolunteerStatus.PENDING)
    _refused_signup(people[0], activity, "not_active")


@pytest.mark.parametrize("state", [S.DRAFT, S.SUBMITTED, S.ONGOING, S.FINISHED, S.CANCELLED])
def test_signup_only_while_published(cast, net, people, state):
    activity = make_activity(cast.station_admin, net.station, state)
    _refused_signup(people[0], activity, "not_open")


def test_signup_only_inside_the_window(cast, net, people):
    start = timezone.now() + dt.timedelta(days=5)
    activity = published(
        cast.station_admin,
        net.station,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        signup_opens_at=start - dt.timedelta(days=2),
        signup_closes_at=start - dt.timedelta(days=1),
    )
    _refused_signup(people[0], activity, "not_open")
    _refused_signup(people[0], activity, "closed", now=start - dt.timedelta(hours=12))
    signup = services.signup_create(
        actor=people[0], activity=activity, now=start - dt.timedelta(days=1, hours=12)
    )
    assert signup.state == SignUpState.SIGNED_UP


def test_cancel_promotes_the_first_on_the_waitlist(cast, net, people):
    activity = published(cast.station_admin, net.station, quota=2)
    first, _second, third, fourth = (
        services.signup_create(actor=u, activity=activity) for u in people[:4]
    )
    services.signup_cancel(actor=people[0], signup=first, reason="临时有事")
    assert SignUp.objects.get(pk=first.pk).state == SignUpState.CANCELLED
    promoted = SignUp.objects.get(pk=third.pk)
    assert (promoted.state, promoted.position) == ("signed_up", None)
    assert promoted.promoted_at is not None
    assert SignUp.objects.get(pk=fourth.pk).position == 2
    assert signup_counts(activity) == (2, 2, 1)
    assert AuditEvent.objects.filter(verb="signup.promote").count() == 1
    # Signing up again after cancelling joins the end of the waitlist.
    again = services.signup_create(actor=people[0], activity=activity)
    assert (again.state, again.position) == ("waitlisted", 3)


def test_cancelling_a_waitlisted_place_promotes_nobody(cast, net, people):
    activity = published(cast.station_admin, net.station, quota=1)
    services.signup_create(actor=people[0], activity=activity)
    waiting = services.signup_create(actor=people[1], activity=activity)
    services.signup_cancel(actor=people[1], signup=waiting)
    assert signup_counts(activity) == (1, 1, 0)
    assert not AuditEvent.objects.filter(verb="signup.promote").exists()


def test_cancel_rules(cast, net, people):
    activity = published(cast.station_admin, net.station)
    signup = services.signup_create(actor=people[0], activity=activity)
    before = (signup_counts(activity), audit_count())
    with pytest.raises(NotFound):
        services.signup_cancel(actor=people[1], signup=signup)
    with pytest.raises(RuleViolation, match="已开始"):
        services.signup_cancel(
            actor=people[0], signup=signup, now=activity.starts_at + dt.timedelta(minutes=1)
        )
    assert (signup_counts(activity), audit_count()) == before
    services.signup_cancel(actor=people[0], signup=signup)
    with pytest.raises(RuleViolation, match="已经取消"):
        services.signup_cancel(actor=people[0], signup=signup)


def test_raising_the_quota_promotes_the_waitlist(cast, net, people):
    activity = published(cast.station_admin, net.station, quota=1)
    for u in people[:3]:
        services.signup_create(actor=u, activity=activity)
    services.activity_update(
        actor=cast.station_admin,
        activity=activity,
        data=activity_input(net.station, quota=2, starts_at=activity.starts_at),
    )
    assert signup_counts(activity) == (2, 2, 1)


def test_the_quota_never_drops_below_the_places_taken(cast, net, people):
    activity = published(cast.station_admin, net.station, quota=2)
    for u in people[:2]:
        services.signup_create(actor=u, activity=activity)
    before = audit_count()
    with pytest.raises(RuleViolation) as exc:
        services.activity_update(
            actor=cast.station_admin,
            activity=activity,
            data=activity_input(net.station, quota=1, starts_at=activity.starts_at),
        )
    assert exc.value.field == "quota"
    assert (Activity.objects.get(pk=activity.pk).quota, audit_count()) == (2, before)


def test_the_database_refuses_more_places_than_the_quota(cast, net):
    from django.db import IntegrityError, transaction

    activity = published(cast.station_admin, net.station, quota=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Activity.objects.filter(pk=activity.pk).update(signed_up_count=2)


# ---------------------------------------------------------------- approval policy


def test_the_unit_above_sets_the_approval_policy(cast, net):
    services.approval_policy_set(
        actor=cast.institute_admin, unit=net.station, approval_required=True
    )
    assert services.approval_required(net.station)
    event = AuditEvent.objects.get(verb="activity.policy")
    assert event.changes == {"approval_required": [None, True]}
    services.approval_policy_set(actor=cast.county_admin, unit=net.station, approval_required=False)
    assert not services.approval_required(net.station)


@pytest.mark.parametrize(
    ("who", "error"),
    [("station_admin", Forbidden), ("supervisor", Forbidden), ("outsider", NotFound)],
)
def test_a_unit_does_not_set_its_own_approval_policy(cast, net, who, error):
    before = audit_count()
    with pytest.raises(error):
        services.approval_policy_set(
            actor=getattr(cast, who), unit=net.station, approval_required=False
        )
    assert not services.approval_required(net.station)
    assert audit_count() == before


# ---------------------------------------------------------------- projects and subcategories


def test_project_create(cast, net):
    project = services.project_create(
        actor=cast.institute_admin, name="幸福巴士", unit_id=net.institute.pk, is_brand=True
    )
    assert (project.region_id, project.is_brand) == (net.institute.region_id, True)
    assert AuditEvent.objects.filter(verb="project.create").count() == 1
    before = audit_count()
    with pytest.raises(RuleViolation) as exc:
        services.project_create(
            actor=cast.institute_admin, name="幸福巴士", unit_id=net.institute.pk
        )
    assert exc.value.field == "name"
    for who, error in [("outsider", NotFound), ("supervisor", Forbidden)]:
        with pytest.raises(error):
            services.project_create(actor=getattr(cast, who), name="x", unit_id=net.institute.pk)
    assert audit_count() == before


def test_an_activity_joins_a_project_of_its_unit_or_above(cast, net):
    county = services.project_create(
        actor=cast.county_admin, name="文明大篷车", unit_id=net.center.pk
    )
    other = services.project_create(
        actor=cast.county_admin, name="青山泉项目", unit_id=net.other_institute.pk
    )
    activity = make_activity(cast.station_admin, net.station, project_id=county.pk)
    assert activity.project == county
    with pytest.raises(RuleViolation) as exc:
        make_activity(cast.station_admin, net.station, project_id=other.pk)
    assert exc.value.field == "project"


def test_subcategories_are_configured_by_system_admins(cast):
    row = services.subcategory_save(
        actor=cast.sysadmin, work_item="culture", name="戏曲进村", sort=5
    )
    event = AuditEvent.objects.get(verb="subcategory.save")
    assert event.region_code == "320000000000"
    services.subcategory_save(
        actor=cast.sysadmin, work_item="culture", name="戏曲进村", is_active=False, subcategory=row
    )
    assert not Subcategory.objects.get(pk=row.pk).is_active
    before = (Subcategory.objects.count(), audit_count())
    with pytest.raises(Forbidden):
        services.subcategory_save(actor=cast.county_admin, work_item="culture", name="新子类")
    with pytest.raises(RuleViolation):
        services.subcategory_save(actor=cast.sysadmin, work_item="culture", name="广场舞")
    assert (Subcategory.objects.count(), audit_count()) == before


def test_a_subcategory_in_use_stays_under_its_work_item(cast, net):
    sub = Subcategory.objects.get(work_item="customs", name="环境整治")
    make_activity(cast.station_admin, net.station, subcategory_id=sub.pk)
    with pytest.raises(RuleViolation) as exc:
        services.subcategory_save(
            actor=cast.sysadmin, work_item="culture", name=sub.name, subcategory=sub
        )
    assert exc.value.field == "work_item"
    assert Subcategory.objects.get(pk=sub.pk).work_item == "customs"


def test_signup_needs_the_skills_the_activity_asks_for(cast, net, people):
    from wenming.volunteers.models import Skill

    first_aid, music = (
        Skill.objects.get_or_create(name="急救")[0],
        Skill.objects.get_or_create(name="器乐")[0],
    )
    activity = published(cast.station_admin, net.station)
    activity.skills.set([first_aid, music])
    volunteer = Volunteer.objects.get(user=people[0])
    volunteer.skills.set([music])
    _refused_signup(people[0], activity, "missing_skills")
    with pytest.raises(RuleViolation) as exc:
        services.signup_create(actor=people[0], activity=activity)
    assert "急救" in exc.value.message and "器乐" not in exc.value.message
    volunteer.skills.add(first_aid)
    assert services.signup_create(actor=people[0], activity=activity).state == "signed_up"
