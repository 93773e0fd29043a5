"""Certificate rules: what the hours count (only the issuing unit's confirmed records in
the period, reversals included), zero hours refused, who may issue, reject and revoke,
the number, the signature and verification, and the database trigger that keeps the
signed fields from changing. A refused write changes nothing."""

from __future__ import annotations

import copy
import datetime as dt
import re

import pytest
from django.db import IntegrityError, connection, transaction

from tests.certificates.helpers import D1, D2, END, START, record, state
from wenming.certificates import services, signing
from wenming.certificates.models import Certificate, CertificateRequest, RequestStatus
from wenming.certificates.services import Verdict
from wenming.core.crypto import mask_name
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.core.models import AuditEvent
from wenming.records.models import RecordStatus

TODAY = dt.date(2026, 7, 1)


def issue(actor, unit, volunteer, start=START, end=END, **kw):
    return services.certificate_issue(
        actor=actor, unit=unit, volunteer=volunteer, period_start=start, period_end=end, **kw
    )


def ask(user, unit, start=START, end=END):
    return services.certificate_request(
        actor=user, unit=unit, period_start=start, period_end=end, note="升学用", today=TODAY
    )


# ---------------------------------------------------------------- what counts


def test_issue_freezes_the_fields_and_signs_them(cast, net, vol, hours):
    _, volunteer = vol
    cert = issue(cast.station_admin, net.station, volunteer)
    assert cert.minutes == 270
    assert cert.hours == "4.5"
    assert cert.volunteer_number == volunteer.number
    assert cert.volunteer_name == volunteer.name
    assert cert.id_masked == volunteer.id_masked and "*" in cert.id_masked
    assert cert.id_type == volunteer.id_type
    assert cert.unit_name == net.station.name
    assert cert.content == "马庄村环境整治、敬老院包饺子"
    assert cert.person_in_charge == "张站长"
    assert cert.handler == cast.station_admin.name
    assert re.fullmatch(r"320305-\d{4}-000001-[2-9A-HJ-NP-Z]{6}", cert.number)
    assert signing.signature_ok(cert)
    assert services.certificate_verify(number=cert.number).verdict == Verdict.VALID
    event = AuditEvent.objects.get(verb="certificate.issue")
    assert event.target_id == str(cert.pk)
    assert event.changes["minutes"] == [None, 270]


def test_only_the_units_own_confirmed_records_in_the_period_count(cast, net, vol):
    _, volunteer = vol
    record(volunteer, net.station, 120)
    record(volunteer, net.station, 60, status=RecordStatus.PENDING)
    rejected = record(volunteer, net.station, 60, status=RecordStatus.PENDING)
    rejected.status = RecordStatus.REJECTED
    rejected.reason = "未到场"
    rejected.save()
    record(volunteer, net.station2, 600)  # another unit
    record(volunteer, net.institute, 600)  # the parent unit is another unit too
    record(volunteer, net.station, 600, date=END + dt.timedelta(days=1))  # after the period
    record(volunteer, net.station, 600, date=START - dt.timedelta(days=1))  # before it
    wrong = record(volunteer, net.station, 240, date=D2)
    record(volunteer, net.station, -240, date=D2, reverses=wrong)  # a reversal
    record(volunteer, net.station, 30, date=D2)  # its replacement
    cert = issue(cast.county_admin, net.station, volunteer)
    assert cert.minutes == 150
    assert "马庄村环境整治" in cert.content


def test_another_volunteers_records_do_not_count(cast, net, vol, other_vol):
    _, volunteer = vol
    record(other_vol[1], net.station, 600)
    record(volunteer, net.station, 60)
    assert issue(cast.county_admin, net.station, volunteer).minutes == 60


@pytest.mark.parametrize(
    "make",
    [
        lambda v, net: None,  # nothing at all
        lambda v, net: record(v, net.station, 60, status=RecordStatus.PENDING),
        lambda v, net: record(v, net.station2, 60),  # another unit's
        lambda v, net: record(  # fully reversed
            v, net.station, -60, reverses=record(v, net.station, 60)
        ),
    ],
)
def test_zero_hours_is_refused_and_changes_nothing(cast, net, vol, make):
    _, volunteer = vol
    make(volunteer, net)
    before = state()
    with pytest.raises(RuleViolation) as exc:
        issue(cast.county_admin, net.station, volunteer)
    assert exc.value.code == "zero_hours"
    assert state() == before


