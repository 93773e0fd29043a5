"""An activity's life: the transition table, approval by the level above, moves by hand and
by the clock."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from wenming.accounts.types import Actor
from wenming.activities.models import (
    LIVE_SIGNUP_STATES,
    Activity,
    ActivityApprovalPolicy,
    ActivityState,
    SignUp,
)
from wenming.activities.permissions import require_approver, require_owner
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.core.statemachine import StateMachine, Transition
from wenming.network.models import Unit
from wenming.volunteers.models import Volunteer

S = ActivityState

# ---------------------------------------------------------------- the state machine


# The one table of allowed transitions. Whether publishing needs approval is a rule on
# top (see `_check_policy`): with approval, draft → submitted → published; without,
# draft → published.
TRANSITIONS = StateMachine(
    [
        Transition("submit", frozenset({S.DRAFT}), S.SUBMITTED, gettext_lazy("提交审核")),
        Transition(
            "approve",
            frozenset({S.SUBMITTED}),
            S.PUBLISHED,
            gettext_lazy("审核通过并发布"),
            by="approver",
        ),
        Transition(
            "reject",
            frozenset({S.SUBMITTED}),
            S.DRAFT,
            gettext_lazy("退回修改"),
            by="approver",
            reason_required=True,
        ),
        Transition("publish", frozenset({S.DRAFT}), S.PUBLISHED, gettext_lazy("发布")),
        Transition("start", frozenset({S.PUBLISHED}), S.ONGOING, gettext_lazy("开始活动")),
        Transition("finish", frozenset({S.ONGOING}), S.FINISHED, gettext_lazy("结束活动")),
        Transition(
            "cancel",
            frozenset({S.DRAFT, S.SUBMITTED, S.PUBLISHED, S.ONGOING}),
            S.CANCELLED,
            gettext_lazy("取消活动"),
            reason_required=True,
            destructive=True,
        ),
    ],
    subject=pgettext_lazy("state machine subject", "活动"),
    refused_code="rule_violation",
    default_by="owner",
)


def approval_required(unit: Unit) -> bool:
    policy = ActivityApprovalPolicy.objects.filter(unit_id=unit.pk).first()
    return bool(policy and policy.approval_required)


def allowed_actions(actor: Actor, activity: Activity) -> list[Transition]:
    """The transitions the actor may take now (for buttons; the services decide)."""
    result = []
    needs_approval = approval_required(activity.unit)
    for t in TRANSITIONS.values():
        if activity.state not in t.sources:
            continue
        if t.action == "submit" and not needs_approval:
            continue
        if t.action == "publish" and needs_approval:
            continue
        try:
            (require_approver if t.by == "approver" else require_owner)(actor, activity)
        except (Forbidden, NotFound):
            continue
        result.append(t)
    return result


def _check_policy(action: str, activity: Activity) -> None:
    needs_approval = approval_required(activity.unit)
    if action == "publish" and needs_approval:
        raise RuleViolation(_("本单位的活动须经上级单位审核后发布，请提交审核。"))
    if action == "submit" and not needs_approval:
        raise RuleViolation(_("本单位的活动无需审核，可直接发布。"))
    if action in {"publish", "approve"} and activity.signup_closes_at <= timezone.now():
        raise RuleViolation(_("报名截止时间已过，请先修改活动时间。"), field="signup_closes_at")


# The only transitions the clock may take on its own (actor None, see
# `activities_advance_by_clock`): a published activity starts at its start time and an
# ongoing one finishes at its end time. Everything else needs a person.
SYSTEM_ACTIONS = frozenset({"start", "finish"})


@transaction.atomic
def activity_transition(
    *, actor: Actor | None, activity: Activity, action: str, reason: str = ""
) -> Activity:
    """Move an activity along one allowed transition of TRANSITIONS, recording who,
    when and why. Any other move is refused and changes nothing.

    `actor=None` is the system (the periodic task): allowed for SYSTEM_ACTIONS only,
    audited with no actor ("系统") and the reason as the note."""
    transition = TRANSITIONS.transition(action)
    if actor is None:
        if action not in SYSTEM_ACTIONS:
            raise Forbidden(_("系统只能按时间开始或结束活动。"))
    elif transition.by == "approver":
        require_approver(actor, activity)
    else:
        require_owner(actor, activity)
    locked = Activity.objects.select_for_update().select_related("unit").get(pk=activity.pk)
    TRANSITIONS.check(locked, action)
    reason = TRANSITIONS.reason(transition, reason)
    _check_policy(action, locked)
    now = timezone.now()
    TRANSITIONS.move(
        locked,
        transition,
        actor=actor,
        verb=f"activity.{action}",
        region_code=locked.region_id,
        reason=reason,
        fields={
            "state_changed_at": now,
            "published_at": now
            if transition.target == S.PUBLISHED and locked.published_at is None
            else locked.published_at,
        },
        update_fields=["state", "state_changed_at", "published_at", "updated_at"],
    )
    if locked.state == S.CANCELLED:
        _notify_volunteers(
            volunteer_ids=list(
                SignUp.objects.filter(activity=locked, state__in=LIVE_SIGNUP_STATES).values_list(
                    "volunteer_id", flat=True
                )
            ),
            activity=locked,
            verb="activity.cancel",
            title=_("活动已取消：“%(t)s”") % {"t": locked.title},
            body=_("原定 %(when)s 的活动取消了。原因：%(r)s")
            % {"when": _when(locked), "r": reason},
        )
    return locked


@dataclass(frozen=True)
class ClockResult:
    started: int
    finished: int


def activities_advance_by_clock(*, now: dt.datetime | None = None) -> ClockResult:
    """Start every published activity whose start time has passed and finish every
    ongoing one whose end time has passed (an activity past both goes all the way in
    one run), through `activity_transition` with the system actor.

    Each activity is its own transaction, claimed with SELECT … FOR UPDATE SKIP LOCKED
    and re-checked under the lock, so two runs at once never move one activity twice and
    a run never waits on a row someone is editing (the next run picks it up). Running
    again changes nothing more."""
    now = now or timezone.now()
    started = _advance(
        "start", S.PUBLISHED, {"starts_at__lte": now}, gettext_lazy("开始时间已到，自动开始。")
    )
    finished = _advance(
        "finish", S.ONGOING, {"ends_at__lte": now}, gettext_lazy("结束时间已到，自动结束。")
    )
    return ClockResult(started=started, finished=finished)


def _advance(action: str, state: str, due: dict[str, Any], note: str | Promise) -> int:
    moved = 0
    ids = list(
        Activity.objects.filter(state=state, **due).order_by("pk").values_list("pk", flat=True)
    )
    for pk in ids:
        with transaction.atomic():
            claimed = (
                Activity.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, state=state, **due)
                .first()
            )
            if claimed is None:  # moved by someone else meanwhile, or locked right now
                continue
            activity_transition(actor=None, activity=claimed, action=action, reason=str(note))
            moved += 1
    return moved


def _when(activity: Activity) -> str:
    return timezone.localtime(activity.starts_at).strftime("%Y-%m-%d %H:%M")


def _notify_volunteers(
    *, volunteer_ids: list[int], activity: Activity, verb: str, title: str, body: str
) -> None:
    """Tell these volunteers (in the app and by SMS) about a change to their place,
    inside the caller's transaction."""
    from wenming.accounts.models import User
    from wenming.notifications.services import notify

    users = User.objects.filter(
        pk__in=Volunteer.objects.filter(pk__in=volunteer_ids, user__isnull=False).values("user_id")
    )
    notify(
        recipients=list(users),
        verb=verb,
        title=title,
        body=body,
        url=reverse("activities:detail", args=[activity.pk]),
        region_code=activity.region_id,
        sms=True,
    )
