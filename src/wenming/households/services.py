"""Writes of the household contact register (十必联).

Every service checks the actor's role and scope (HOUSEHOLD_MANAGE over the household's
village, or being the household's contact person where the rule allows it), changes
state atomically and records an audit event that never holds a plaintext name or phone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from wenming.accounts.phones import normalize_phone
from wenming.core import crypto
from wenming.core import regions as rc
from wenming.core.access import actor_label, in_scope, require
from wenming.core.audit import audit_record
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.core.roles import Perm, Role
from wenming.households import permissions
from wenming.households.models import (
    EVENT_TRANSITIONS,
    AlertLevel,
    AlertSubject,
    Assignment,
    AssignmentKind,
    CareTag,
    Channel,
    ContactPerson,
    EventEntry,
    EventKind,
    EventState,
    Household,
    HouseholdEvent,
    HouseholdMember,
    HouseholdPolicy,
    OverdueAlert,
    Relation,
    ReportChannel,
    Visit,
    new_report_code,
)
from wenming.households.permissions import is_contact_of, user_id_of
from wenming.households.policy import (
    MAX_CADENCE_DAYS,
    MAX_RESPONSE_HOURS,
    Policy,
    care_due_at,
    household_cadence,
    policy_for,
)
from wenming.network.models import Region, RoleGrant
from wenming.network.selectors import staff_on_duty
from wenming.notifications.services import notify


@transaction.atomic
def household_policy_set(
    *,
    actor: Any,
    region_code: str,
    assignment_limit: int,
    response_hours: dict[str, int],
    cadence_days: dict[str, int],
) -> HouseholdPolicy:
    """Set a jurisdiction's (province, city or county) 1+10 limit, response limits per
    event kind (hours) and care cadence per tag (days)."""
    require(actor, Perm.HOUSEHOLD_MANAGE, region_code, view_perm=Perm.HOUSEHOLD_VIEW)
    if not rc.is_valid(region_code) or rc.level_of(region_code) > rc.Level.COUNTY:
        raise Forbidden(_("十必联设置只能按省、市、县（区）设置。"))
    if not 1 <= int(assignment_limit) <= 50:
        raise RuleViolation(_("包挂户数上限应在 1 到 50 之间。"), field="assignment_limit")
    hours: dict[str, int] = {}
    for kind, value in response_hours.items():
        if kind not in EventKind.values:
            raise RuleViolation(_("事项类型不正确。"), field="response_hours")
        if not 1 <= int(value) <= MAX_RESPONSE_HOURS:
            raise RuleViolation(_("响应时限应在 1 到 720 小时之间。"), field=f"hours_{kind}")
        hours[kind] = int(value)
    codes = set(CareTag.objects.values_list("code", flat=True))
    days: dict[str, int] = {}
    for tag, value in cadence_days.items():
        if tag not in codes:
            raise RuleViolation(_("关爱标签不正确。"), field="cadence_days")
        if value in (None, "", 0):
            continue  # no regular cadence for this tag
        if not 1 <= int(value) <= MAX_CADENCE_DAYS:
            raise RuleViolation(_("走访周期应在 1 到 365 天之间。"), field=f"days_{tag}")
        days[tag] = int(value)
    region = Region.objects.filter(code=region_code).first()
    if region is None:
        raise NotFound(_("找不到该区划。"))
    policy = HouseholdPolicy.objects.select_for_update().filter(region=region).first()
    before = None
    if policy is None:
        policy = HouseholdPolicy(region=region)
    else:
        before = [policy.assignment_limit, policy.response_hours, policy.cadence_days]
    policy.assignment_limit = int(assignment_limit)
    policy.response_hours = hours
    policy.cadence_days = days
    policy.save()
    audit_record(
        actor=actor,
        verb="household.policy",
        target=policy,
        region_code=region_code,
        changes={"policy": [before, [policy.assignment_limit, hours, days]]},
    )
    return policy


# ---------------------------------------------------------------- households and members


@dataclass
class MemberInput:
    name: str
    relation: str
    birth_year: int | None = None
    phone: str = ""


@dataclass
class HouseholdInput:
    region_code: str
    address: str
    tag_codes: Sequence[str] = ()
    note: str = ""
    members: list[MemberInput] = field(default_factory=list)


def _clean_member(data: MemberInput, today: dt.date) -> dict[str, Any]:
    name = (data.name or "").strip()
    if not name:
        raise RuleViolation(_("请填写成员姓名。"), field="name")
    if len(name) > 50:
        raise RuleViolation(_("姓名最多 50 个字。"), field="name")
    if data.relation not in Relation.values:
        raise RuleViolation(_("请选择与户主关系。"), field="relation")
    if data.birth_year is not None and not 1900 <= int(data.birth_year) <= today.year:
        raise RuleViolation(_("出生年份不正确。"), field="birth_year")
    phone = normalize_phone(data.phone) if (data.phone or "").strip() else ""
    return {"name": name, "relation": data.relation, "birth_year": data.birth_year, "phone": phone}


def _member_row(household: Household, values: dict[str, Any]) -> HouseholdMember:
    phone = values["phone"]
    return HouseholdMember(
        household=household,
        relation=values["relation"],
        name_cipher=crypto.encrypt(values["name"]),
        name_masked=crypto.mask_name(values["name"]),
        birth_year=values["birth_year"],
        phone_cipher=crypto.encrypt(phone) if phone else "",
        phone_digest=crypto.digest(phone) if phone else "",
        phone_masked=crypto.mask_phone(phone) if phone else "",
    )


def _village(region_code: str) -> Region:
    region = Region.objects.filter(code=region_code).first()
    if region is None or region.level != rc.Level.VILLAGE:
        raise RuleViolation(_("请选择户籍所在的村（社区）。"), field="region")
    return region


def _tags(codes: Iterable[str]) -> list[CareTag]:
    wanted = {c for c in codes if c}
    tags = list(CareTag.objects.filter(code__in=wanted))
    if len(tags) != len(wanted):
        raise RuleViolation(_("关爱标签不正确。"), field="tags")
    return tags


@transaction.atomic
def household_create(
    *, actor: Any, data: HouseholdInput, today: dt.date | None = None
) -> Household:
    """Register a household in a village the actor manages, with its members (one head
    at most) and care tags."""
    require(actor, Perm.HOUSEHOLD_MANAGE, data.region_code, view_perm=Perm.HOUSEHOLD_VIEW)
    today = today or timezone.localdate()
    region = _village(data.region_code)
    address = (data.address or "").strip()
    if not address:
        raise RuleViolation(_("请填写地址。"), field="address")
    if len(address) > 200:
        raise RuleViolation(_("地址最多 200 个字。"), field="address")
    tags = _tags(data.tag_codes)
    members = [_clean_member(m, today) for m in data.members]
    if sum(1 for m in members if m["relation"] == Relation.HEAD) > 1:
        raise RuleViolation(_("一户只能有一位户主。"), field="relation")
    head = next((m for m in members if m["relation"] == Relation.HEAD), None)
    household = Household.objects.create(
        region=region,
        address=address,
        note=(data.note or "").strip()[:300],
        head_masked=crypto.mask_name(head["name"]) if head is not None else "",
    )
    household.tags.set(tags)
    HouseholdMember.objects.bulk_create([_member_row(household, m) for m in members])
    audit_record(
        actor=actor,
        verb="household.create",
        target=household,
        region_code=region.code,
        changes={"tags": [t.code for t in tags], "members": len(members)},
    )
    return household


@transaction.atomic
def household_update(
    *,
    actor: Any,
    household: Household,
    address: str,
    tag_codes: Sequence[str],
    note: str = "",
    is_active: bool = True,
) -> Household:
    require(actor, Perm.HOUSEHOLD_MANAGE, household.region_id, view_perm=Perm.HOUSEHOLD_VIEW)
    address = (address or "").strip()
    if not address or len(address) > 200:
        raise RuleViolation(_("请填写地址（最多 200 个字）。"), field="address")
    tags = _tags(tag_codes)
    locked = Household.objects.select_for_update().get(pk=household.pk)
    before = {
        "address": locked.address,
        "note": locked.note,
        "is_active": locked.is_active,
        "tags": sorted(locked.tags.values_list("code", flat=True)),
    }
    locked.address = address
    locked.note = (note or "").strip()[:300]
    locked.is_active = is_active
    locked.save(update_fields=["address", "note", "is_active", "updated_at"])
    locked.tags.set(tags)
    if before["is_active"] and not is_active:
        # Off the register: its contact persons are freed (their 1+10 places count).
        for assignment in Assignment.objects.filter(household=locked, ended_at__isnull=True):
            assignment_end(actor=actor, assignment=assignment, reason=_("家庭户已不在册"))
    after = {
        "address": address,
        "note": locked.note,
        "is_active": is_active,
        "tags": sorted(t.code for t in tags),
    }
    from wenming.core.audit import diff

    audit_record(
        actor=actor,
        verb="household.update",
        target=locked,
        region_code=locked.region_id,
        changes=diff(before, after),
    )
    return locked


@transaction.atomic
def member_add(
    *, actor: Any, household: Household, data: MemberInput, today: dt.date | None = None
) -> HouseholdMember:
    require(actor, Perm.HOUSEHOLD_MANAGE, household.region_id, view_perm=Perm.HOUSEHOLD_VIEW)
    values = _clean_member(data, today or timezone.localdate())
    locked = Household.objects.select_for_update().get(pk=household.pk)
    if (
        values["relation"] == Relation.HEAD
        and HouseholdMember.objects.filter(household=locked, relation=Relation.HEAD).exists()
    ):
        raise RuleViolation(_("该户已有户主。"), field="relation")
    member = _member_row(locked, values)
    member.save()
    if values["relation"] == Relation.HEAD:
        locked.head_masked = member.name_masked
        locked.save(update_fields=["head_masked", "updated_at"])
    audit_record(
        actor=actor,
        verb="household.member_add",
        target=locked,
        region_code=locked.region_id,
        changes={"member": member.pk, "relation": member.relation},
    )
    return member


@transaction.atomic
def member_remove(*, actor: Any, member: HouseholdMember, reason: str) -> None:
    household = member.household
    require(actor, Perm.HOUSEHOLD_MANAGE, household.region_id, view_perm=Perm.HOUSEHOLD_VIEW)
    if not reason.strip():
        raise RuleViolation(_("请写明原因。"), field="reason")
    if member.relation == Relation.HEAD:
        Household.objects.filter(pk=household.pk).update(head_masked="")
    audit_record(
        actor=actor,
        verb="household.member_remove",
        target=household,
        region_code=household.region_id,
        changes={"member": member.pk, "relation": member.relation},
        note=reason.strip()[:300],
    )
    member.delete()


REVEALABLE = {"name": "name_cipher", "phone": "phone_cipher"}


@transaction.atomic
def member_reveal(*, actor: Any, member: HouseholdMember, what: str, reason: str = "") -> str:
    """Show one member's plaintext name or phone to a role granted PERSONAL_REVEAL over
    the household's village, or to the household's own contact person (who must be able
    to call them); every reveal is audited without the value."""
    if what not in REVEALABLE:
        raise RuleViolation(_("不能查看该信息。"))
    household = member.household
    if not is_contact_of(actor, household):
        require(actor, Perm.PERSONAL_REVEAL, household.region_id, view_perm=Perm.HOUSEHOLD_VIEW)
    token = getattr(member, REVEALABLE[what])
    if not token:
        raise RuleViolation(_("未登记该信息。"))
    value = crypto.decrypt(token)
    audit_record(
        actor=actor,
        verb="household.reveal",
        target=household,
        region_code=household.region_id,
        changes={"member": member.pk, "field": what},
        note=reason.strip()[:300],
    )
    return value


@transaction.atomic
def report_code_reset(*, actor: Any, household: Household) -> str:
    """Issue a new contact-card code (the old card's link stops working)."""
    require(actor, Perm.HOUSEHOLD_MANAGE, household.region_id, view_perm=Perm.HOUSEHOLD_VIEW)
    code = new_report_code()
    Household.objects.filter(pk=household.pk).update(report_code=code)
    household.report_code = code
    audit_record(
        actor=actor, verb="household.card_reset", target=household, region_code=household.region_id
    )
    return code


# ---------------------------------------------------------------- contact persons


def contact_person_add_by_phone(
    *, actor: Any, phone: str, region_code: str, is_party_member: bool = False
) -> ContactPerson:
    """`contact_person_add` for the user who logs in with `phone` (pages and API)."""
    from wenming.accounts.models import User

    normalize_phone(phone)  # a malformed number says so
    try:
        user = User.objects.get_by_phone(phone)
    except User.DoesNotExist:
        raise RuleViolation(_("没有用这个手机号码登录的用户。"), field="phone") from None
    return contact_person_add(
        actor=actor, user=user, region_code=region_code, is_party_member=is_party_member
    )


@transaction.atomic
def contact_person_add(
    *,
    actor: Any,
    user: Any,
    region_code: str,
    volunteer: Any = None,
    is_party_member: bool = False,
) -> ContactPerson:
    """Make a volunteer (with a login) or a cadre (a staff user) a contact person at a
    village the actor manages. A cadre is a user holding a staff role."""
    require(actor, Perm.HOUSEHOLD_MANAGE, region_code, view_perm=Perm.HOUSEHOLD_VIEW)
    region = _village(region_code)
    if volunteer is not None and volunteer.user_id != getattr(user, "pk", None):
        raise RuleViolation(_("该志愿者还没有登录账号。"), field="volunteer")
    if volunteer is None:
        from wenming.volunteers.models import Volunteer

        volunteer = Volunteer.objects.filter(user_id=user.pk).first()
    is_cadre = RoleGrant.objects.filter(
        user_id=user.pk,
        revoked_at__isnull=True,
        role__in=[Role.COUNTY_ADMIN, Role.INSTITUTE_ADMIN, Role.STATION_ADMIN],
    ).exists()
    if volunteer is None and not is_cadre:
        raise RuleViolation(_("联系人须为注册志愿者或干部。"), field="user")
    if ContactPerson.objects.filter(user_id=user.pk).exists():
        raise RuleViolation(_("此人已经是联系人。"), field="user")
    party = is_party_member or (
        volunteer is not None and volunteer.political_status in ("cpc", "probationary")
    )
    try:
        with transaction.atomic():
            contact = ContactPerson.objects.create(
                user=user,
                volunteer=volunteer,
                region=region,
                name=volunteer.name if volunteer is not None else user.name,
                is_party_member=party,
                is_cadre=is_cadre,
            )
    except IntegrityError as exc:  # the same person added twice at once
        raise RuleViolation(_("此人已经是联系人。"), field="user") from exc
    audit_record(
        actor=actor,
        verb="household.contact_add",
        target=contact,
        region_code=region.code,
        changes={"user": user.pk, "volunteer": getattr(volunteer, "pk", None)},
    )
    return contact


@transaction.atomic
def assignment_create(
    *, actor: Any, household: Household, contact: ContactPerson, kind: str
) -> Assignment:
    """Attach a contact person to a household: 1+10 (at most the limit of open 1+10
    households per person, by a conditional UPDATE of their counter, so two staff at
    once cannot pass it) or 1+1 (one pairing per person and per household)."""
    require(actor, Perm.HOUSEHOLD_MANAGE, household.region_id, view_perm=Perm.HOUSEHOLD_VIEW)
    if not in_scope(actor, Perm.HOUSEHOLD_VIEW, contact.region_id):
        raise NotFound(_("找不到该联系人，或其不在您的管辖范围内。"))
    if kind not in AssignmentKind.values:
        raise RuleViolation(_("请选择包挂或结对。"), field="kind")
    if not household.is_active:
        raise RuleViolation(_("该户已不在册。"))
    if not contact.is_active:
        raise RuleViolation(_("该联系人已离岗。"), field="contact")
    if kind == AssignmentKind.GROUP:
        limit = policy_for(contact.region_id).assignment_limit
        # The guard: one statement that locks the row, checks and counts.
        took = ContactPerson.objects.filter(pk=contact.pk, open_households__lt=limit).update(
            open_households=F("open_households") + 1
        )
        if not took:
            raise RuleViolation(
                _("%(name)s 已包挂 %(n)s 户，达到上限。") % {"name": contact.name, "n": limit},
                code="assignment_limit",
                field="contact",
            )
    try:
        with transaction.atomic():
            assignment = Assignment.objects.create(
                household=household,
                contact=contact,
                kind=kind,
                region_id=household.region_id,
                started_by=actor,
            )
    except IntegrityError as exc:
        if (
            kind == AssignmentKind.PAIR
            and Assignment.objects.filter(contact=contact, kind=kind, ended_at__isnull=True)
            .exclude(household=household)
            .exists()
        ):
            raise RuleViolation(
                _("该联系人已有 1+1 结对户。"), code="pair_taken", field="contact"
            ) from exc
        raise RuleViolation(
            _("该户已有%(kind)s联系人，请先解除。") % {"kind": AssignmentKind(kind).label},
            code="already_assigned",
            field="household",
        ) from exc  # the outer atomic rolls the counter back
    audit_record(
        actor=actor,
        verb="household.assign",
        target=household,
        region_code=household.region_id,
        changes={"contact": contact.pk, "kind": kind},
    )
    return assignment


@transaction.atomic
def assignment_end(*, actor: Any, assignment: Assignment, reason: str) -> Assignment:
    require(actor, Perm.HOUSEHOLD_MANAGE, assignment.region_id, view_perm=Perm.HOUSEHOLD_VIEW)
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation(_("请写明原因。"), field="reason")
    now = timezone.now()
    ended = Assignment.objects.filter(pk=assignment.pk, ended_at__isnull=True).update(
        ended_at=now, ended_by=actor, end_reason=reason[:200]
    )
    if not ended:
        raise RuleViolation(_("该包挂结对已经解除。"))
    if assignment.kind == AssignmentKind.GROUP:
        ContactPerson.objects.filter(pk=assignment.contact_id, open_households__gt=0).update(
            open_households=F("open_households") - 1
        )
    audit_record(
        actor=actor,
        verb="household.unassign",
        target=assignment.household,
        region_code=assignment.region_id,
        changes={"contact": assignment.contact_id, "kind": assignment.kind},
        note=reason[:300],
    )
    assignment.refresh_from_db()
    return assignment


# ---------------------------------------------------------------- events


def _entry(
    event: HouseholdEvent,
    *,
    actor: Any,
    at: dt.datetime,
    text: str,
    from_state: str = "",
    to_state: str = "",
) -> EventEntry:
    user = actor if getattr(actor, "is_authenticated", False) else None
    label = actor_label(user) if user is not None else _("系统")
    return EventEntry.objects.create(
        event=event,
        at=at,
        actor=user,
        actor_label=label[:100],
        from_state=from_state,
        to_state=to_state,
        text=text[:500],
    )


def _transition(
    event: HouseholdEvent, target: str, *, actor: Any, at: dt.datetime, why: str
) -> None:
    """Move a locked event along EVENT_TRANSITIONS, recording who, when and why."""
    source = event.state
    if target not in EVENT_TRANSITIONS[source]:
        raise RuleViolation(
            _("事项当前为“%(state)s”，不能改为“%(target)s”。")
            % {"state": EventState(source).label, "target": EventState(target).label},
            code="bad_transition",
        )
    event.state = target
    _entry(event, actor=actor, at=at, text=why, from_state=source, to_state=target)


def contacts_of(household: Household) -> list[ContactPerson]:
    return list(
        ContactPerson.objects.filter(
            assignments__household=household, assignments__ended_at__isnull=True
        )
        .select_related("user")
        .distinct()
    )


def _event_url(event: HouseholdEvent) -> str:
    return reverse("households:event", args=[event.pk])


def _create_event(
    *,
    household: Household,
    kind: str,
    summary: str,
    channel: str,
    actor: Any,
    now: dt.datetime,
    reporter_phone: str = "",
) -> HouseholdEvent:
    if kind not in EventKind.values:
        raise RuleViolation(_("请选择事项类型。"), field="kind")
    summary = (summary or "").strip()
    if not summary:
        raise RuleViolation(_("请简要说明情况。"), field="summary")
    if len(summary) > 500:
        raise RuleViolation(_("情况说明最多 500 个字。"), field="summary")
    if not household.is_active:
        raise RuleViolation(_("该户已不在册。"))
    limit = policy_for(household.region_id).response_limit(kind)
    event = HouseholdEvent.objects.create(
        household=household,
        region_id=household.region_id,
        kind=kind,
        summary=summary,
        channel=channel,
        reported_by=actor if getattr(actor, "is_authenticated", False) else None,
        reporter_phone_masked=crypto.mask_phone(reporter_phone) if reporter_phone else "",
        reported_at=now,
        due_at=now + limit,
    )
    _entry(
        event,
        actor=actor,
        at=now,
        text=_("%(channel)s报告：%(kind)s")
        % {
            "channel": ReportChannel(channel).label,
            "kind": EventKind(kind).label,
        },
        to_state=EventState.OPEN,
    )
    contacts = contacts_of(household)
    # Without a contact person, the station's staff hear of it at once.
    people = [c.user for c in contacts] if contacts else station_staff(household.region_id)
    recipients = [u for u in people if u.pk != user_id_of(actor)]
    notify(
        recipients=recipients,
        verb="household.event",
        title=_("包挂户有新事项：%(kind)s") % {"kind": EventKind(kind).label},
        body=_("%(address)s：%(summary)s。请在 %(due)s 前联系。")
        % {
            "address": household.address,
            "summary": summary[:60],
            "due": timezone.localtime(event.due_at).strftime("%m-%d %H:%M"),
        },
        url=_event_url(event),
        region_code=household.region_id,
        sms=kind == EventKind.EMERGENCY,
    )
    return event


@transaction.atomic
def event_report(
    *,
    actor: Any,
    household: Household,
    kind: str,
    summary: str,
    now: dt.datetime | None = None,
) -> HouseholdEvent:
    """Staff managing the village, or the household's contact person, report one of the
    ten events; it is due for a first contact within the kind's response limit."""
    as_contact = permissions.require_contact_or_manage(actor, household)
    channel = ReportChannel.CONTACT if as_contact else ReportChannel.STAFF
    event = _create_event(
        household=household,
        kind=kind,
        summary=summary,
        channel=channel,
        actor=actor,
        now=now or timezone.now(),
    )
    audit_record(
        actor=actor,
        verb="household.event_report",
        target=event,
        region_code=household.region_id,
        changes={"kind": kind, "channel": channel},
    )
    return event


@transaction.atomic
def event_report_by_household(
    *, code: str, kind: str, summary: str, phone: str = "", now: dt.datetime | None = None
) -> HouseholdEvent:
    """The household itself reports through the link on its contact card (no account).
    The card code is the only key; a wrong code is simply not found. Rate limits are
    the caller's (the public view's) job."""
    household = Household.objects.filter(
        report_code=(code or "").strip().upper(), is_active=True
    ).first()
    if household is None:
        raise NotFound(_("联系卡编码不正确。"))
    phone = normalize_phone(phone) if (phone or "").strip() else ""
    event = _create_event(
        household=household,
        kind=kind,
        summary=summary,
        channel=ReportChannel.HOUSEHOLD,
        actor=None,
        now=now or timezone.now(),
        reporter_phone=phone,
    )
    audit_record(
        actor=None,
        verb="household.event_report",
        target=event,
        region_code=household.region_id,
        changes={"kind": kind, "channel": ReportChannel.HOUSEHOLD},
    )
    return event


@transaction.atomic
def event_cancel(*, actor: Any, event: HouseholdEvent, reason: str) -> HouseholdEvent:
    """Staff withdraw an event reported in error (a duplicate, a prank), with a reason."""
    require(actor, Perm.HOUSEHOLD_MANAGE, event.region_id, view_perm=Perm.HOUSEHOLD_VIEW)
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation(_("请写明原因。"), field="reason")
    locked = HouseholdEvent.objects.select_for_update().get(pk=event.pk)
    now = timezone.now()
    _transition(locked, EventState.CANCELLED, actor=actor, at=now, why=_("撤销：") + reason)
    locked.closed_at = now
    locked.closed_by = actor
    locked.outcome = reason[:500]
    locked.save(update_fields=["state", "closed_at", "closed_by", "outcome"])
    audit_record(
        actor=actor,
        verb="household.event_cancel",
        target=locked,
        region_code=locked.region_id,
        changes={"state": [EventState.OPEN, EventState.CANCELLED]},
        note=reason[:300],
    )
    return locked


# ---------------------------------------------------------------- contacts (visits)

FUTURE_SLACK = dt.timedelta(minutes=5)


@transaction.atomic
def visit_log(
    *,
    actor: Any,
    household: Household,
    channel: str,
    notes: str = "",
    happened_at: dt.datetime | None = None,
    event: HouseholdEvent | None = None,
    close: bool = False,
    outcome: str = "",
    now: dt.datetime | None = None,
) -> Visit:
    """The contact person (or staff managing the village) logs a contact with the
    household. With an event: the first contact answers it (in time or late, against
    its due time), and `close` closes it with an outcome."""
    contact = ContactPerson.objects.filter(
        user_id=user_id_of(actor),
        assignments__household=household,
        assignments__ended_at__isnull=True,
    ).first()
    if contact is None:
        require(actor, Perm.HOUSEHOLD_MANAGE, household.region_id, view_perm=Perm.HOUSEHOLD_VIEW)
    now = now or timezone.now()
    happened_at = happened_at or now
    if channel not in Channel.values:
        raise RuleViolation(_("请选择联系方式。"), field="channel")
    if happened_at > now + FUTURE_SLACK:
        raise RuleViolation(_("联系时间不能晚于现在。"), field="happened_at")
    notes = (notes or "").strip()
    if len(notes) > 1000:
        raise RuleViolation(_("情况记录最多 1000 个字。"), field="notes")
    locked_event = None
    if event is not None:
        if event.household_id != household.pk:
            raise NotFound(_("找不到该事项。"))
        locked_event = HouseholdEvent.objects.select_for_update().get(pk=event.pk)
        if locked_event.state not in (EventState.OPEN, EventState.ANSWERED):
            raise RuleViolation(_("该事项已经办结或撤销。"), field="event")
        # Pages give minutes: a contact in the minute of the report counts from the report.
        if happened_at < locked_event.reported_at.replace(second=0, microsecond=0):
            raise RuleViolation(_("联系时间不能早于事项报告时间。"), field="happened_at")
        happened_at = max(happened_at, locked_event.reported_at)
    if close:
        if locked_event is None:
            raise RuleViolation(_("请选择要办结的事项。"), field="event")
        outcome = (outcome or notes).strip()
        if not outcome:
            raise RuleViolation(_("办结事项请写明办理结果。"), field="outcome")
    visit = Visit.objects.create(
        household=household,
        region_id=household.region_id,
        contact=contact,
        by=actor,
        channel=channel,
        happened_at=happened_at,
        notes=notes,
        event=locked_event,
    )
    Household.objects.filter(pk=household.pk).filter(
        Q(last_contact_at__isnull=True) | Q(last_contact_at__lt=happened_at)
    ).update(last_contact_at=happened_at)
    changes: dict[str, Any] = {"channel": channel, "event": getattr(locked_event, "pk", None)}
    if locked_event is not None:
        ev = locked_event
        text = _("%(channel)s：%(notes)s") % {
            "channel": Channel(channel).label,
            "notes": notes or "—",
        }
        fields = []
        if ev.first_contact_at is None:
            ev.first_contact_at = happened_at
            fields.append("first_contact_at")
            late = happened_at > ev.due_at
            text += " " + (_("（首次联系，超时）") if late else _("（首次联系，按时）"))
        if close:
            _transition(ev, EventState.CLOSED, actor=actor, at=now, why=text)
            ev.closed_at = now
            ev.closed_by = actor
            ev.outcome = outcome[:500]
            fields += ["state", "closed_at", "closed_by", "outcome"]
            changes["state"] = [EventState.OPEN, EventState.CLOSED]
        elif ev.state == EventState.OPEN:
            _transition(ev, EventState.ANSWERED, actor=actor, at=now, why=text)
            fields.append("state")
        else:
            _entry(ev, actor=actor, at=now, text=text)
        if fields:
            ev.save(update_fields=fields)
    audit_record(
        actor=actor,
        verb="household.visit",
        target=household,
        region_code=household.region_id,
        changes=changes,
    )
    return visit


# ---------------------------------------------------------------- overdue alerts


@dataclass
class OverdueResult:
    event_alerts: int = 0
    care_alerts: int = 0
    notified: int = 0


def station_staff(region_code: str) -> list[Any]:
    """The staff of the household's station (station admins of the village), else of
    its institute (institute admins of the town)."""
    town = rc.parent_of(region_code) or region_code
    for role, code in ((Role.STATION_ADMIN, region_code), (Role.INSTITUTE_ADMIN, town)):
        users = staff_on_duty(code, roles=[role])
        if users:
            return users
    return []


def _raise_alert(
    *,
    subject: str,
    household: Household,
    event: HouseholdEvent | None,
    due_at: dt.datetime,
    level: int,
    now: dt.datetime,
) -> OverdueAlert | None:
    """Record one alert unless it exists (the unique constraints decide); notify."""
    try:
        with transaction.atomic():
            alert = OverdueAlert.objects.create(
                subject=subject,
                household=household,
                event=event,
                region_id=household.region_id,
                due_at=due_at,
                level=level,
                created_at=now,
            )
    except IntegrityError:
        return None
    if level == AlertLevel.CONTACT:
        recipients = [c.user for c in contacts_of(household)]
    else:
        recipients = station_staff(household.region_id)
    if subject == AlertSubject.EVENT:
        assert event is not None
        title = _("事项超时未联系：%(kind)s") % {"kind": event.get_kind_display()}
        url = _event_url(event)
        _entry(
            event,
            actor=None,
            at=now,
            text=(
                _("超时提醒已发给联系人") if level == AlertLevel.CONTACT else _("超时已上报站点")
            ),
        )
    else:
        title = _("关爱走访逾期：%(address)s") % {"address": household.address}
        url = reverse("households:detail", args=[household.pk])
    body = _("%(address)s 应于 %(due)s 前联系。") % {
        "address": household.address,
        "due": timezone.localtime(due_at).strftime("%Y-%m-%d %H:%M"),
    }
    alert.recipients = notify(
        recipients=recipients,
        verb=f"household.overdue_{subject}",
        title=title,
        body=body,
        url=url,
        region_code=household.region_id,
        sms=True,
    )
    alert.save(update_fields=["recipients"])
    return alert


def overdue_scan(*, now: dt.datetime | None = None) -> OverdueResult:
    """The periodic job. An open event past its due time alerts its contact person; past
    twice its response limit, the station. A tagged household not contacted within its
    cadence alerts the contact person; past twice the cadence, the station. Each alert
    is sent once (OverdueAlert's unique constraints)."""
    now = now or timezone.now()
    result = OverdueResult()
    events = (
        HouseholdEvent.objects.filter(state=EventState.OPEN, due_at__lte=now)
        .select_related("household")
        .order_by("due_at", "id")
    )
    for event in events.iterator(chunk_size=500):
        limit = event.due_at - event.reported_at
        levels = [AlertLevel.CONTACT]
        if now >= event.due_at + limit or not contacts_of(event.household):
            levels.append(AlertLevel.STATION)
        for level in levels:
            with transaction.atomic():
                alert = _raise_alert(
                    subject=AlertSubject.EVENT,
                    household=event.household,
                    event=event,
                    due_at=event.due_at,
                    level=level,
                    now=now,
                )
            if alert is not None:
                result.event_alerts += 1
                result.notified += alert.recipients
    policies: dict[str, Policy] = {}
    tagged = (
        Household.objects.filter(is_active=True, tags__isnull=False)
        .distinct()
        .prefetch_related("tags")
        .order_by("id")
    )
    for household in tagged.iterator(chunk_size=500):
        county = rc.county_of(household.region_id)
        policy = policies.get(county)
        if policy is None:
            policy = policies[county] = policy_for(household.region_id)
        days = household_cadence(household, policy)
        if days is None:
            continue
        due = care_due_at(household, days)
        if due > now:
            continue
        levels = [AlertLevel.CONTACT]
        if now >= due + dt.timedelta(days=days) or not contacts_of(household):
            levels.append(AlertLevel.STATION)
        for level in levels:
            with transaction.atomic():
                alert = _raise_alert(
                    subject=AlertSubject.CARE,
                    household=household,
                    event=None,
                    due_at=due,
                    level=level,
                    now=now,
                )
            if alert is not None:
                result.care_alerts += 1
                result.notified += alert.recipients
    return result


# ---------------------------------------------------------------- event → resident order


def _requester(household: Household) -> tuple[str, str]:
    """The name and phone an order is placed under: the head of the household if they
    have a phone, else the first member who has one."""
    members = sorted(
        (m for m in household.members.all() if m.phone_cipher),
        key=lambda m: (m.relation != Relation.HEAD, m.pk),
    )
    if not members:
        raise RuleViolation(
            _("该户没有登记手机号码，不能转为点单：请先补充成员的手机号码。"), field="phone"
        )
    member = members[0]
    return crypto.decrypt(member.name_cipher), crypto.decrypt(member.phone_cipher)


@transaction.atomic
def household_event_to_order(
    *,
    actor: Any,
    event: HouseholdEvent,
    menu_item_code: str = "",
    details: str = "",
    preferred_time: str = "",
) -> Any:
    """An event that needs services becomes a resident order (点单) in one step: the
    order is placed on the household's behalf (channel 入户走访, under the name and phone
    of its head) through `demands.services.order_create`, in this transaction, and the
    two are linked both ways. With a menu item it is a menu order, else a request for
    help (我要求助). Staff who manage both the household and demand in the village only;
    an event is converted at most once, and only while it is open or answered."""
    from wenming.demands.models import Channel as OrderChannel
    from wenming.demands.models import RequestKind
    from wenming.demands.services import OrderInput, order_create

    require(actor, Perm.HOUSEHOLD_MANAGE, event.region_id, view_perm=Perm.HOUSEHOLD_VIEW)
    locked = HouseholdEvent.objects.select_for_update().select_related("household").get(pk=event.pk)
    if locked.order_id is not None:
        raise RuleViolation(_("该事项已经转为点单。"), code="already_ordered")
    if locked.state not in (EventState.OPEN, EventState.ANSWERED):
        raise RuleViolation(_("该事项已经办结或撤销，不能转为点单。"), code="bad_transition")
    household = locked.household
    name, phone = _requester(household)
    text = (details or "").strip() or locked.summary
    order = order_create(
        actor=actor,
        data=OrderInput(
            name=name,
            phone=phone,
            region_code=household.region_id,
            menu_item_code=menu_item_code,
            kind=RequestKind.MENU if menu_item_code else RequestKind.HELP,
            address=household.address,
            preferred_time=preferred_time,
            details=f"【十必联·{locked.get_kind_display()}】{text}"[:1000],
            title=f"{locked.get_kind_display()}：{locked.summary}"[:60],
        ),
        channel=OrderChannel.HOUSEHOLD,
    )
    locked.order = order
    locked.save(update_fields=["order"])
    _entry(
        locked,
        actor=actor,
        at=timezone.now(),
        text=_("已转为群众点单，订单号 %(n)s") % {"n": order.number},
    )
    audit_record(
        actor=actor,
        verb="household.event_order",
        target=locked,
        region_code=locked.region_id,
        changes={"order": order.pk, "number": order.number},
    )
    return order
