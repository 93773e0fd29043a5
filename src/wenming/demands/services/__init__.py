"""Writes about resident demand: the service menu, ordering, and the order's state machine
(review, dispatch or open for grabbing, accept or decline, complete, rate, cancel),
reminders and escalation.

Every transition is one service call that locks the order row (or, for grabbing, a
conditional UPDATE … WHERE state = 'open'), checks the move against TRANSITIONS, writes
the change, one OrderEvent on the timeline and one audit event, all in one transaction.
A refused move changes nothing.

A package by sub-domain: `machine` (the transition table and the shared steps every move
takes), `menu` (the service menu), `intake` (placing an order), `workflow` (review,
dispatch, take or grab, complete, rate, cancel; `order_act` for pages and API),
`followup` (reminders, escalation, contact reveal, the order's service records). Who may
act: `demands.permissions`."""

from wenming.demands.services.followup import (
    order_contact_reveal,
    order_escalate,
    order_records_confirm,
    order_remind,
    orders_escalate_overdue,
)
from wenming.demands.services.intake import (
    OrderInput,
    landing_unit,
    order_by_link,
    order_create,
    order_of_requester,
    order_submit,
    private_link,
    token_digest,
)
from wenming.demands.services.machine import (
    EVENT_LABELS,
    FREE_COMPLETE_HOURS,
    FREE_RESPONSE_HOURS,
    LOW_RATING,
    MAX_MINUTES_PER_ORDER,
    REMINDER_INTERVAL,
    REMINDER_MAX,
    RESIDENT_LABEL,
    SYSTEM_LABEL,
    TRANSITIONS,
    S,
    allowed_actions,
)
from wenming.demands.services.menu import (
    MenuItemInput,
    menu_item_save,
)
from wenming.demands.services.workflow import (
    ORDER_ACTIONS,
    OrderActionInput,
    Participant,
    order_accept,
    order_act,
    order_cancel,
    order_complete,
    order_decline,
    order_dispatch,
    order_grab,
    order_open_for_grab,
    order_rate,
    order_recall,
    order_reject,
    order_take,
    order_withdraw,
)

__all__ = [
    "EVENT_LABELS",
    "FREE_COMPLETE_HOURS",
    "FREE_RESPONSE_HOURS",
    "LOW_RATING",
    "MAX_MINUTES_PER_ORDER",
    "ORDER_ACTIONS",
    "REMINDER_INTERVAL",
    "REMINDER_MAX",
    "RESIDENT_LABEL",
    "SYSTEM_LABEL",
    "TRANSITIONS",
    "MenuItemInput",
    "OrderActionInput",
    "OrderInput",
    "Participant",
    "S",
    "allowed_actions",
    "landing_unit",
    "menu_item_save",
    "order_accept",
    "order_act",
    "order_by_link",
    "order_cancel",
    "order_complete",
    "order_contact_reveal",
    "order_create",
    "order_decline",
    "order_dispatch",
    "order_escalate",
    "order_grab",
    "order_of_requester",
    "order_open_for_grab",
    "order_rate",
    "order_recall",
    "order_records_confirm",
    "order_reject",
    "order_remind",
    "order_submit",
    "order_take",
    "order_withdraw",
    "orders_escalate_overdue",
    "private_link",
    "token_digest",
]
