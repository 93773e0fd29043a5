"""The order's state machine: the transition table and the steps every move shares (lock,
check, move, timeline event)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from wenming.accounts.types import Actor, user_or_none
from wenming.core.errors import NotFound
from wenming.core.statemachine import StateMachine, Transition
from wenming.demands.models import EVENT_LABELS as MODEL_EVENT_LABELS
from wenming.demands.models import (
    LIVE_STATES,
    Order,
    OrderEvent,
    OrderState,
)
from wenming.demands.permissions import (
    can_manage,
    grabbable_order_ids,
    is_assignee,
)
from wenming.volunteers.models import (
    Team,
    Volunteer,
)

S = OrderState

# Time limits of a free request (微心愿 / 我要求助), which has no menu item to say.
FREE_RESPONSE_HOURS = 24
FREE_COMPLETE_HOURS = 72
# A resident may remind (催单) at most this often, and this many times per order.
REMINDER_INTERVAL = dt.timedelta(hours=4)
REMINDER_MAX = 3
# A rating at or below this is flagged to the unit.
LOW_RATING = 2
# Most minutes one volunteer's part in one order can count.
MAX_MINUTES_PER_ORDER = 12 * 60

# ---------------------------------------------------------------- the state machine


_OPEN_FOR_CANCEL = frozenset(LIVE_STATES)

TRANSITIONS = StateMachine(
    [
        Transition("accept", frozenset({S.SUBMITTED}), S.ACCEPTED, gettext_lazy("受理")),
        Transition(
            "reject",
            frozenset({S.SUBMITTED}),
            S.REJECTED,
            gettext_lazy("不予受理"),
            reason_required=True,
        ),
        Transition("dispatch", frozenset({S.ACCEPTED}), S.DISPATCHED, gettext_lazy("派单")),
        Transition("open_grab", frozenset({S.ACCEPTED}), S.OPEN, gettext_lazy("发布抢单")),
        Transition(
            "recall",
            frozenset({S.DISPATCHED, S.OPEN}),
            S.ACCEPTED,
            gettext_lazy("收回重派"),
            reason_required=True,
        ),
        Transition("take", frozenset({S.DISPATCHED}), S.TAKEN, gettext_lazy("接单"), by="assignee"),
        Transition("grab", frozenset({S.OPEN}), S.TAKEN, gettext_lazy("抢单"), by="grabber"),
        Transition(
            "decline",
            frozenset({S.DISPATCHED}),
            S.ACCEPTED,
            gettext_lazy("拒单"),
            by="assignee",
            reason_required=True,
        ),
        Transition(
            "complete", frozenset({S.TAKEN}), S.COMPLETED, gettext_lazy("办结"), by="assignee"
        ),
        Transition("rate", frozenset({S.COMPLETED}), S.RATED, gettext_lazy("评价"), by="requester"),
        Transition(
            "cancel", _OPEN_FOR_CANCEL, S.CANCELLED, gettext_lazy("取消"), reason_required=True
        ),
        Transition("withdraw", _OPEN_FOR_CANCEL, S.CANCELLED, gettext_lazy("撤单"), by="requester"),
    ],
    subject=pgettext_lazy("state machine subject", "订单"),
    default_by="manager",
)

SYSTEM_LABEL = gettext_lazy("系统")
RESIDENT_LABEL = gettext_lazy("群众")

EVENT_LABELS = MODEL_EVENT_LABELS


def allowed_actions(actor: Actor, order: Order) -> list[Transition]:
    """The transitions the actor may take now (for buttons; the services decide)."""
    result = []
    manager = can_manage(actor, order)
    assignee = is_assignee(actor, order)
    for t in TRANSITIONS.values():
        if order.state not in t.sources or t.by == "requester":
            continue
        allowed = {
            "manager": manager,
            "assignee": assignee or manager,
            "grabber": t.by == "grabber" and order.pk in grabbable_order_ids(actor, [order.pk]),
        }
        if allowed[t.by]:
            result.append(t)
    return result


# ---------------------------------------------------------------- shared steps


def _locked(order: Order) -> Order:
    locked = (
        Order.objects.select_for_update(of=("self",))
        .select_related("unit", "menu_item")
        .filter(pk=order.pk)
        .first()
    )
    if locked is None:
        raise NotFound(_("找不到该订单。"))
    return locked


def _label_of(actor: Actor | None, fallback: str | Promise) -> str:
    user = user_or_none(actor)
    return str(user.name)[:80] if user is not None else str(fallback)


def _event(
    *,
    order: Order,
    action: str,
    actor: Actor | None,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    team: Team | None = None,
    volunteer: Volunteer | None = None,
    public: bool = True,
    at: dt.datetime | None = None,
    who: str | Promise = SYSTEM_LABEL,
) -> OrderEvent:
    user = user_or_none(actor)
    return OrderEvent.objects.create(
        order=order,
        at=at or timezone.now(),
        actor=user,
        actor_label=_label_of(actor, who),
        action=action,
        from_state=from_state,
        to_state=to_state,
        unit_id=order.unit_id,
        team=team,
        volunteer=volunteer,
        note=note[:300],
        public=public,
    )


def _move(
    *,
    actor: Actor | None,
    order: Order,
    action: str,
    reason: str = "",
    now: dt.datetime | None = None,
    changes: dict[str, Any] | None = None,
    team: Team | None = None,
    volunteer: Volunteer | None = None,
    who: str | Promise = SYSTEM_LABEL,
    note: str = "",
    public: bool = True,
) -> Order:
    """Move a locked order along `action`: state, the fields in `changes`, one event on
    the timeline and one audit event."""
    transition = TRANSITIONS[action]
    now = now or timezone.now()
    before, _after = TRANSITIONS.move(
        order,
        transition,
        actor=actor,
        verb=f"order.{action}",
        region_code=order.region_id,
        reason=reason,
        fields=changes,
    )
    _event(
        order=order,
        action=action,
        actor=actor,
        from_state=before,
        to_state=order.state,
        note=note or reason,
        team=team,
        volunteer=volunteer,
        at=now,
        who=who,
        public=public,
    )
    return order
