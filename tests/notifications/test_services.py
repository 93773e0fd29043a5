from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from wenming.core import crypto
from wenming.core.models import AuditEvent
from wenming.notifications import selectors, services, sms
from wenming.notifications.models import Notification, OutboxMessage, OutboxStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def memory_sms(settings):
    settings.WENMING_SMS_BACKEND = "wenming.notifications.sms.MemorySmsBackend"
    sms.MemorySmsBackend.sent = []
    sms.MemorySmsBackend.fail_with = ""
    yield sms.MemorySmsBackend
    sms.MemorySmsBackend.sent = []
    sms.MemorySmsBackend.fail_with = ""


def test_notify_writes_one_notification_per_distinct_recipient(cast):
    n = services.notify(
        recipients=[cast.volunteer, cast.team_leader, cast.volunteer, None],
        verb="order.dispatched",
        title="新派单",
        body="请在两小时内接单",
        url="/demands/1/",
        region_code="320305005204",
    )
    assert n == 2
    rows = Notification.objects.order_by("recipient_id")
    assert [r.recipient_id for r in rows] == sorted([cast.volunteer.pk, cast.team_leader.pk])
    assert {r.title for r in rows} == {"新派单"}
    assert OutboxMessage.objects.count() == 0


def test_notify_with_sms_queues_a_message_per_phone_and_delivers_after_commit(
    cast, memory_sms, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(
            recipients=[cast.volunteer], verb="order.dispatched", title="新派单", sms=True
        )
    message = OutboxMessage.objects.get()
    assert message.status == OutboxStatus.SENT
    assert message.phone_masked == cast.volunteer.phone_masked
    assert crypto.decrypt(message.phone_cipher) == crypto.decrypt(cast.volunteer.phone_cipher)
    assert memory_sms.sent == [(crypto.decrypt(cast.volunteer.phone_cipher), "新派单")]


def test_a_rolled_back_action_leaves_no_notification_and_no_sms(cast, memory_sms):
    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        services.notify(recipients=[cast.volunteer], verb="x", title="t", sms=True)
        services.notify_phone(phone="13912345678", text="您的订单已受理", verb="x")
        raise Boom
    assert Notification.objects.count() == 0
    assert OutboxMessage.objects.count() == 0
    assert memory_sms.sent == []


def test_failed_sms_is_retried_with_backoff_then_given_up(memory_sms):
    services.notify_phone(phone="13912345678", text="您的订单已受理", verb="order.placed")
    memory_sms.fail_with = "provider down"
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        result = services.outbox_deliver()
    assert result == services.DeliveryResult(retrying=1)
    message = OutboxMessage.objects.get()
    assert message.attempts == 1
    assert message.status == OutboxStatus.PENDING
    assert "provider down" in message.last_error
    assert message.next_attempt_at == start + dt.timedelta(minutes=2)
    # Not yet due: nothing is tried.
    assert services.outbox_deliver(now=start + dt.timedelta(minutes=1)) == services.DeliveryResult()
    # Keep failing until the last attempt: given up, never lost silently.
    now = start
    for _ in range(services.MAX_ATTEMPTS - 1):
        now += dt.timedelta(days=1)
        services.outbox_deliver(now=now)
    message.refresh_from_db()
    assert message.status == OutboxStatus.FAILED
    assert message.attempts == services.MAX_ATTEMPTS
    assert memory_sms.sent == []


def test_a_retry_that_succeeds_is_sent_once(memory_sms):
    services.notify_phone(phone="13912345678", text="短信", verb="x")
    memory_sms.fail_with = "timeout"
    services.outbox_deliver()
    memory_sms.fail_with = ""
    later = timezone.now() + dt.timedelta(hours=1)
    assert services.outbox_deliver(now=later) == services.DeliveryResult(sent=1)
    assert services.outbox_deliver(now=later) == services.DeliveryResult()
    assert memory_sms.sent == [("13912345678", "短信")]


def test_logging_backend_logs_only_the_masked_number(caplog):
    with caplog.at_level("INFO", logger="wenming.sms"):
        sms.LoggingSmsBackend().send("13912345678", "您好")
    assert "139****5678" in caplog.text
    assert "13912345678" not in caplog.text


def test_mark_read_is_the_recipients_own_and_audited(cast):
    services.notify(recipients=[cast.volunteer], verb="x", title="t")
    n = Notification.objects.get()
    with pytest.raises(services.NotFound):
        services.notification_mark_read(actor=cast.team_leader, notification_id=n.pk)
    n.refresh_from_db()
    assert n.read_at is None
    assert not AuditEvent.objects.filter(verb="notification.read").exists()

    services.notification_mark_read(actor=cast.volunteer, notification_id=n.pk)
    n.refresh_from_db()
    assert n.read_at is not None
    assert AuditEvent.objects.filter(verb="notification.read", actor=cast.volunteer).count() == 1
    # Reading again changes nothing and writes no second audit row.
    services.notification_mark_read(actor=cast.volunteer, notification_id=n.pk)
    assert AuditEvent.objects.filter(verb="notification.read").count() == 1


def test_mark_all_read_touches_only_the_actors_unread(cast):
    services.notify(recipients=[cast.volunteer, cast.team_leader], verb="x", title="a")
    services.notify(recipients=[cast.volunteer], verb="x", title="b")
    assert selectors.unread_count(actor=cast.volunteer) == 2
    assert services.notifications_mark_all_read(actor=cast.volunteer) == 2
    assert selectors.unread_count(actor=cast.volunteer) == 0
    assert selectors.unread_count(actor=cast.team_leader) == 1
    assert services.notifications_mark_all_read(actor=cast.volunteer) == 0
