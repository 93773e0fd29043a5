"""The service ledger: confirming or rejecting pending records (the volunteer's confirmed
hours move with them), corrections by a reversing entry and a replacement, and the
volunteer's correction requests."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from wenming.accounts.types import Actor, user_of
from wenming.activities.models import Activity
from wenming.activities.permissions import require_organiser
from wenming.core.access import require
from wenming.core.audit import (
    audit_record,
)
from wenming.core.errors import NotFound, RuleViolation
from wenming.core.roles import Perm
from wenming.core.statemachine import StateMachine, Transition
from wenming.records.models import (
    CorrectionRequest,
    CorrectionStatus,
    RecordStatus,
    ServiceRecord,
)
from wenming.volunteers.own import volunteer_of
from wenming.volunteers.services import volunteer_hours_changed

# ---------------------------------------------------------------- who may do what


# A pending record is confirmed (into the ledger, for good) or rejected with a reason.
RECORD_MACHINE = StateMachine(
    [
        Transition("confirm", frozenset({RecordStatus.PENDING}), RecordStatus.CONFIRMED,
                   gettext_lazy("确认"),
                   refused=gettext_lazy("该记录已是“%(state)s”，不能再确认。")),
        Transition("reject", frozenset({RecordStatus.PENDING}), RecordStatus.REJECTED,
                   gettext_lazy("不予确认"), reason_required=True,
                   reason_missing=gettext_lazy("请填写不予确认的原因。"),
                   refused=gettext_lazy("该记录已是“%(state)s”，不能再处理。")),
    ],
    subject=pgettext_lazy("state machine subject", "该记录"),
    field="status",
)  # fmt: skip


def _require_record_organiser(actor: Actor, record: ServiceRecord) -> None:
    if record.activity is not None:
        require_organiser(actor, record.activity)
    else:
        require(actor, Perm.ACTIVITY_MANAGE, record.region_id, view_perm=Perm.ACTIVITY_VIEW)


# ---------------------------------------------------------------- confirming records


def _record_locked(record_id: int) -> ServiceRecord:
    record = (
        ServiceRecord.objects.select_for_update(of=("self",))
        .select_related("activity")
        .filter(pk=record_id)
        .first()
    )
    if record is None:
        raise NotFound(_("找不到该服务记录。"))
    return record


@transaction.atomic
def record_confirm(
    *, actor: Actor, record: ServiceRecord, evaluation: str = "", now: dt.datetime | None = None
) -> ServiceRecord:
    """The organiser or the team leader confirms a pending record: it becomes part of
    the ledger (never to change again) and the volunteer's confirmed hours grow."""
    _require_record_organiser(actor, record)
    locked = _record_locked(record.pk)
    RECORD_MACHINE.check(locked, "confirm")
    locked.status = RecordStatus.CONFIRMED
    locked.confirmed_by = user_of(actor)
    locked.confirmed_at = now or timezone.now()
    locked.recorder = locked.recorder or user_of(actor)
    locked.person_in_charge = locked.person_in_charge or user_of(actor).name
    locked.evaluation = (evaluation or locked.evaluation).strip()[:300]
    locked.save(
        update_fields=[
            "status", "confirmed_by", "confirmed_at", "recorder", "person_in_charge", "evaluation"
        ]
    )  # fmt: skip
    volunteer_hours_changed(volunteer_id=locked.volunteer_id, delta_minutes=locked.minutes)
    audit_record(
        actor=actor,
        verb="record.confirm",
        target=locked,
        region_code=locked.region_id,
        changes={"status": [RecordStatus.PENDING, RecordStatus.CONFIRMED],
                 "minutes": [None, locked.minutes]},
    )  # fmt: skip
    return locked


@transaction.atomic
def record_reject(*, actor: Actor, record: ServiceRecord, reason: str) -> ServiceRecord:
    """The organiser rejects a pending record (no hours), with a reason."""
    _require_record_organiser(actor, record)
    reason = RECORD_MACHINE.reason(RECORD_MACHINE["reject"], reason)
    locked = _record_locked(record.pk)
    transition = RECORD_MACHINE.check(locked, "reject")
    RECORD_MACHINE.move(
        locked,
        transition,
        actor=actor,
        verb="record.reject",
        region_code=locked.region_id,
        reason=reason,
        fields={"reason": reason, "recorder": locked.recorder or actor},
        update_fields=["status", "reason", "recorder"],
    )
    return locked


@transaction.atomic
def records_confirm_pending(
    *, actor: Actor, activity: Activity, record_ids: list[int] | None = None
) -> int:
    """Confirm the activity's pending records (all, or those listed); returns how many."""
    require_organiser(actor, activity)
    pending = ServiceRecord.objects.filter(activity=activity, status=RecordStatus.PENDING)
    if record_ids is not None:
        pending = pending.filter(pk__in=record_ids)
    count = 0
    for record in pending.select_related("activity").order_by("id"):
        record_confirm(actor=actor, record=record)
        count += 1
    return count


# ---------------------------------------------------------------- corrections


