"""The register's rules: households and masked members, scope, assignment limits,
events with their deadlines, contacts that answer and close them. A refused write
changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.households.helpers import T0, VILLAGE, VILLAGE2, contact, household, state
from wenming.core import crypto
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.core.keyrotation import encrypted_models
from wenming.core.models import AuditEvent
from wenming.households import selectors, services
from wenming.households.models import (
    Assignment,
    ContactPerson,
    EventEntry,
    EventState,
    Household,
    HouseholdMember,
    ReportChannel,
)
from wenming.notifications.models import Notification, OutboxMessage

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- households, masking


def test_household_members_are_stored_encrypted_and_masked(cast):
    h = household(
        cast.station_admin,
        1,
        tags=("empty_nest",),
        members=[
            services.MemberInput("王大山", "head", 1948, "13512340001"),
            services.MemberInput("李小花", "spouse", 1950, ""),
        ],
    )
    head, spouse = HouseholdMember.objects.filter(household=h).order_by("id")
    assert head.name_masked == "王**"
    assert head.phone_masked == "135****0001"
    assert crypto.decrypt(head.name_cipher) == "王大山"
    assert crypto.decrypt(head.phone_cipher) == "13512340001"
    assert head.phone_digest == crypto.digest("13512340001")
    assert "王大山" not in head.name_cipher and "13512340001" not in head.phone_cipher
    assert spouse.phone_cipher == "" and spouse.phone_masked == ""
    assert h.head_masked == "王**"
    assert [t.code for t in h.tags.all()] == ["empty_nest"]
    event = AuditEvent.objects.get(verb="household.create")
    assert "王大山" not in str(event.changes) and "13512340001" not in str(event.changes)


def test_key_rotation_covers_household_members(cast):
    models = {model._meta.label: fields for model, fields in encrypted_models()}
    assert models["households.HouseholdMember"] == (
        ("name_cipher", None),
        ("phone_cipher", "phone_digest"),
    )


def test_reveal_is_audited_and_needs_the_permission(cast):
    h = household(cast.station_admin, 1)
    member = h.members.get()
    value = services.member_reveal(
        actor=cast.institute_admin, member=member, what="phone", reason="回访"
    )
    assert value == "13512340001"
    audit = AuditEvent.objects.get(verb="household.reveal")
    assert audit.changes == {"member": member.pk, "field": "phone"}
    assert "13512340001" not in str(audit.changes) + audit.note
    # The station admin has no PERSONAL_REVEAL; the supervisor only sees: 403. The
    # neighbouring county's admin: 404.
    before = state()
    with pytest.raises(Forbidden):
        services.member_reveal(actor=cast.station_admin, member=member, what="name")
    with pytest.raises(Forbidden):
        services.member_reveal(actor=cast.supervisor, member=member, what="name")
    with pytest.raises(NotFound):
        services.member_reveal(actor=cast.outsider, member=member, what="name")
    assert state() == before


def test_the_contact_person_may_reveal_their_households_numbers(cast):
    h = household(cast.station_admin, 1)
    c = contact(cast.county_admin)
    services.assignment_create(actor=cast.station_admin, household=h, contact=c, kind="group")
    member = h.members.get()
    assert services.member_reveal(actor=c.user, member=member, what="name") == "王大1"


def test_a_household_in_another_village_is_invisible_to_a_station_admin(cast):
    mine = household(cast.station_admin, 1)
    other = household(cast.institute_admin, 2, region=VILLAGE2)
    listed = set(selectors.household_list(actor=cast.station_admin).values_list("pk", flat=True))
    assert listed == {mine.pk}
    with pytest.raises(NotFound):
        selectors.household_get(actor=cast.station_admin, household_id=other.pk)
    with pytest.raises(NotFound):
        selectors.household_get(actor=cast.outsider, household_id=mine.pk)
    assert selectors.household_get(actor=cast.supervisor, household_id=other.pk) == other
    before = state()
    with pytest.raises(NotFound):
        services.event_report(
            actor=cast.station_admin, household=other, kind="illness", summary="住院"
        )
    assert state() == before


def test_create_is_refused_for_read_only_and_outsiders_and_bad_input(cast):
    before = state()
    with pytest.raises(Forbidden):
        household(cast.supervisor, 1)
    with pytest.raises(NotFound):
        household(cast.outsider, 1)
    with pytest.raises(RuleViolation) as exc:
        household(cast.institute_admin, 1, region="320305005000")  # a town, not a village
    assert exc.value.field == "region"
    with pytest.raises(RuleViolation) as exc:
        household(
            cast.station_admin,
            1,
            members=[
                services.MemberInput("甲", "head"),
                services.MemberInput("乙", "head"),
            ],
        )
    assert exc.value.field == "relation"
    with pytest.raises(RuleViolation) as exc:
        household(cast.station_admin, 1, members=[services.MemberInput("甲", "head", None, "123")])
    with pytest.raises(RuleViolation) as exc:
        household(cast.station_admin, 1, tags=("nonsense",))
    assert exc.value.field == "tags"
    assert state() == before


def test_search_by_member_phone_uses_the_keyed_hash(cast):
    h = household(cast.station_admin, 7)
    household(cast.station_admin, 8)
    found = selectors.household_list(actor=cast.station_admin, search="13512340007")
    assert [x.pk for x in found] == [h.pk]


# ---------------------------------------------------------------- assignments


def test_the_eleventh_household_is_refused(cast):
    c = contact(cast.county_admin)
    homes = [household(cast.station_admin, n) for n in range(11)]
    for h in homes[:10]:
        services.assignment_create(actor=cast.station_admin, household=h, contact=c, kind="group")
    c.refresh_from_db()
    assert c.open_households == 10
    before = state()
    with pytest.raises(RuleViolation) as exc:
        services.assignment_create(
            actor=cast.station_admin, household=homes[10], contact=c, kind="group"
        )
    assert exc.value.code == "assignment_limit"
    assert state() == before
    # Ending one frees a place.
    services.assignment_end(
        actor=cast.station_admin, assignment=Assignment.objects.first(), reason="搬迁"
    )
    services.assignment_create(
        actor=cast.station_admin, household=homes[10], contact=c, kind="group"
    )
    c.refresh_from_db()
    assert c.open_households == 10


def test_the_limit_is_a_setting_and_the_coverage_view_shows_who_is_over_it(cast):
    c = contact(cast.county_admin)
    homes = [household(cast.station_admin, n) for n in range(4)]
    for h in homes[:3]:
        services.assignment_create(actor=cast.station_admin, household=h, contact=c, kind="group")
    services.household_policy_set(
        actor=cast.county_admin,
        region_code="320305000000",
        assignment_limit=2,
        response_hours={},
        cadence_days={"empty_nest": 7},
    )
    with pytest.raises(RuleViolation):
        services.assignment_create(
            actor=cast.station_admin, household=homes[3], contact=c, kind="group"
        )
    cov = selectors.coverage(actor=cast.station_admin)
    assert cov.households == 4 and cov.covered == 3 and cov.uncovered_count == 1
    assert [h.pk for h in cov.uncovered] == [homes[3].pk]
    assert [x.pk for x in cov.over_limit] == [c.pk]
    # Only the county (or above) sets it; a station admin may not.
    with pytest.raises(Forbidden):
        services.household_policy_set(
            actor=cast.station_admin,
            region_code=VILLAGE,
            assignment_limit=5,
            response_hours={},
            cadence_days={},
        )


def test_one_to_one_pairing_is_one_per_person_and_per_household(cast):
    c1, c2 = contact(cast.county_admin, 1), contact(cast.county_admin, 2)
    h1, h2 = household(cast.station_admin, 1), household(cast.station_admin, 2)
    services.assignment_create(actor=cast.station_admin, household=h1, contact=c1, kind="pair")
    before = state()
    with pytest.raises(RuleViolation) as exc:
        services.assignment_create(actor=cast.station_admin, household=h2, contact=c1, kind="pair")
    assert exc.value.code == "pair_taken"
    with pytest.raises(RuleViolation) as exc:
        services.assignment_create(actor=cast.station_admin, household=h1, contact=c2, kind="pair")
    assert exc.value.code == "already_assigned"
    assert state() == before
    # A pairing does not count against the 1+10 limit; both kinds may coexist.
    services.assignment_create(actor=cast.station_admin, household=h1, contact=c2, kind="group")
    assert ContactPerson.objects.get(pk=c1.pk).open_households == 0


def test_a_second_group_contact_for_one_household_is_refused_and_the_counter_kept(cast):
    c1, c2 = contact(cast.county_admin, 1), contact(cast.county_admin, 2)
    h = household(cast.station_admin, 1)
    services.assignment_create(actor=cast.station_admin, household=h, contact=c1, kind="group")
    before = state()
    with pytest.raises(RuleViolation):
        services.assignment_create(actor=cast.station_admin, household=h, contact=c2, kind="group")
    assert state() == before


def test_assignments_are_refused_for_read_only_and_outsiders(cast):
    c = contact(cast.county_admin)
    h = household(cast.station_admin, 1)
    before = state()
    with pytest.raises(Forbidden):
        services.assignment_create(actor=cast.supervisor, household=h, contact=c, kind="group")
    with pytest.raises(NotFound):
        services.assignment_create(actor=cast.outsider, household=h, contact=c, kind="group")
    assert state() == before


def test_a_contact_person_must_be_a_volunteer_or_a_cadre(cast):
    from tests.conftest import make_user

    nobody = make_user("13700000001", "路人")
    before = state()
    with pytest.raises(RuleViolation):
        services.contact_person_add(actor=cast.station_admin, user=nobody, region_code=VILLAGE)
    assert state() == before
    cadre = services.contact_person_add(
        actor=cast.county_admin, user=cast.station_admin, region_code=VILLAGE
    )
    assert cadre.is_cadre and cadre.volunteer is None


# ---------------------------------------------------------------- events and contacts


@pytest.mark.parametrize(
    ("kind", "hours"), [("emergency", 2), ("bereavement", 24), ("happy", 72), ("dispute", 72)]
)
def test_response_deadline_by_kind(cast, kind, hours):
    h = household(cast.station_admin, 1)
    event = services.event_report(
        actor=cast.station_admin, household=h, kind=kind, summary="情况", now=T0
    )
    assert event.due_at - event.reported_at == dt.timedelta(hours=hours)
    assert event.channel == ReportChannel.STAFF
    assert event.state == EventState.OPEN


def test_response_limits_are_settings(cast):
    services.household_policy_set(
        actor=cast.county_admin,
        region_code="320305000000",
        assignment_limit=10,
        response_hours={"emergency": 1, "illness": 12},
        cadence_days={},
    )
    h = household(cast.station_admin, 1)
    e = services.event_report(
        actor=cast.station_admin, household=h, kind="emergency", summary="x", now=T0
    )
    i = services.event_report(
        actor=cast.station_admin, household=h, kind="illness", summary="x", now=T0
    )
    b = services.event_report(
        actor=cast.station_admin, household=h, kind="bereavement", summary="x", now=T0
    )
    assert (e.due_at - T0, i.due_at - T0, b.due_at - T0) == (
        dt.timedelta(hours=1),
        dt.timedelta(hours=12),
        dt.timedelta(hours=24),
    )


def test_a_visit_by_the_contact_person_answers_then_closes_an_event(cast):
    h = household(cast.station_admin, 1)
    c = contact(cast.county_admin)
    services.assignment_create(actor=cast.station_admin, household=h, contact=c, kind="group")
    staff_event = services.event_report(
        actor=cast.station_admin, household=h, kind="emergency", summary="摔倒", now=T0
    )
    note = Notification.objects.get(verb="household.event")
    assert note.recipient_id == c.user_id and note.url == f"/households/events/{staff_event.pk}/"
    assert OutboxMessage.objects.filter(verb="household.event").count() == 1  # 急事: SMS too
    event = services.event_report(
        actor=c.user, household=h, kind="illness", summary="老人住院", now=T0
    )
    assert Notification.objects.filter(verb="household.event").count() == 1  # not to oneself
    assert event.channel == ReportChannel.CONTACT
    at = T0 + dt.timedelta(hours=3)
    services.visit_log(
        actor=c.user,
        household=h,
        channel="phone",
        notes="已电话慰问",
        event=event,
        happened_at=at,
        now=at,
    )
    event.refresh_from_db()
    assert event.state == EventState.ANSWERED and event.first_contact_at == at
    later = T0 + dt.timedelta(days=1)
    visit = services.visit_log(
        actor=c.user,
        household=h,
        channel="visit",
        notes="上门看望",
        event=event,
        close=True,
        outcome="已出院，恢复良好",
        now=later,
    )
    event.refresh_from_db()
    assert event.state == EventState.CLOSED
    assert event.closed_by == c.user and event.outcome == "已出院，恢复良好"
    assert event.first_contact_at == at  # the first contact stays the first
    assert visit.contact == c
    h.refresh_from_db()
    assert h.last_contact_at == later
    texts = list(EventEntry.objects.filter(event=event).values_list("from_state", "to_state"))
    assert texts == [("", "open"), ("open", "answered"), ("answered", "closed")]


def test_a_closed_event_cannot_be_closed_again_and_nothing_changes(cast):
    h = household(cast.station_admin, 1)
    event = services.event_report(
        actor=cast.station_admin, household=h, kind="happy", summary="婚礼", now=T0
    )
    services.visit_log(
        actor=cast.station_admin, household=h, channel="visit", event=event, close=True,
        outcome="已送贺礼", happened_at=T0 + dt.timedelta(hours=1), now=T0 + dt.timedelta(hours=1),
    )  # fmt: skip
    before = state()
    with pytest.raises(RuleViolation):
        services.visit_log(
            actor=cast.station_admin, household=h, channel="visit", event=event, close=True,
            outcome="再次", now=T0 + dt.timedelta(hours=2),
        )  # fmt: skip
    with pytest.raises(RuleViolation):
        services.event_cancel(actor=cast.station_admin, event=event, reason="重复")
    assert state() == before


def test_visits_are_refused_to_strangers_and_in_the_future(cast):
    h = household(cast.station_admin, 1)
    stranger = contact(cast.county_admin, 5)  # a contact person, but not of this household
    before = state()
    with pytest.raises(NotFound):
        services.visit_log(actor=stranger.user, household=h, channel="visit")
    with pytest.raises(Forbidden):
        services.visit_log(actor=cast.supervisor, household=h, channel="visit")
    with pytest.raises(RuleViolation):
        services.visit_log(
            actor=cast.station_admin, household=h, channel="visit",
            happened_at=T0 + dt.timedelta(hours=1), now=T0,
        )  # fmt: skip
    with pytest.raises(RuleViolation):
        services.visit_log(actor=cast.station_admin, household=h, channel="telepathy")
    assert state() == before


def test_cancel_needs_a_reason_and_the_manager(cast):
    h = household(cast.station_admin, 1)
    event = services.event_report(
        actor=cast.station_admin, household=h, kind="petition", summary="x"
    )
    before = state()
    with pytest.raises(RuleViolation):
        services.event_cancel(actor=cast.station_admin, event=event, reason=" ")
    with pytest.raises(Forbidden):
        services.event_cancel(actor=cast.supervisor, event=event, reason="重复")
    assert state() == before
    services.event_cancel(actor=cast.station_admin, event=event, reason="重复上报")
    event.refresh_from_db()
    assert event.state == EventState.CANCELLED


def test_the_household_reports_through_its_card_code(cast):
    h = household(cast.station_admin, 1)
    event = services.event_report_by_household(
        code=h.report_code.lower(), kind="difficulty", summary="屋顶漏雨", phone="13512349999"
    )
    assert event.channel == ReportChannel.HOUSEHOLD and event.reported_by is None
    assert event.reporter_phone_masked == "135****9999"
    before = state()
    with pytest.raises(NotFound):
        services.event_report_by_household(code="WRONGCODE1", kind="difficulty", summary="x")
    old = h.report_code
    services.report_code_reset(actor=cast.station_admin, household=h)
    with pytest.raises(NotFound):
        services.event_report_by_household(code=old, kind="difficulty", summary="x")
    assert Household.objects.get(pk=h.pk).report_code != old
    assert len(state()[4]) == len(before[4])  # no event was added


def test_no_table_holds_a_members_plaintext_name_or_phone(cast):
    """Dump every table with raw SQL after a create, a reveal and a reported event."""
    from django.db import connection

    h = household(
        cast.station_admin,
        1,
        members=[services.MemberInput("欧阳明月", "head", 1950, "13512347777")],
    )
    services.member_reveal(actor=cast.institute_admin, member=h.members.get(), what="phone")
    services.event_report_by_household(
        code=h.report_code, kind="illness", summary="发烧", phone="13512348888"
    )
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            dump = str(cursor.fetchall())
            for secret in ("欧阳明月", "13512347777", "13512348888"):
                assert secret not in dump, (table, secret)


def test_a_household_leaving_the_register_frees_its_contact_persons_place(cast):
    c = contact(cast.county_admin)
    h = household(cast.station_admin, 1)
    services.assignment_create(actor=cast.station_admin, household=h, contact=c, kind="group")
    services.household_update(
        actor=cast.station_admin, household=h, address=h.address, tag_codes=(), is_active=False
    )
    assert ContactPerson.objects.get(pk=c.pk).open_households == 0
    assert not Assignment.objects.filter(ended_at__isnull=True).exists()
    assert selectors.coverage(actor=cast.station_admin).households == 0


def test_an_event_of_a_household_without_contact_person_goes_to_the_station(cast):
    h = household(cast.station_admin, 1)
    services.event_report_by_household(code=h.report_code, kind="emergency", summary="着火")
    note = Notification.objects.get(verb="household.event")
    assert note.recipient_id == cast.station_admin.pk
    services.event_report(actor=cast.station_admin, household=h, kind="happy", summary="x")
    assert Notification.objects.filter(verb="household.event").count() == 1  # not to oneself


def test_the_households_own_reports_are_rate_limited_in_the_service(cast):
    """The limit is the service's, so no caller (page, API, script) gets round it."""
    from django.core.cache import cache

    h = household(cast.station_admin, 1)
    for n in range(services.REPORTS_PER_CODE_PER_HOUR):
        services.event_report_by_household(code=h.report_code, kind="happy", summary=f"喜事{n}")
    before = state()
    with pytest.raises(RuleViolation) as caught:
        services.event_report_by_household(code=h.report_code, kind="happy", summary="再报")
    assert caught.value.code == "rate_limited"
    assert state() == before
    cache.clear()
