"""An order's life after intake: review, dispatch or open for grabbing, take, grab or
decline, complete with participants, rate, cancel or withdraw; `order_act` is the one
entry point of pages and API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wenming.accounts.types import Actor
from wenming.core import crypto
from wenming.core.audit import audit_record
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.demands import notify
from wenming.demands.models import (
    MAX_COMPLETION_PHOTOS,
    Order,
    PhotoKind,
)
from wenming.demands.permissions import (
    eligible_teams,
    require_assignee,
    require_manager,
    require_view,
)
from wenming.demands.services.intake import _photo_bytes, _resident_order, _store_photo
from wenming.demands.services.machine import (
    FREE_COMPLETE_HOURS,
    LOW_RATING,
    MAX_MINUTES_PER_ORDER,
    RESIDENT_LABEL,
    TRANSITIONS,
    S,
    _event,
    _locked,
    _move,
)
from wenming.records.hours import daily_capped
from wenming.records.models import RecordStatus, ServiceRecord
from wenming.volunteers.leaders import teams_led_by
from wenming.volunteers.models import (
    Membership,
    MembershipStatus,
    Team,
    Volunteer,
    VolunteerStatus,
)

# ---------------------------------------------------------------- review and dispatch


@transaction.atomic
def order_accept(*, actor: Actor, order: Order, note: str = "") -> Order:
    """The unit where the order landed takes it on (审单)."""
    locked = _locked(order)
    require_manager(actor, locked)
    TRANSITIONS.check(locked, "accept")
    now = timezone.now()
    return _move(
        actor=actor,
        order=locked,
        action="accept",
        now=now,
        changes={"accepted_at": now},
        note=(note or "").strip()[:300],
    )


@transaction.atomic
def order_reject(*, actor: Actor, order: Order, reason: str) -> Order:
    """The unit declines the order with a reason; the reason is shown only to the
    requester (on the private page and by SMS)."""
    locked = _locked(order)
    require_manager(actor, locked)
    transition = TRANSITIONS.check(locked, "reject")
    reason = TRANSITIONS.reason(transition, reason)
    now = timezone.now()
    _move(
        actor=actor,
        order=locked,
        action="reject",
        now=now,
        reason=reason,
        changes={"reject_reason": reason, "closed_at": now},
    )
    _sms_requester(
        locked,
        _("您的点单 %(n)s 未被受理：%(r)s") % {"n": locked.number, "r": reason},
        "order.reject",
    )
    return locked


def _sms_requester(order: Order, text: str, verb: str) -> None:
    try:
        phone = crypto.decrypt(order.requester_phone_cipher)
    except crypto.DecryptionError:
        return
    notify.send_phone(phone=phone, text=text, verb=verb, region_code=order.region_id)


def _deadline(order: Order, due_at: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    if due_at is None:
        hours = order.menu_item.complete_hours if order.menu_item else FREE_COMPLETE_HOURS
        return now + dt.timedelta(hours=hours)
    if due_at <= now:
        raise RuleViolation(_("完成期限须晚于现在。"), field="due_at")
    return due_at


@transaction.atomic
def order_dispatch(
    *,
    actor: Actor,
    order: Order,
    team: Team | None = None,
    volunteer: Volunteer | None = None,
    due_at: dt.datetime | None = None,
    note: str = "",
) -> Order:
    """Dispatch an accepted order to one team or one volunteer with a deadline (派单).
    The team must be active; the volunteer registered (active)."""
    locked = _locked(order)
    require_manager(actor, locked)
    TRANSITIONS.check(locked, "dispatch")
    if (team is None) == (volunteer is None):
        raise RuleViolation(_("请选择一个服务队或一名志愿者。"), field="assignee")
    if team is not None and not Team.objects.filter(pk=team.pk, is_active=True).exists():
        raise RuleViolation(_("该服务队已停用。"), field="assignee")
    if (
        volunteer is not None
        and not Volunteer.objects.filter(pk=volunteer.pk, status=VolunteerStatus.ACTIVE).exists()
    ):
        raise RuleViolation(_("该志愿者不是已注册状态。"), field="assignee")
    now = timezone.now()
    deadline = _deadline(locked, due_at, now)
    _move(
        actor=actor,
        order=locked,
        action="dispatch",
        now=now,
        changes={
            "assigned_team": team,
            "assigned_volunteer": volunteer,
            "complete_by": deadline,
        },
        team=team,
        volunteer=volunteer,
        note=(note or "").strip()[:300] or str(team or volunteer),
    )
    if team is not None:
        recipients = notify.team_leaders(team.pk)
    else:
        assert volunteer is not None
        recipients = [volunteer.user] if volunteer.user is not None else []
    notify.send(
        recipients=recipients,
        verb="order.dispatch",
        title=_("新派单：%(t)s（%(n)s）") % {"t": locked.title, "n": locked.number},
        body=_("请在 %(d)s 前完成。")
        % {"d": timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M")},
        url=notify.tasks_url(),
        region_code=locked.region_id,
        sms=True,
    )
    return locked


@transaction.atomic
def order_open_for_grab(*, actor: Actor, order: Order, due_at: dt.datetime | None = None) -> Order:
    """Open an accepted order to the eligible teams (抢单): the first to accept wins."""
    locked = _locked(order)
    require_manager(actor, locked)
    TRANSITIONS.check(locked, "open_grab")
    now = timezone.now()
    deadline = _deadline(locked, due_at, now)
    _move(actor=actor, order=locked, action="open_grab", now=now, changes={"complete_by": deadline})
    leaders = {u.pk: u for team in eligible_teams(locked) for u in notify.team_leaders(team.pk)}
    notify.send(
        recipients=leaders.values(),
        verb="order.open_grab",
        title=_("可抢单：%(t)s（%(n)s）") % {"t": locked.title, "n": locked.number},
        url=notify.tasks_url(),
        region_code=locked.region_id,
    )
    return locked


@transaction.atomic
def order_recall(*, actor: Actor, order: Order, reason: str) -> Order:
    """Take a dispatched or open order back to be dispatched again."""
    locked = _locked(order)
    require_manager(actor, locked)
    transition = TRANSITIONS.check(locked, "recall")
    reason = TRANSITIONS.reason(transition, reason)
    return _move(
        actor=actor,
        order=locked,
        action="recall",
        reason=reason,
        changes={"assigned_team": None, "assigned_volunteer": None, "complete_by": None},
        public=False,  # an internal step: the resident's page does not show it
    )


# ---------------------------------------------------------------- accept, grab, decline


@transaction.atomic
def order_take(*, actor: Actor, order: Order) -> Order:
    """The assignee (the team's leader, or the volunteer) accepts a dispatched order
    (接单); a manager may record it on their behalf."""
    locked = _locked(order)
    require_view(actor, locked)
    TRANSITIONS.check(locked, "take")
    require_assignee(actor, locked)
    now = timezone.now()
    _move(
        actor=actor,
        order=locked,
        action="take",
        now=now,
        changes={"taken_at": now},
        team=locked.assigned_team,
        volunteer=locked.assigned_volunteer,
    )
    _sms_requester(
        locked,
        _("您的点单 %(n)s 已有志愿者接单，将尽快为您服务。") % {"n": locked.number},
        "order.take",
    )
    return locked


@transaction.atomic
def order_grab(*, actor: Actor, order: Order, team: Team) -> Order:
    """A team leader grabs an open order for their team. The first wins: one
    conditional UPDATE … WHERE state = 'open' decides, so two grabs at once cannot both
    succeed; the loser is told it is gone and nothing of theirs is written."""
    if team.pk not in set(teams_led_by(actor)):
        raise Forbidden(_("只有服务队队长可以为本队抢单。"))
    current = Order.objects.select_related("unit").filter(pk=order.pk).first()
    if current is None:
        raise NotFound(_("找不到该订单。"))
    if current.state != S.OPEN:
        if current.state in (S.TAKEN, S.COMPLETED, S.RATED):
            raise RuleViolation(_("手慢了，该订单已被其他服务队接走。"), code="grabbed")
        raise TRANSITIONS.refusal(current, TRANSITIONS["grab"])
    if not eligible_teams(current).filter(pk=team.pk).exists():
        raise Forbidden(_("您的服务队不在该订单的可抢单范围内。"))
    now = timezone.now()
    won = Order.objects.filter(pk=order.pk, state=S.OPEN).update(
        state=S.TAKEN,
        assigned_team=team,
        assigned_volunteer=None,
        taken_at=now,
        updated_at=now,
    )
    if not won:
        raise RuleViolation(_("手慢了，该订单已被其他服务队接走。"), code="grabbed")
    locked = _locked(current)
    _event(
        order=locked,
        action="grab",
        actor=actor,
        from_state=S.OPEN,
        to_state=S.TAKEN,
        team=team,
        note=team.name,
        at=now,
    )
    audit_record(
        actor=actor,
        verb="order.grab",
        target=locked,
        region_code=locked.region_id,
        changes={"state": [S.OPEN, S.TAKEN], "assigned_team": [None, team.pk]},
    )
    notify.send(
        recipients=notify.unit_staff(locked.unit),
        verb="order.grab",
        title=_("%(team)s 抢到了订单 %(n)s") % {"team": team.name, "n": locked.number},
        url=notify.manage_url(locked.pk),
        region_code=locked.region_id,
    )
    return locked


@transaction.atomic
def order_decline(*, actor: Actor, order: Order, reason: str) -> Order:
    """The assignee declines a dispatched order with a reason; it goes back to the unit
    to be dispatched again."""
    locked = _locked(order)
    require_view(actor, locked)
    transition = TRANSITIONS.check(locked, "decline")
    require_assignee(actor, locked)
    reason = TRANSITIONS.reason(transition, reason)
    team, volunteer = locked.assigned_team, locked.assigned_volunteer
    _move(
        actor=actor,
        order=locked,
        action="decline",
        reason=reason,
        changes={"assigned_team": None, "assigned_volunteer": None, "complete_by": None},
        team=team,
        volunteer=volunteer,
        public=False,  # the team's reason is for the unit, not the resident
    )
    notify.send(
        recipients=notify.unit_staff(locked.unit),
        verb="order.decline",
        title=_("订单 %(n)s 被拒单，请重新派单") % {"n": locked.number},
        body=reason,
        url=notify.manage_url(locked.pk),
        region_code=locked.region_id,
    )
    return locked


# ---------------------------------------------------------------- completion and rating


@dataclass
class Participant:
    volunteer_id: int
    minutes: int


def _participants(order: Order, participants: Sequence[Participant]) -> list[Participant]:
    if not participants:
        raise RuleViolation(_("请至少填写一名参与服务的志愿者。"), field="participants")
    seen: set[int] = set()
    for p in participants:
        if p.volunteer_id in seen:
            raise RuleViolation(_("同一名志愿者只能填写一次。"), field="participants")
        seen.add(p.volunteer_id)
        if not 1 <= p.minutes <= MAX_MINUTES_PER_ORDER:
            raise RuleViolation(
                _("每人服务时长须在 1 到 %(m)s 分钟之间。") % {"m": MAX_MINUTES_PER_ORDER},
                field="participants",
            )
    if order.assigned_team_id is not None:
        allowed = set(
            Membership.objects.filter(
                team_id=order.assigned_team_id,
                status=MembershipStatus.ACTIVE,
                volunteer__status=VolunteerStatus.ACTIVE,
                volunteer_id__in=seen,
            ).values_list("volunteer_id", flat=True)
        )
    else:
        allowed = {order.assigned_volunteer_id} & seen if order.assigned_volunteer_id else set()
    if allowed != seen:
        raise RuleViolation(
            _("参与服务的志愿者须是承接服务队的在队队员（或承接的志愿者本人）。"),
            field="participants",
        )
    return list(participants)


@transaction.atomic
def order_complete(
    *,
    actor: Actor,
    order: Order,
    note: str,
    participants: Sequence[Participant],
    photos: Sequence[Any] = (),
) -> Order:
    """The assignee completes the order with notes, photos and the volunteers who took
    part. Each volunteer's minutes become a PENDING service record of the order's unit,
    to be confirmed by its staff like any activity's records (谁组织谁记录)."""
    locked = _locked(order)
    require_view(actor, locked)
    TRANSITIONS.check(locked, "complete")
    require_assignee(actor, locked)
    note = (note or "").strip()
    if not note:
        raise RuleViolation(_("请填写服务情况。"), field="note")
    if len(note) > 2000:
        raise RuleViolation(_("服务情况最多 2000 个字。"), field="note")
    people = _participants(locked, participants)
    if len(photos) > MAX_COMPLETION_PHOTOS:
        raise RuleViolation(
            _("最多上传 %(n)s 张照片。") % {"n": MAX_COMPLETION_PHOTOS}, field="photos"
        )
    blobs = [_photo_bytes(p) for p in photos]
    now = timezone.now()
    _move(
        actor=actor,
        order=locked,
        action="complete",
        now=now,
        changes={"completion_note": note, "completed_at": now},
        team=locked.assigned_team,
        volunteer=locked.assigned_volunteer,
        note=_("%(n)s 名志愿者参与") % {"n": len(people)},
    )
    for blob in blobs:
        _store_photo(order=locked, kind=PhotoKind.COMPLETION, data=blob, actor=actor)
    day = timezone.localtime(now).date()
    place = (locked.address or locked.region.name)[:200]
    for p in people:
        # The ledger's daily cap is per volunteer (as for activities).
        minutes, cut = daily_capped(volunteer_id=p.volunteer_id, day=day, minutes=p.minutes)
        record = ServiceRecord.objects.create(
            volunteer_id=p.volunteer_id,
            order=locked,
            unit_id=locked.unit_id,
            region_id=locked.unit.region_id,
            date=day,
            place=place,
            content=_("群众点单：%(t)s") % {"t": locked.title},
            served_people=1,
            minutes=minutes,
            minutes_capped=cut or None,
            status=RecordStatus.PENDING,
        )
        audit_record(
            actor=actor,
            verb="record.create",
            target=record,
            region_code=record.region_id,
            changes={"minutes": [None, minutes], "order": [None, locked.pk]}
            | ({"minutes_capped": [None, cut]} if cut else {}),
        )
    _sms_requester(
        locked,
        _("您的点单 %(n)s 已完成服务，请通过下单时收到的链接为我们评价。") % {"n": locked.number},
        "order.complete",
    )
    return locked


@transaction.atomic
def order_rate(
    *, order: Order, token: str = "", actor: Actor | None = None, stars: int, comment: str = ""
) -> Order:
    """The resident rates a completed order 1–5 with a comment, through the private
    link. A rating at or below LOW_RATING is flagged to the unit's staff."""
    order = _resident_order(order, token, actor)
    locked = _locked(order)
    TRANSITIONS.check(locked, "rate")
    if not isinstance(stars, int) or not 1 <= stars <= 5:
        raise RuleViolation(_("请选择 1 到 5 颗星。"), field="stars")
    comment = (comment or "").strip()
    if len(comment) > 300:
        raise RuleViolation(_("评价最多 300 个字。"), field="comment")
    now = timezone.now()
    low = stars <= LOW_RATING
    _move(
        actor=None,
        order=locked,
        action="rate",
        now=now,
        changes={
            "rating": stars,
            "rating_comment": comment,
            "rated_at": now,
            "low_rating": low,
            "closed_at": now,
        },
        who=RESIDENT_LABEL,
        note=_("%(s)s 星") % {"s": stars},
    )
    if low:
        notify.send(
            recipients=notify.unit_staff(locked.unit),
            verb="order.low_rating",
            title=_("差评提醒：订单 %(n)s 得到 %(s)s 星") % {"n": locked.number, "s": stars},
            body=comment,
            url=notify.manage_url(locked.pk),
            region_code=locked.region_id,
        )
    return locked


# ---------------------------------------------------------------- cancelling


@transaction.atomic
def order_cancel(*, actor: Actor, order: Order, reason: str) -> Order:
    """Staff close an unfinished order with a reason."""
    locked = _locked(order)
    require_manager(actor, locked)
    transition = TRANSITIONS.check(locked, "cancel")
    reason = TRANSITIONS.reason(transition, reason)
    now = timezone.now()
    _move(actor=actor, order=locked, action="cancel", reason=reason, changes={"closed_at": now})
    _sms_requester(
        locked,
        _("您的点单 %(n)s 已关闭：%(r)s") % {"n": locked.number, "r": reason},
        "order.cancel",
    )
    return locked


@dataclass
class OrderActionInput:
    """What a staff or assignee action on an order may carry (pages and API alike)."""

    reason: str = ""
    note: str = ""
    team_id: int | None = None
    volunteer_id: int | None = None
    due_at: dt.datetime | None = None
    participants: Sequence[Participant] = ()
    photos: Sequence[Any] = ()


ORDER_ACTIONS = (
    "accept", "reject", "dispatch", "open_grab", "recall", "take", "grab", "decline",
    "complete", "cancel",
)  # fmt: skip


def order_act(*, actor: Actor, order: Order, action: str, data: OrderActionInput) -> Order:
    """The one entry point for every step of an order's state machine taken by staff or
    the assignee: the pages and the API both call it, so no path differs. Each step's
    own service checks who may take it; an unknown action is not found."""
    team = Team.objects.filter(pk=data.team_id).first() if data.team_id else None
    volunteer = (
        Volunteer.objects.filter(pk=data.volunteer_id).first() if data.volunteer_id else None
    )
    steps: dict[str, Any] = {
        "accept": lambda: order_accept(actor=actor, order=order, note=data.note),
        "reject": lambda: order_reject(actor=actor, order=order, reason=data.reason),
        "dispatch": lambda: order_dispatch(
            actor=actor,
            order=order,
            team=team,
            volunteer=volunteer,
            due_at=data.due_at,
            note=data.note,
        ),
        "open_grab": lambda: order_open_for_grab(actor=actor, order=order, due_at=data.due_at),
        "recall": lambda: order_recall(actor=actor, order=order, reason=data.reason),
        "take": lambda: order_take(actor=actor, order=order),
        "grab": lambda: order_grab(actor=actor, order=order, team=_team_for_grab(team)),
        "decline": lambda: order_decline(actor=actor, order=order, reason=data.reason),
        "complete": lambda: order_complete(
            actor=actor,
            order=order,
            note=data.note,
            participants=list(data.participants),
            photos=list(data.photos),
        ),
        "cancel": lambda: order_cancel(actor=actor, order=order, reason=data.reason),
    }
    step = steps.get(action)
    if step is None:
        raise NotFound(_("未知的操作。"))
    result: Order = step()
    return result


def _team_for_grab(team: Team | None) -> Team:
    if team is None:
        raise RuleViolation(_("请选择服务队。"), field="team_id")
    return team


@transaction.atomic
def order_withdraw(
    *, order: Order, token: str = "", actor: Actor | None = None, reason: str = ""
) -> Order:
    """The resident withdraws their unfinished order through the private link."""
    order = _resident_order(order, token, actor)
    locked = _locked(order)
    TRANSITIONS.check(locked, "withdraw")
    now = timezone.now()
    _move(
        actor=None,
        order=locked,
        action="withdraw",
        reason=(reason or "").strip()[:300],
        changes={"closed_at": now},
        who=RESIDENT_LABEL,
    )
    if locked.assigned_team_id:
        notify.send(
            recipients=notify.team_leaders(locked.assigned_team_id),
            verb="order.withdraw",
            title=_("群众已撤销订单 %(n)s") % {"n": locked.number},
            url=notify.tasks_url(),
            region_code=locked.region_id,
        )
    return locked
