"""The register itself: the settings of a place, households and their members, contact
persons and who is assigned to whom."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from wenming.accounts.phones import normalize_phone
from wenming.accounts.types import Actor, user_of
from wenming.core import crypto
from wenming.core import regions as rc
from wenming.core.access import in_scope, require
from wenming.core.audit import audit_record
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.core.roles import Perm, Role
from wenming.households.models import (
    Assignment,
    AssignmentKind,
    CareTag,
    ContactPerson,
    EventKind,
    Household,
    HouseholdMember,
    HouseholdPolicy,
    Relation,
    new_report_code,
)
from wenming.households.permissions import is_contact_of
from wenming.households.policy import (
    MAX_CADENCE_DAYS,
    MAX_RESPONSE_HOURS,
    policy_for,
)
from wenming.network.models import Region, RoleGrant


@transaction.atomic
def household_policy_set(
    *,
    actor: Actor,
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


def clean_member(data: MemberInput, today: dt.date) -> dict[str, Any]:
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
    *, actor: Actor, data: HouseholdInput, today: dt.date | None = None
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
    members = [clean_member(m, today) for m in data.members]
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
    actor: Actor,
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
    *, actor: Actor, household: Household, data: MemberInput, today: dt.date | None = None
) -> HouseholdMember:
    require(actor, Perm.HOUSEHOLD_MANAGE, household.region_id, view_perm=Perm.HOUSEHOLD_VIEW)
    values = clean_member(data, today or timezone.localdate())
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
def member_remove(*, actor: Actor, member: HouseholdMember, reason: str) -> None:
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
def member_reveal(*, actor: Actor, member: HouseholdMember, what: str, reason: str = "") -> str:
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
def report_code_reset(*, actor: Actor, household: Household) -> str:
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
    *, actor: Actor, phone: str, region_code: str, is_party_member: bool = False
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
    actor: Actor,
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
    *, actor: Actor, household: Household, contact: ContactPerson, kind: str
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
                started_by=user_of(actor),
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
def assignment_end(*, actor: Actor, assignment: Assignment, reason: str) -> Assignment:
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
