"""Writes about attendance and the service ledger: check-in and check-out by QR or by hand,
confirming and rejecting records, corrections by reversal.

Every service checks the actor and the rules before it writes, writes atomically and
records an audit event. Check-in and check-out are idempotent: a second scan returns the
same attendance and changes nothing. Confirmed records are never updated (a database
trigger refuses it); a correction appends a reversal and a replacement, and moves the
volunteer's confirmed minutes by the difference in the same transaction.

A package: `attendance` (check-in and check-out by QR or by hand, each closing into a
pending record) and `ledger` (confirming and rejecting records, corrections by reversal,
correction requests)."""

from wenming.records.services.attendance import (
    CHECKIN_STATES,
    CHECKOUT_STATES,
    MANUAL_STATES,
    attendance_check_in,
    attendance_check_out,
    attendance_manual_check_in,
    attendance_manual_check_out,
)
from wenming.records.services.ledger import (
    correction_answer,
    correction_request,
    record_confirm,
    record_correct,
    record_reject,
    records_confirm_pending,
)

__all__ = [
    "CHECKIN_STATES",
    "CHECKOUT_STATES",
    "MANUAL_STATES",
    "attendance_check_in",
    "attendance_check_out",
    "attendance_manual_check_in",
    "attendance_manual_check_out",
    "correction_answer",
    "correction_request",
    "record_confirm",
    "record_correct",
    "record_reject",
    "records_confirm_pending",
]
