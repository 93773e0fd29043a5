"""Signing up for an activity: quotas decided in one statement, the waiting list and its
promotion, cancelling, and the volunteer's calendar feed."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import secrets
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wenming.accounts.types import Actor, user_id_of
from wenming.activities.models import (
    LIVE_SIGNUP_STATES,
    Activity,
    CalendarFeed,
    SignUp,
    SignUpState,
)
from wenming.activities.services.lifecycle import S, _notify_volunteers, _when
from wenming.core.audit import (
    audit_insert_select_sql,
    audit_record,
    audit_sql_params,
    column_sql,
)
from wenming.core.errors import NotFound, RuleViolation
from wenming.volunteers.models import Skill, Volunteer, VolunteerStatus
from wenming.volunteers.own import active_volunteer_of

# ---------------------------------------------------------------- sign-up


def _volunteer_of(actor: Actor, only: tuple[str, ...] = ()) -> Volunteer:
    return active_volunteer_of(
        actor,
        only=only,
        missing=_("请先注册成为志愿者。"),
        inactive=_("您的志愿者注册尚未生效，暂时不能报名。"),
    )


def _signup_volunteer(actor: Actor, activity: Activity) -> Volunteer:
    """The actor's volunteer record, as `selectors.activity_for_signup` read it with the
    activity (else looked up here), refused unless registered and active."""
    if not hasattr(activity, "signup_volunteer_id"):
        return _volunteer_of(actor, only=("id", "user_id", "status"))
    volunteer_id = getattr(activity, "signup_volunteer_id", None)
    status = getattr(activity, "signup_volunteer_status", None)
    if volunteer_id is None or not getattr(actor, "is_authenticated", False):
        raise RuleViolation(_("请先注册成为志愿者。"), code="not_volunteer")
    if status != VolunteerStatus.ACTIVE:
        raise RuleViolation(_("您的志愿者注册尚未生效，暂时不能报名。"), code="not_active")
    return Volunteer(pk=volunteer_id, user_id=user_id_of(actor), status=status)


def _require_signup_open(activity: Activity, now: dt.datetime) -> None:
    if activity.state != S.PUBLISHED:
        raise RuleViolation(_("该活动不在报名中。"), code="not_open")
    if activity.signup_opens_at is not None and now < activity.signup_opens_at:
        raise RuleViolation(_("报名尚未开始。"), code="not_open")
    if now >= activity.signup_closes_at:
        raise RuleViolation(_("报名已经截止。"), code="closed")


def signup_create(*, actor: Actor, activity: Activity, now: dt.datetime | None = None) -> SignUp:
    """Sign the acting volunteer up: a place while places remain, else the next waitlist
    position. Only registered (active) volunteers, only published activities, only
    inside the sign-up window, one live sign-up per volunteer, who has every skill the
    activity asks for (a skill is the volunteer's own claim, kept on their profile). The
    activity row is
    locked first, so concurrent sign-ups queue and the count is always right.

    Everyone signs up at once when a popular activity opens, and they queue on that one
    row lock: on PostgreSQL the lock, the counter, the sign-up and its audit event are
    one statement, so the lock is held for that statement only."""
    volunteer = _signup_volunteer(actor, activity)
    now = now or timezone.now()
    one_statement = connection.vendor == "postgresql"
    # Elsewhere checked before the lock to keep the locked stretch short (a concurrent
    # duplicate still meets the partial unique constraint); on PostgreSQL the
    # constraint alone answers, inside the one statement.
    if (
        not one_statement
        and SignUp.objects.filter(
            activity_id=activity.pk, volunteer=volunteer, state__in=LIVE_SIGNUP_STATES
        ).exists()
    ):
        raise RuleViolation(_("您已经报名了该活动。"), code="duplicate")
    missing = (
        list(
            Skill.objects.filter(activity=activity)
            .exclude(pk__in=volunteer.skills.values("pk"))
            .order_by("name")
            .values_list("name", flat=True)
        )
        if getattr(activity, "needs_skills", True)
        else []
    )
    if missing:
        raise RuleViolation(
            _("本活动需要这些技能：%(s)s。如您具备，请先在“我的”里补充技能再报名。")
            % {"s": "、".join(missing)},
            code="missing_skills",
        )
    if one_statement:
        return _signup_in_one_statement(
            actor=actor, activity=activity, volunteer=volunteer, now=now
        )
    with transaction.atomic():
        locked = Activity.objects.select_for_update().get(pk=activity.pk)
        _require_signup_open(locked, now)
        signup = SignUp(activity=locked, volunteer=volunteer)
        if locked.signed_up_count < locked.quota:
            signup.state = SignUpState.SIGNED_UP
            locked.signed_up_count += 1
        else:
            signup.state = SignUpState.WAITLISTED
            locked.waitlist_seq += 1
            signup.position = locked.waitlist_seq
        try:
            with transaction.atomic():
                signup.save()
        except IntegrityError as exc:  # the same volunteer from two tabs at once
            raise RuleViolation(_("您已经报名了该活动。"), code="duplicate") from exc
        locked.save(update_fields=["signed_up_count", "waitlist_seq", "updated_at"])
        audit_record(
            actor=actor,
            verb="signup.create",
            target=signup,
            region_code=locked.region_id,
            changes={"state": [None, signup.state], "position": [None, signup.position]},
        )
    return signup


@functools.cache
def _signup_sql() -> str:
    qn = connection.ops.quote_name
    a, s = Activity._meta, SignUp._meta

    def c(meta: Any, name: str) -> str:
        return column_sql(meta.model, name)

    count, quota, seq = c(a, "signed_up_count"), c(a, "quota"), c(a, "waitlist_seq")
    signup_columns = ", ".join(
        c(s, n) for n in ["activity", "volunteer", "state", "position", "created_at",
                          "promoted_at", "cancelled_at", "cancel_reason"]
    )  # fmt: skip
    event = audit_insert_select_sql(
        source="s",
        target_id="s.id",
        target_label="s.activity_id || ':' || s.volunteer_id || ':' || s.state",
        changes="jsonb_build_object('state', jsonb_build_array(NULL, s.state), "
        "'position', jsonb_build_array(NULL, s.position))",
    )
    # `o` locks the row and reads whether a place is left; `a` moves the counter (or the
    # waitlist sequence) only while sign-up is open; `s` inserts the sign-up; `ev` its
    # audit event. Identifiers from the models' metadata, every value a parameter.
    return (
        f"WITH o AS (SELECT {c(a, 'id')} AS id, {count} < {quota} AS placed "  # noqa: S608
        f"FROM {qn(a.db_table)} WHERE {c(a, 'id')} = %s FOR UPDATE), "
        f"a AS (UPDATE {qn(a.db_table)} AS t SET "
        f"{count} = t.{count} + CASE WHEN o.placed THEN 1 ELSE 0 END, "
        f"{seq} = t.{seq} + CASE WHEN o.placed THEN 0 ELSE 1 END, "
        f"{c(a, 'updated_at')} = %s "
        f"FROM o WHERE t.{c(a, 'id')} = o.id AND t.{c(a, 'state')} = %s "
        f"AND (t.{c(a, 'signup_opens_at')} IS NULL OR t.{c(a, 'signup_opens_at')} <= %s) "
        f"AND t.{c(a, 'signup_closes_at')} > %s "
        f"RETURNING t.{c(a, 'id')} AS id, o.placed AS placed, t.{seq} AS seq), "
        f"s AS (INSERT INTO {qn(s.db_table)} ({signup_columns}) "
        "SELECT a.id, %s, CASE WHEN a.placed THEN %s ELSE %s END, "
        "CASE WHEN a.placed THEN NULL ELSE a.seq END, %s, NULL, NULL, '' FROM a "
        f"RETURNING {c(s, 'id')} AS id, {c(s, 'activity')} AS activity_id, "
        f"{c(s, 'volunteer')} AS volunteer_id, {c(s, 'state')} AS state, "
        f"{c(s, 'position')} AS position), "
        f"ev AS ({event}) "
        "SELECT id, state, position FROM s"
    )


def _signup_in_one_statement(
    *, actor: Actor, activity: Activity, volunteer: Volunteer, now: dt.datetime
) -> SignUp:
    params = [
        activity.pk, now, S.PUBLISHED, now, now,
        volunteer.pk, SignUpState.SIGNED_UP, SignUpState.WAITLISTED, now,
        *audit_sql_params(
            actor=actor,
            verb="signup.create",
            target_type=SignUp._meta.label_lower,
            region_code=activity.region_id,
        ),
    ]  # fmt: skip
    # Its own transaction when there is none around it (autocommit: the lock ends with
    # the statement); a savepoint inside a caller's, so that a duplicate leaves it usable.
    block = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    try:
        with block, connection.cursor() as cursor:
            cursor.execute(_signup_sql(), params)
            row = cursor.fetchone()
    except IntegrityError as exc:  # the same volunteer from two tabs at once
        raise RuleViolation(_("您已经报名了该活动。"), code="duplicate") from exc
    if row is None:  # nothing changed: say which rule refused
        _require_signup_open(Activity.objects.get(pk=activity.pk), now)
        raise RuleViolation(_("该活动不在报名中。"), code="not_open")
    signup = SignUp(
        pk=row[0], activity=activity, volunteer=volunteer, state=row[1], position=row[2]
    )
    signup.created_at = now
    signup._state.adding = False
    signup._state.db = connection.alias
    return signup


def _promote_waitlist(*, actor: Actor, activity: Activity) -> int:
    """Give free places to the earliest waitlisted volunteers. The caller holds the
    activity row lock."""
    promoted = 0
    promoted_volunteers: list[int] = []
    now = timezone.now()
    while activity.signed_up_count < activity.quota:
        first = (
            SignUp.objects.select_for_update()
            .filter(activity=activity, state=SignUpState.WAITLISTED)
            .order_by("position")
            .first()
        )
        if first is None:
            break
        position = first.position
        first.state = SignUpState.SIGNED_UP
        first.position = None
        first.promoted_at = now
        first.save(update_fields=["state", "position", "promoted_at"])
        activity.signed_up_count += 1
        promoted += 1
        promoted_volunteers.append(first.volunteer_id)
        audit_record(
            actor=actor,
            verb="signup.promote",
            target=first,
            region_code=activity.region_id,
            changes={"state": [SignUpState.WAITLISTED, SignUpState.SIGNED_UP],
                     "position": [position, None]},
        )  # fmt: skip
    if promoted:
        activity.save(update_fields=["signed_up_count", "updated_at"])
        _notify_volunteers(
            volunteer_ids=promoted_volunteers,
            activity=activity,
            verb="signup.promote",
            title=_("候补成功：您已获得“%(t)s”的名额") % {"t": activity.title},
            body=_("活动时间：%(when)s，地点：%(venue)s。如不能参加，请及时取消报名。")
            % {"when": _when(activity), "venue": activity.venue or activity.address},
        )
    return promoted


@transaction.atomic
def signup_cancel(
    *, actor: Actor, signup: SignUp, reason: str = "", now: dt.datetime | None = None
) -> SignUp:
    """The volunteer withdraws before the activity starts. A freed place goes to the
    first on the waitlist in the same transaction."""
    if signup.volunteer.user_id is None or signup.volunteer.user_id != getattr(actor, "pk", None):
        raise NotFound(_("找不到该报名。"))
    now = now or timezone.now()
    locked_activity = Activity.objects.select_for_update().get(pk=signup.activity_id)
    locked = SignUp.objects.select_for_update().get(pk=signup.pk)
    if locked.state not in LIVE_SIGNUP_STATES:
        raise RuleViolation(_("该报名已经取消。"))
    if locked_activity.state != S.PUBLISHED or now >= locked_activity.starts_at:
        raise RuleViolation(_("活动已开始或已结束，不能取消报名。"))
    before = (locked.state, locked.position)
    was_signed_up = locked.state == SignUpState.SIGNED_UP
    locked.state = SignUpState.CANCELLED
    locked.position = None
    locked.cancelled_at = now
    locked.cancel_reason = (reason or "").strip()[:200]
    locked.save(update_fields=["state", "position", "cancelled_at", "cancel_reason"])
    if was_signed_up:
        locked_activity.signed_up_count -= 1
        locked_activity.save(update_fields=["signed_up_count", "updated_at"])
    audit_record(
        actor=actor,
        verb="signup.cancel",
        target=locked,
        region_code=locked_activity.region_id,
        changes={"state": [before[0], locked.state], "position": [before[1], None]},
        note=locked.cancel_reason,
    )
    if was_signed_up:
        _promote_waitlist(actor=actor, activity=locked_activity)
    return locked


# ---------------------------------------------------------------- calendar feed


@transaction.atomic
def calendar_feed_reset(*, actor: Actor) -> CalendarFeed:
    """Give the acting volunteer a private calendar feed with a new secret token, or
    replace the token of the one they have: the old URL stops working at once. Only the
    volunteer themself; the token itself is never written to the audit log."""
    volunteer = (
        Volunteer.objects.select_for_update().filter(user_id=user_id_of(actor)).first()
        if getattr(actor, "is_authenticated", False)
        else None
    )
    if volunteer is None:
        raise RuleViolation(_("请先注册成为志愿者。"), code="not_volunteer")
    feed = CalendarFeed.objects.filter(volunteer=volunteer).first()
    created = feed is None
    if feed is None:
        feed = CalendarFeed(volunteer=volunteer)
    feed.token = secrets.token_urlsafe(32)
    feed.save()
    audit_record(
        actor=actor,
        verb="calendar.create" if created else "calendar.reset",
        target=feed,
        region_code=volunteer.region_id,
    )
    return feed