def test_the_database_refuses_a_certificate_without_hours(cast, net, vol, hours):
    cert = issue(cast.county_admin, net.station, vol[1])
    clone = copy.copy(cert)
    clone.pk = None
    clone.number = "320305-2026-999999"
    clone.minutes = 0
    with pytest.raises(IntegrityError), transaction.atomic():
        clone.save()


def test_numbers_end_in_random_check_characters(cast, net, vol, other_vol, hours):
    # The public verify page cannot be walked through by counting.
    record(other_vol[1], net.station, 60)
    first = issue(cast.county_admin, net.station, vol[1])
    second = issue(cast.county_admin, net.station, other_vol[1])
    assert first.number[-6:] != second.number[-6:]  # 1 in 2^30 to collide
    other = "2" if first.number[-6] != "2" else "3"
    guessed = first.number[:-6] + other + first.number[-5:]
    assert services.certificate_verify(number=guessed).verdict == Verdict.UNKNOWN


def test_numbers_run_per_county_and_year(cast, net, vol, other_vol, hours):
    record(other_vol[1], net.station, 60)
    first = issue(cast.county_admin, net.station, vol[1])
    second = issue(cast.county_admin, net.station, other_vol[1])
    a, b = first.number.split("-"), second.number.split("-")
    assert a[:2] == b[:2]
    assert int(b[2]) == int(a[2]) + 1


# ---------------------------------------------------------------- who may


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("outsider", NotFound),
        ("supervisor", Forbidden),
        ("team_leader", Forbidden),
        ("volunteer", NotFound),
    ],
)
def test_who_may_not_issue(cast, net, vol, hours, who, error):
    before = state()
    with pytest.raises(error):
        issue(getattr(cast, who), net.station, vol[1])
    assert state() == before


def test_a_station_admin_may_not_issue_for_the_parent_institute(cast, net, vol):
    record(vol[1], net.institute, 60)
    before = state()
    with pytest.raises(NotFound):  # the village's admin does not see the town's unit
        issue(cast.station_admin, net.institute, vol[1])
    assert state() == before


# ---------------------------------------------------------------- requests


def test_request_then_issue_answers_it(cast, net, vol, hours):
    user, _volunteer = vol
    req = ask(user, net.station)
    assert req.status == RequestStatus.REQUESTED and req.region_id == net.station.region_id
    cert = services.certificate_issue_request(actor=cast.station_admin, request=req)
    req.refresh_from_db()
    assert req.status == RequestStatus.ISSUED
    assert req.answered_by == cast.station_admin
    assert cert.request_id == req.pk and cert.minutes == 270
    before = state()
    with pytest.raises(RuleViolation):  # answered already
        services.certificate_issue_request(actor=cast.station_admin, request=req)
    assert state() == before


def test_request_refused_without_hours_at_the_unit(cast, net, vol, hours):
    user, _ = vol
    before = state()
    with pytest.raises(RuleViolation) as exc:
        ask(user, net.station2)
    assert exc.value.field == "unit"
    assert state() == before


@pytest.mark.parametrize(
    ("start", "end"),
    [(END, START), (TODAY + dt.timedelta(days=1), TODAY + dt.timedelta(days=2))],
)
def test_request_refused_with_a_bad_period(cast, net, vol, hours, start, end):
    before = state()
    with pytest.raises(RuleViolation):
        ask(vol[0], net.station, start, end)
    assert state() == before


def test_one_open_request_per_unit(cast, net, vol, hours):
    ask(vol[0], net.station)
    before = state()
    with pytest.raises(RuleViolation) as exc:
        ask(vol[0], net.station, D1, D2)
    assert exc.value.code == "duplicate"
    assert state() == before


def test_staff_without_a_volunteer_record_cannot_request(cast, net):
    with pytest.raises(RuleViolation):
        ask(cast.county_admin, net.station)


def test_reject_a_request_with_a_reason(cast, net, vol, hours):
    req = ask(vol[0], net.station)
    before = state()
    with pytest.raises(RuleViolation):
        services.certificate_reject_request(actor=cast.station_admin, request=req, reason=" ")
    with pytest.raises(Forbidden):
        services.certificate_reject_request(actor=cast.supervisor, request=req, reason="不行")
    with pytest.raises(NotFound):
        services.certificate_reject_request(actor=cast.outsider, request=req, reason="不行")
    assert state() == before
    services.certificate_reject_request(actor=cast.station_admin, request=req, reason="记录待核实")
    req.refresh_from_db()
    assert (req.status, req.reason) == (RequestStatus.REJECTED, "记录待核实")
    # Answered: a new request to the same unit may follow.
    assert ask(vol[0], net.station).pk != req.pk


# ---------------------------------------------------------------- revoke and verify


