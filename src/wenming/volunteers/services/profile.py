"""A volunteer's record after registration: editing (by themselves or staff), revealing one
number (audited), suspending and restoring."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from wenming.accounts.phones import normalize_phone
from wenming.accounts.types import Actor
from wenming.core import crypto
from wenming.core.audit import audit_record
from wenming.core.errors import RuleViolation
from wenming.network.models import Region
from wenming.volunteers import permissions
from wenming.volunteers.models import (
    Availability,
    PoliticalStatus,
    Skill,
    Volunteer,
    VolunteerStatus,
)

SELF_EDITABLE = {"skill_ids", "service_region_codes", "availability", "political_status"}
STAFF_EDITABLE = SELF_EDITABLE | {"name", "phone"}


def _profile_snapshot(v: Volunteer) -> dict[str, Any]:
    return {
        "name": v.name,
        "phone": v.phone_masked,
        "political_status": v.political_status,
        "availability": list(v.availability),
        "skill_ids": sorted(v.skills.values_list("id", flat=True)),
        "service_region_codes": sorted(v.service_regions.values_list("code", flat=True)),
    }


@transaction.atomic
def volunteer_update(*, actor: Actor, volunteer: Volunteer, **fields: Any) -> Volunteer:
    """Edit a profile. The volunteer edits their own skills, service regions, service
    times and political status; staff with VOLUNTEER_MANAGE over the volunteer's region
    may also correct the name and phone. The ID number is never edited (a wrong one
    means a new registration after the old is suspended)."""
    is_self = volunteer.user_id is not None and volunteer.user_id == getattr(actor, "pk", None)
    if is_self:
        allowed = SELF_EDITABLE
    else:
        permissions.require_manage(actor, volunteer)
        allowed = STAFF_EDITABLE
    unknown = set(fields) - allowed
    if unknown:
        raise RuleViolation(_("不能修改这些信息：%(f)s") % {"f": ", ".join(sorted(unknown))})
    locked = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    before = _profile_snapshot(locked)
    if "name" in fields:
        name = str(fields["name"]).strip()
        if not name or len(name) > 50:
            raise RuleViolation(_("请填写姓名（最多 50 个字）。"), field="name")
        locked.name = name
    if "phone" in fields:
        phone = normalize_phone(fields["phone"])
        others = Volunteer.objects.filter(phone_digest__in=crypto.digests(phone)).exclude(
            pk=locked.pk
        )
        if others.exists():
            raise RuleViolation(_("该手机号码已经注册过志愿者。"), field="phone")
        locked.phone_digest = crypto.digest(phone)
        locked.phone_cipher = crypto.encrypt(phone)
        locked.phone_masked = crypto.mask_phone(phone)
    if "political_status" in fields:
        if fields["political_status"] and fields["political_status"] not in PoliticalStatus.values:
            raise RuleViolation(_("政治面貌不正确。"), field="political_status")
        locked.political_status = fields["political_status"]
    if "availability" in fields:
        slots = set(fields["availability"])
        if slots - set(Availability.values):
            raise RuleViolation(_("服务时间不正确。"), field="availability")
        locked.availability = sorted(slots)
    skills = service_regions = None
    if "skill_ids" in fields:
        wanted = set(fields["skill_ids"])
        skills = list(Skill.objects.filter(pk__in=wanted))
        if len(skills) != len(wanted):
            raise RuleViolation(_("技能不正确。"), field="skills")
    if "service_region_codes" in fields:
        codes = set(fields["service_region_codes"])
        service_regions = list(Region.objects.filter(code__in=codes))
        if len(service_regions) != len(codes):
            raise RuleViolation(_("服务区域不正确。"), field="service_regions")
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError as exc:
        raise RuleViolation(_("该手机号码已经注册过志愿者。"), field="phone") from exc
    if skills is not None:
        locked.skills.set(skills)
    if service_regions is not None:
        locked.service_regions.set(service_regions)
    changes = {
        k: [v, after] for k, v in before.items() if (after := _profile_snapshot(locked)[k]) != v
    }
    if changes:
        audit_record(
            actor=actor,
            verb="volunteer.update",
            target=locked,
            region_code=locked.region_id,
            changes=changes,
            note="self" if is_self else "",
        )
    return locked


REVEALABLE = {"id_number": "id_cipher", "phone": "phone_cipher"}


@transaction.atomic
def volunteer_reveal(*, actor: Actor, volunteer: Volunteer, what: str, reason: str = "") -> str:
    """Show one plaintext ID or phone number to a role granted PERSONAL_REVEAL over the
    volunteer's region; every reveal is audited (without the number itself)."""
    permissions.require_reveal(actor, volunteer)
    if what not in REVEALABLE:
        raise RuleViolation(_("不能查看该信息。"))
    value = crypto.decrypt(getattr(volunteer, REVEALABLE[what]))
    audit_record(
        actor=actor,
        verb="volunteer.reveal",
        target=volunteer,
        region_code=volunteer.region_id,
        changes={"field": what},
        note=reason.strip()[:300],
    )
    return value


@transaction.atomic
def volunteer_set_active(
    *, actor: Actor, volunteer: Volunteer, active: bool, reason: str
) -> Volunteer:
    """Suspend a registered volunteer (停用) or restore a suspended one, with a reason.
    Only staff managing the volunteer's region; only active ↔ suspended (a pending
    registration is reviewed instead). The record and its hours are kept either way."""
    permissions.require_manage(actor, volunteer)
    reason = reason.strip()
    if not reason:
        raise RuleViolation(_("请写明原因。"), field="reason")
    locked = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    source, target = (
        (VolunteerStatus.SUSPENDED, VolunteerStatus.ACTIVE)
        if active
        else (VolunteerStatus.ACTIVE, VolunteerStatus.SUSPENDED)
    )
    if locked.status != source:
        raise RuleViolation(
            _("只能恢复已停用的志愿者。") if active else _("只能停用已注册的志愿者。")
        )
    locked.status = target
    locked.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        verb="volunteer.restore" if active else "volunteer.suspend",
        target=locked,
        region_code=locked.region_id,
        changes={"status": [source, target]},
        note=reason[:300],
    )
    return locked
