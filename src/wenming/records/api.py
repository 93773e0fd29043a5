"""The records API at /api/records: check-in and check-out by token, manual check-in
and check-out, the service-record list, confirm, reject and correct, and correction
requests and answers — through the same services and selectors as the pages."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from wenming.core.api import ErrorOut, Paging
from wenming.records import selectors, services
from wenming.records.models import Attendance, ServiceRecord

router = Router(tags=["records"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class AttendanceOut(Schema):
    id: int
    activity_id: int
    volunteer_id: int
    checked_in_at: dt.datetime
    checked_in_how: str
    checked_out_at: dt.datetime | None
    checked_out_how: str
    check_in_distance_m: int | None
    manual_reason: str


class RosterAttendanceOut(AttendanceOut):
    volunteer_name: str

    @staticmethod
    def resolve_volunteer_name(obj: Attendance) -> str:
        return obj.volunteer.name


class ScanIn(Schema):
    token: str
    latitude: float | None = None
    longitude: float | None = None


class ManualIn(Schema):
    volunteer_id: int
    action: Literal["in", "out"]
    reason: str
    at: dt.datetime | None = None


class RecordOut(Schema):
    id: int
    volunteer_id: int
    volunteer_name: str
    activity_id: int | None
    date: dt.date
    place: str
    content: str
    served_people: int
    minutes: int
    status: str
    reverses_id: int | None
    reason: str
    evaluation: str
    person_in_charge: str
    recorder_id: int | None
    confirmed_by_id: int | None
    confirmed_at: dt.datetime | None
    created_at: dt.datetime

    @staticmethod
    def resolve_volunteer_name(obj: ServiceRecord) -> str:
        return obj.volunteer.name


class ConfirmIn(Schema):
    evaluation: str = ""


class RejectIn(Schema):
    reason: str


class CorrectIn(Schema):
    minutes: int
    reason: str


class CorrectionIn(Schema):
    reason: str
    proposed_minutes: int | None = None


class CorrectionOut(Schema):
    id: int
    record_id: int
    volunteer_id: int
    reason: str
    proposed_minutes: int | None
    status: str
    answer: str
    answered_at: dt.datetime | None
    replacement_id: int | None
    created_at: dt.datetime


class AnswerIn(Schema):
    accept: bool
    answer: str
    minutes: int | None = None


@router.post("/checkin/{activity_id}", response={200: AttendanceOut, **ERRORS})
def check_in(request: HttpRequest, activity_id: int, payload: ScanIn) -> object:
    """Check the caller in with the token from the activity's QR code (idempotent)."""
    activity = selectors.activity_for_checkin(activity_id=activity_id, actor=request.user)
    return services.attendance_check_in(actor=request.user, activity=activity, **payload.dict())


@router.post("/checkout/{activity_id}", response={200: AttendanceOut, **ERRORS})
def check_out(request: HttpRequest, activity_id: int, payload: ScanIn) -> object:
    """Check the caller out with the QR token; creates the pending record (idempotent)."""
    activity = selectors.activity_for_checkin(activity_id=activity_id)
    return services.attendance_check_out(actor=request.user, activity=activity, **payload.dict())


@router.post("/activities/{activity_id}/manual", response={200: AttendanceOut, **ERRORS})
def manual(request: HttpRequest, activity_id: int, payload: ManualIn) -> object:
    """The organiser checks a volunteer in or out by hand, with a reason."""
    activity = selectors.activity_for_organiser(actor=request.user, activity_id=activity_id)
    call = (
        services.attendance_manual_check_in
        if payload.action == "in"
        else services.attendance_manual_check_out
    )
    return call(
        actor=request.user,
        activity=activity,
        volunteer_id=payload.volunteer_id,
        reason=payload.reason,
        at=payload.at,
    )


@router.get(
    "/activities/{activity_id}/attendance",
    response={200: list[RosterAttendanceOut], 403: ErrorOut, 404: ErrorOut},
)
def attendance_list(request: HttpRequest, activity_id: int) -> object:
    activity = selectors.activity_for_organiser(actor=request.user, activity_id=activity_id)
    return list(Attendance.objects.filter(activity=activity).select_related("volunteer"))


@router.post("/activities/{activity_id}/confirm", response={200: dict[str, int], **ERRORS})
def confirm_pending(request: HttpRequest, activity_id: int) -> object:
    """Confirm every pending record of the activity."""
    activity = selectors.activity_for_organiser(actor=request.user, activity_id=activity_id)
    return {"confirmed": services.records_confirm_pending(actor=request.user, activity=activity)}


@router.get("", response=list[RecordOut])
@paginate(Paging)
def list_records(
    request: HttpRequest, status: str = "", activity_id: int | None = None, mine: bool = False
) -> object:
    """The caller's own records, and the records in their ACTIVITY_VIEW scope."""
    return selectors.record_list(
        actor=request.user, status=status, activity_id=activity_id, mine=mine
    )


@router.get("/corrections", response=list[CorrectionOut])
@paginate(Paging)
def list_corrections(request: HttpRequest, open_only: bool = True) -> object:
    return selectors.correction_list(actor=request.user, open_only=open_only)


@router.get("/{record_id}", response={200: RecordOut, 404: ErrorOut})
def get_record(request: HttpRequest, record_id: int) -> object:
    return selectors.record_get(actor=request.user, record_id=record_id)


@router.post("/{record_id}/confirm", response={200: RecordOut, **ERRORS})
def confirm(request: HttpRequest, record_id: int, payload: ConfirmIn) -> object:
    record = selectors.record_get(actor=request.user, record_id=record_id)
    return services.record_confirm(actor=request.user, record=record, evaluation=payload.evaluation)


@router.post("/{record_id}/reject", response={200: RecordOut, **ERRORS})
def reject(request: HttpRequest, record_id: int, payload: RejectIn) -> object:
    record = selectors.record_get(actor=request.user, record_id=record_id)
    return services.record_reject(actor=request.user, record=record, reason=payload.reason)


@router.post("/{record_id}/correct", response={200: RecordOut | None, **ERRORS})
def correct(request: HttpRequest, record_id: int, payload: CorrectIn) -> object:
    """The organiser corrects a confirmed record: a reversal plus a replacement (returned;
    null when corrected to zero)."""
    record = selectors.record_get(actor=request.user, record_id=record_id)
    return services.record_correct(
        actor=request.user, record=record, minutes=payload.minutes, reason=payload.reason
    )


@router.post("/{record_id}/corrections", response={201: CorrectionOut, **ERRORS})
def request_correction(request: HttpRequest, record_id: int, payload: CorrectionIn) -> object:
    """The volunteer asks the organiser to correct one of their confirmed records."""
    record = selectors.record_get(actor=request.user, record_id=record_id)
    return Status(
        201,
        services.correction_request(
            actor=request.user,
            record=record,
            reason=payload.reason,
            proposed_minutes=payload.proposed_minutes,
        ),
    )


@router.post("/corrections/{correction_id}/answer", response={200: CorrectionOut, **ERRORS})
def answer_correction(request: HttpRequest, correction_id: int, payload: AnswerIn) -> object:
    correction = selectors.correction_get(actor=request.user, correction_id=correction_id)
    return services.correction_answer(
        actor=request.user,
        correction=correction,
        accept=payload.accept,
        answer=payload.answer,
        minutes=payload.minutes,
    )