def test_revoke_then_verify_says_revoked(cast, net, vol, hours):
    cert = issue(cast.county_admin, net.station, vol[1])
    before = state()
    with pytest.raises(RuleViolation):
        services.certificate_revoke(actor=cast.county_admin, certificate=cert, reason="")
    with pytest.raises(Forbidden):
        services.certificate_revoke(actor=cast.supervisor, certificate=cert, reason="错")
    with pytest.raises(NotFound):
        services.certificate_revoke(actor=cast.outsider, certificate=cert, reason="错")
    assert state() == before
    services.certificate_revoke(actor=cast.county_admin, certificate=cert, reason="记录已更正")
    result = services.certificate_verify(number=cert.number)
    assert result.verdict == Verdict.REVOKED
    assert result.certificate.revoked_reason == "记录已更正"
    assert AuditEvent.objects.filter(verb="certificate.revoke", note="记录已更正").count() == 1
    before = state()
    with pytest.raises(RuleViolation):
        services.certificate_revoke(actor=cast.county_admin, certificate=cert, reason="再撤")
    assert state() == before


@pytest.mark.parametrize(
    "number", ["320305-2026-999999", "", "x" * 200, "' OR 1=1 --", "320305\x00", "３２０"]
)
def test_unknown_number(db, number):
    result = services.certificate_verify(number=number)
    assert (result.verdict, result.certificate) == (Verdict.UNKNOWN, None)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("minutes", 2700),
        ("number", "320305-2026-000002"),
        ("volunteer_name", "李四"),
        ("id_masked", "320***********0000"),
        ("volunteer_number", "0000000000"),
        ("period_end", dt.date(2026, 12, 31)),
        ("unit_name", "别的单位"),
        ("signature", "0" * 64),
    ],
)
def test_a_tampered_copy_fails_verification(cast, net, vol, hours, field, value):
    cert = issue(cast.county_admin, net.station, vol[1])
    forged = copy.copy(cert)
    setattr(forged, field, value)
    assert services.certificate_check(forged) == Verdict.TAMPERED
    assert services.certificate_check(cert) == Verdict.VALID


def test_a_different_key_fails_verification(cast, net, vol, hours, settings):
    cert = issue(cast.county_admin, net.station, vol[1])
    settings.WENMING_CERT_KEY = "another-certificate-key-0123456789abcdef"
    assert services.certificate_check(cert) == Verdict.TAMPERED


# ---------------------------------------------------------------- the database trigger


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("minutes", 2700),
        ("number", "'320305-2026-000099'"),
        ("volunteer_name", "'李四'"),
        ("signature", "'00'"),
        ("period_end", "'2026-12-31'"),
    ],
)
def test_the_database_refuses_to_change_a_signed_field(cast, net, vol, hours, column, value):
    cert = issue(cast.county_admin, net.station, vol[1])
    before = list(Certificate.objects.values())
    with (
        pytest.raises(Exception, match="immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            f"UPDATE certificates_certificate SET {column} = {value} WHERE id = %s", [cert.pk]
        )
    assert list(Certificate.objects.values()) == before


def test_the_database_allows_revoking_once_and_never_undoing_it(cast, net, vol, hours):
    cert = issue(cast.county_admin, net.station, vol[1])
    services.certificate_revoke(actor=cast.county_admin, certificate=cert, reason="错")
    with pytest.raises(Exception, match="immutable"), transaction.atomic():
        Certificate.objects.filter(pk=cert.pk).update(
            revoked_at=None, revoked_by=None, revoked_reason=""
        )
    with pytest.raises(Exception, match="immutable"), transaction.atomic():
        Certificate.objects.filter(pk=cert.pk).update(revoked_reason="别的原因")
    assert Certificate.objects.get(pk=cert.pk).revoked_reason == "错"


def test_certificates_protect_what_they_certify(cast, net, vol, hours):
    from django.db.models import ProtectedError

    issue(cast.county_admin, net.station, vol[1])
    with pytest.raises(ProtectedError), transaction.atomic():
        vol[1].delete()


# ---------------------------------------------------------------- masking


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("张小三", "张**"),
        ("欧阳小明", "欧***"),
        ("李", "*"),
        ("", "*"),
        (" 王五 ", "王*"),
    ],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def test_request_model_refuses_a_reversed_period(cast, net, vol):
    with pytest.raises(IntegrityError), transaction.atomic():
        CertificateRequest.objects.create(
            volunteer=vol[1], unit=net.station, region_id=net.station.region_id,
            period_start=END, period_end=START,
        )  # fmt: skip
