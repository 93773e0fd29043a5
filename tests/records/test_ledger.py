"""The service ledger: confirm and reject, who may, the append-only trigger, reversing
corrections, correction requests and answers, and the invariant that a volunteer's
confirmed minutes equal the sum of their confirmed records."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.records.helpers import START, activity, signed_up_volunteer, state, token
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.records import selectors, services
from wenming.records.models import CorrectionStatus, RecordStatus, ServiceRecord
from wenming.volunteers.models import (
    Membership,
    MembershipRole,
    MembershipStatus,
    Team,
    TeamType,
    Volunteer,
)


def served(act, user, minutes=120):
    services.attendance_check_in(actor=user, activity=act, token=token(act, START), now=START)
    at = START + dt.timedelta(minutes=minutes)
    services.attendance_check_out(actor=user, activity=act, token=token(act, at), now=at)
    return ServiceRecord.objects.get(
        volunteer__user=user, activity=act, reverses=None, attendance__isnull=False
    )


@pytest.fixture
def record(cast, act):
    return served(act, signed_up_volunteer(cast.county_admin, act, 1))


def vol_minutes(record):
    v = Volunteer.objects.get(pk=record.volunteer_id)
    return v.confirmed_minutes


def invariant(volunteer_id):
    v = Volunteer.objects.get(pk=volunteer_id)
    assert selectors.confirmed_minutes_sum(volunteer=v) == v.confirmed_minutes


def refused(call, exc=RuleViolation):
    before = state()
    with pytest.raises(exc) as info:
        call()
    assert state() == before
    return info.value


def test_confirm_adds_hours_and_freezes_the_record(cast, record):
    services.record_confirm(actor=cast.station_admin, record=record, evaluation="认真负责")
    record.refresh_from_db()
    assert (record.status, record.confirmed_by_id, record.recorder_id) == (
        RecordStatus.CONFIRMED,
        cast.station_admin.pk,
        cast.station_admin.pk,
    )
    assert record.person_in_charge == cast.station_admin.name
    assert record.evaluation == "认真负责"
    assert vol_minutes(record) == 120
    refused(lambda: services.record_confirm(actor=cast.station_admin, record=record))
    refused(lambda: services.record_reject(actor=cast.station_admin, record=record, reason="x"))


def test_reject_needs_a_reason_and_adds_nothing(cast, record):
    refused(lambda: services.record_reject(actor=cast.station_admin, record=record, reason=""))
    services.record_reject(actor=cast.station_admin, record=record, reason="未实际参加")
    record.refresh_from_db()
    assert (record.status, record.reason) == (RecordStatus.REJECTED, "未实际参加")
    assert vol_minutes(record) == 0


@pytest.mark.parametrize(
    ("who", "exc"),
    [
        ("outsider", NotFound),
        ("supervisor", Forbidden),
        ("team_leader", Forbidden),
        ("volunteer", NotFound),
    ],
)
def test_confirm_denied(cast, record, who, exc):
    refused(lambda: services.record_confirm(actor=getattr(cast, who), record=record), exc)
    refused(
        lambda: services.record_reject(actor=getattr(cast, who), record=record, reason="x"), exc
    )


def test_the_organising_teams_active_leader_may_confirm(cast, net, act, record):
    team = Team.objects.create(
        name="马庄志愿服务队",
        team_type=TeamType.objects.create(name="综合"),
        unit=net.station,
        region=net.village,
    )
    act.team = team
    act.save(update_fields=["team"])
    leader = signed_up_volunteer(cast.county_admin, act, 9)
    membership = Membership.objects.create(
        team=team,
        volunteer=Volunteer.objects.get(user=leader),
        role=MembershipRole.LEADER,
        status=MembershipStatus.PENDING,
    )
    record = ServiceRecord.objects.select_related("activity").get(pk=record.pk)
    refused(lambda: services.record_confirm(actor=leader, record=record), NotFound)
    Membership.objects.filter(pk=membership.pk).update(status=MembershipStatus.ACTIVE)
    services.record_confirm(actor=leader, record=record)
    assert vol_minutes(record) == 120


def test_database_refuses_to_update_a_confirmed_record(cast, record):
    services.record_confirm(actor=cast.station_admin, record=record)
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        ServiceRecord.objects.filter(pk=record.pk).update(minutes=999)
    with (
        pytest.raises(Exception, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE records_servicerecord SET status='pending', confirmed_at=NULL WHERE id=%s",
            [record.pk],
        )
    record.refresh_from_db()
    assert (record.minutes, record.status) == (120, RecordStatus.CONFIRMED)


def test_pending_records_may_still_be_updated(record):
    ServiceRecord.objects.filter(pk=record.pk).update(served_people=3)


def test_database_refuses_a_second_reversal(cast, record):
    services.record_confirm(actor=cast.station_admin, record=record)
    services.record_correct(
        actor=cast.station_admin, record=record, minutes=90, reason="早退半小时"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceRecord.objects.create(
            volunteer_id=record.volunteer_id,
            unit_id=record.unit_id,
            region_id=record.region_id,
            date=record.date,
            place="x",
            content="x",
            minutes=-120,
            reverses=record,
            reason="again",
            status=RecordStatus.CONFIRMED,
            confirmed_at=START,
        )
    refused(
        lambda: services.record_correct(
            actor=cast.station_admin, record=record, minutes=60, reason="再改"
        )
    )


def test_correction_reverses_and_replaces_keeping_the_sum(cast, record):
    services.record_confirm(actor=cast.station_admin, record=record)
    refused(
        lambda: services.record_correct(
            actor=cast.station_admin, record=record, minutes=90, reason=" "
        )
    )
    refused(
        lambda: services.record_correct(
            actor=cast.station_admin, record=record, minutes=-5, reason="x"
        )
    )
    replacement = services.record_correct(
        actor=cast.station_admin, record=record, minutes=90, reason="早退半小时"
    )
    reversal = ServiceRecord.objects.get(reverses=record)
    assert (reversal.minutes, reversal.status, reversal.reason) == (
        -120,
        RecordStatus.CONFIRMED,
        "早退半小时",
    )
    assert replacement is not None and replacement.minutes == 90
    assert vol_minutes(record) == 90
    invariant(record.volunteer_id)
    # The replacement can itself be corrected, down to nothing.
    assert (
        services.record_correct(
            actor=cast.station_admin, record=replacement, minutes=0, reason="未参加"
        )
        is None
    )
    assert vol_minutes(record) == 0
    invariant(record.volunteer_id)
    refused(
        lambda: services.record_correct(
            actor=cast.station_admin, record=reversal, minutes=5, reason="x"
        )
    )


def test_pending_record_cannot_be_corrected(cast, record):
    refused(
        lambda: services.record_correct(
            actor=cast.station_admin, record=record, minutes=5, reason="x"
        )
    )


def test_correction_request_and_accept(cast, act, record):
    services.record_confirm(actor=cast.station_admin, record=record)
    vol = Volunteer.objects.get(pk=record.volunteer_id).user
    refused(lambda: services.correction_request(actor=vol, record=record, reason=""))
    refused(
        lambda: services.correction_request(actor=cast.station_admin, record=record, reason="x"),
        NotFound,
    )
    c = services.correction_request(
        actor=vol, record=record, reason="实际服务了三个小时", proposed_minutes=180
    )
    refused(lambda: services.correction_request(actor=vol, record=record, reason="again"))
    refused(
        lambda: services.correction_answer(
            actor=cast.supervisor, correction=c, accept=True, answer="ok"
        ),
        Forbidden,
    )
    refused(
        lambda: services.correction_answer(
            actor=cast.outsider, correction=c, accept=True, answer="ok"
        ),
        NotFound,
    )
    refused(
        lambda: services.correction_answer(
            actor=cast.station_admin, correction=c, accept=True, answer=""
        )
    )
    c = services.correction_answer(
        actor=cast.station_admin, correction=c, accept=True, answer="核实属实"
    )
    assert (c.status, c.replacement.minutes) == (CorrectionStatus.ACCEPTED, 180)
    assert vol_minutes(record) == 180
    invariant(record.volunteer_id)
    refused(
        lambda: services.correction_answer(
            actor=cast.station_admin, correction=c, accept=False, answer="x"
        )
    )
    refused(lambda: services.correction_request(actor=vol, record=record, reason="again"))


def test_correction_reject_changes_no_hours(cast, record):
    services.record_confirm(actor=cast.station_admin, record=record)
    vol = Volunteer.objects.get(pk=record.volunteer_id).user
    c = services.correction_request(actor=vol, record=record, reason="多记了", proposed_minutes=60)
    c = services.correction_answer(
        actor=cast.station_admin, correction=c, accept=False, answer="签到签退记录无误"
    )
    assert c.status == CorrectionStatus.REJECTED
    assert vol_minutes(record) == 120
    assert not ServiceRecord.objects.filter(reverses=record).exists()
    # A rejected request may be followed by a new one.
    services.correction_request(actor=vol, record=record, reason="补充材料")


def test_bulk_confirm(cast, act):
    users = [signed_up_volunteer(cast.county_admin, act, n) for n in range(1, 4)]
    records = [served(act, u, 60 + n) for n, u in enumerate(users)]
    refused(
        lambda: services.records_confirm_pending(actor=cast.supervisor, activity=act), Forbidden
    )
    assert (
        services.records_confirm_pending(
            actor=cast.station_admin, activity=act, record_ids=[records[0].pk]
        )
        == 1
    )
    assert services.records_confirm_pending(actor=cast.station_admin, activity=act) == 2
    for r in records:
        invariant(r.volunteer_id)
    assert ServiceRecord.objects.filter(status=RecordStatus.CONFIRMED).count() == 3


@hsettings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["serve", "confirm", "reject", "correct"]), st.integers(0, 600)),
        max_size=12,
    )
)
def test_ledger_invariant(cast, net, steps):
    """Whatever sequence of check-outs, confirmations, rejections and corrections, the
    volunteer's confirmed minutes equal the sum of their confirmed records (reversals
    included), and every reversed record is reversed exactly once."""
    with transaction.atomic():
        act = activity(
            cast.county_admin, net.station, title="不变量", ends_at=START + dt.timedelta(hours=12)
        )
        users = [signed_up_volunteer(cast.county_admin, act, n) for n in (71, 72)]
        acts = [act]
        for i, (op, n) in enumerate(steps):
            user = users[n % 2]
            volunteer = Volunteer.objects.get(user=user)
            if op == "serve":
                other = activity(
                    cast.county_admin,
                    net.station,
                    title=f"不变量{i}",
                    ends_at=START + dt.timedelta(hours=12),
                )
                from tests.records.helpers import sign_up

                sign_up(other, user)
                acts.append(other)
                served(other, user, n)
                continue
            pending = (
                ServiceRecord.objects.filter(volunteer=volunteer, status=RecordStatus.PENDING)
                .select_related("activity")
                .first()
            )
            if op in ("confirm", "reject") and pending is not None:
                if op == "confirm":
                    services.record_confirm(actor=cast.station_admin, record=pending)
                else:
                    services.record_reject(actor=cast.station_admin, record=pending, reason="不符")
            if op == "correct":
                target = (
                    ServiceRecord.objects.filter(
                        volunteer=volunteer,
                        status=RecordStatus.CONFIRMED,
                        reverses=None,
                        reversed_by=None,
                    )
                    .select_related("activity")
                    .first()
                )
                if target is not None:
                    services.record_correct(
                        actor=cast.station_admin, record=target, minutes=n, reason="核对"
                    )
            invariant(volunteer.pk)
        for user in users:
            invariant(Volunteer.objects.get(user=user).pk)
            assert Volunteer.objects.get(user=user).confirmed_minutes >= 0
        transaction.set_rollback(True)