@transaction.atomic
def record_correct(
    *,
    actor: Actor,
    record: ServiceRecord,
    minutes: int,
    reason: str,
    now: dt.datetime | None = None,
) -> ServiceRecord | None:
    """Correct a confirmed record the only way the ledger allows: append a reversal
    (the negative of its minutes, with the reason) and, when minutes > 0, a confirmed
    replacement. The volunteer's confirmed minutes move by the difference. A record is
    reversed at most once (the database refuses a second reversal). Returns the
    replacement."""
    _require_record_organiser(actor, record)
    reason = (reason or "").strip()[:300]
    if not reason:
        raise RuleViolation(_("更正须填写原因。"), field="reason")
    if not isinstance(minutes, int) or not 0 <= minutes <= 24 * 60:
        raise RuleViolation(_("更正后的时长须在 0 到 1440 分钟之间。"), field="minutes")
    locked = _record_locked(record.pk)
    if locked.status != RecordStatus.CONFIRMED or locked.reverses_id is not None:
        raise RuleViolation(_("只有已确认的服务记录可以更正。"))
    if ServiceRecord.objects.filter(reverses=locked).exists():
        raise RuleViolation(_("该记录已经更正过，请更正新的记录。"))
    now = now or timezone.now()
    common = {
        "volunteer_id": locked.volunteer_id,
        "activity": locked.activity,
        "unit_id": locked.unit_id,
        "region_id": locked.region_id,
        "date": locked.date,
        "place": locked.place,
        "content": locked.content,
        "served_people": locked.served_people,
        "status": RecordStatus.CONFIRMED,
        "reason": reason,
        "person_in_charge": locked.person_in_charge,
        "recorder": actor,
        "confirmed_by": actor,
        "confirmed_at": now,
    }
    try:
        with transaction.atomic():
            reversal = ServiceRecord.objects.create(
                **common, minutes=-locked.minutes, reverses=locked
            )
    except IntegrityError as exc:  # a concurrent correction won
        raise RuleViolation(_("该记录已经更正过，请更正新的记录。")) from exc
    replacement = None
    if minutes > 0:
        replacement = ServiceRecord.objects.create(
            **common, minutes=minutes, evaluation=locked.evaluation
        )
    volunteer_hours_changed(
        volunteer_id=locked.volunteer_id, delta_minutes=minutes - locked.minutes
    )
    audit_record(
        actor=actor,
        verb="record.correct",
        target=locked,
        region_code=locked.region_id,
        changes={
            "minutes": [locked.minutes, minutes],
            "reversal": [None, reversal.pk],
            "replacement": [None, replacement.pk if replacement else None],
        },
        note=reason,
    )
    return replacement


@transaction.atomic
def correction_request(
    *, actor: Actor, record: ServiceRecord, reason: str, proposed_minutes: int | None = None
) -> CorrectionRequest:
    """A volunteer asks the organiser to correct one of their own confirmed records
    (one open request per record)."""
    volunteer = volunteer_of(actor)
    record = ServiceRecord.objects.filter(pk=record.pk).first() or record  # fresh status
    if volunteer is None or record.volunteer_id != volunteer.pk:
        raise NotFound(_("找不到该服务记录。"))
    reason = (reason or "").strip()[:300]
    if not reason:
        raise RuleViolation(_("请说明需要更正的内容。"), field="reason")
    if proposed_minutes is not None and not 0 <= proposed_minutes <= 24 * 60:
        raise RuleViolation(_("时长须在 0 到 1440 分钟之间。"), field="proposed_minutes")
    if record.status != RecordStatus.CONFIRMED or record.reverses_id is not None:
        raise RuleViolation(_("只有已确认的服务记录可以申请更正。"))
    if ServiceRecord.objects.filter(reverses_id=record.pk).exists():
        raise RuleViolation(_("该记录已经更正过。"))
    try:
        with transaction.atomic():
            correction = CorrectionRequest.objects.create(
                record=record,
                volunteer=volunteer,
                reason=reason,
                proposed_minutes=proposed_minutes,
            )
    except IntegrityError as exc:
        raise RuleViolation(_("该记录已有待处理的更正申请。"), code="duplicate") from exc
    audit_record(
        actor=actor,
        verb="correction.request",
        target=correction,
        region_code=record.region_id,
        changes={"proposed_minutes": [None, proposed_minutes]},
        note=reason,
    )
    return correction


@transaction.atomic
def correction_answer(
    *,
    actor: Actor,
    correction: CorrectionRequest,
    accept: bool,
    answer: str,
    minutes: int | None = None,
    now: dt.datetime | None = None,
) -> CorrectionRequest:
    """The organiser must answer a correction request: accept it (the record is
    reversed and replaced with `minutes`, default the proposed minutes) or reject it;
    either way with a written answer."""
    record = ServiceRecord.objects.select_related("activity").get(pk=correction.record_id)
    _require_record_organiser(actor, record)
    answer = (answer or "").strip()[:300]
    if not answer:
        raise RuleViolation(_("请填写答复。"), field="answer")
    now = now or timezone.now()
    locked = CorrectionRequest.objects.select_for_update().get(pk=correction.pk)
    if locked.status != CorrectionStatus.OPEN:
        raise RuleViolation(_("该更正申请已经处理。"))
    replacement = None
    if accept:
        target = minutes if minutes is not None else locked.proposed_minutes
        if target is None:
            raise RuleViolation(_("请填写更正后的时长。"), field="minutes")
        replacement = record_correct(
            actor=actor, record=record, minutes=target, reason=answer, now=now
        )
    locked.status = CorrectionStatus.ACCEPTED if accept else CorrectionStatus.REJECTED
    locked.answer = answer
    locked.answered_by = user_of(actor)
    locked.answered_at = now
    locked.replacement = replacement
    locked.save(update_fields=["status", "answer", "answered_by", "answered_at", "replacement"])
    audit_record(
        actor=actor,
        verb="correction.answer",
        target=locked,
        region_code=record.region_id,
        changes={"status": [CorrectionStatus.OPEN, locked.status]},
        note=answer,
    )
    return locked
