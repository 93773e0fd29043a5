"""Registering volunteers: one set of rules for the form, the staff page and each Excel row
(`registration_clean`), the registering unit, review, and the unit's registration
policy."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wenming.accounts.models import User
from wenming.accounts.phones import normalize_phone
from wenming.accounts.types import Actor, user_of, user_or_none
from wenming.core import crypto
from wenming.core import regions as rc
from wenming.core.access import require
from wenming.core.audit import audit_record
from wenming.core.errors import RuleViolation
from wenming.core.roles import Perm
from wenming.network.models import Region, Unit, UnitKind
from wenming.notifications import verification
from wenming.volunteers import permissions
from wenming.volunteers.identity import age_on, parse_identity
from wenming.volunteers.models import (
    Availability,
    Gender,
    PoliticalStatus,
    RegistrationPolicy,
    Skill,
    Volunteer,
    VolunteerStatus,
)

# Choices' values, computed once: an Excel import checks them 100,000 times.
_GENDERS = frozenset(Gender.values)
_POLITICAL_STATUSES = frozenset(PoliticalStatus.values)
_AVAILABILITY = frozenset(Availability.values)
ADULT_AGE = 18


@dataclass
class RegistrationInput:
    name: str
    phone: str
    id_type: str
    id_number: str
    region_code: str
    consent: bool
    skill_ids: Sequence[int] = ()
    service_region_codes: Sequence[str] = ()
    availability: Sequence[str] = ()
    political_status: str = ""
    guardian_name: str = ""
    guardian_phone: str = ""
    guardian_consent: bool = False
    # Only for documents that do not carry them (the mainland ID number does).
    birth_date: dt.date | None = None
    gender: str = ""
    password: str = ""  # self-registration without an account: the new login's password
    phone_code: str = ""  # ... and the text-message code that proves the phone is theirs
    extra: dict[str, Any] = field(default_factory=dict)


def registering_unit(region: Region) -> Unit:
    """The unit a volunteer living in `region` registers with: the station of the
    village, else the institute of the town, else the county's center."""
    codes = [*rc.ancestors_of(region.code), region.code]
    units = {
        u.region_id: u
        for u in Unit.objects.filter(region_id__in=codes, is_active=True).exclude(
            kind=UnitKind.POINT
        )
    }
    for code in reversed(codes):
        if code in units:
            return units[code]
    raise RuleViolation(_("该地区还没有新时代文明实践站（所），暂时不能注册。"), field="region")


@dataclass(frozen=True)
class RegistrationLookups:
    """What validating a registration needs from the database. Single registration
    queries per call; the Excel import passes dictionaries loaded once per file."""

    region: Callable[[str], Region | None]
    skills: Callable[[Sequence[int]], list[Skill]]
    regions: Callable[[Sequence[str]], list[Region]]


def _region_or_none(code: str) -> Region | None:
    return Region.objects.filter(code=code).first()


DB_LOOKUPS = RegistrationLookups(
    region=_region_or_none,
    skills=lambda ids: list(Skill.objects.filter(pk__in=list(ids))),
    regions=lambda codes: list(Region.objects.filter(code__in=list(codes))),
)


class _Steps:
    """Runs validation steps (`with steps.step():`): the first RuleViolation propagates
    (single registration), or, given a list, every independent one is collected (the
    Excel row report). A plain class, not @contextmanager: it runs a million times in a
    large import."""

    def __init__(self, errors: list[RuleViolation] | None) -> None:
        self.errors = errors

    def step(self) -> _Steps:
        return self

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> bool:
        if isinstance(exc, RuleViolation) and self.errors is not None:
            self.errors.append(exc)
            return True
        return False


def registration_clean(
    data: RegistrationInput,
    today: dt.date,
    *,
    lookups: RegistrationLookups = DB_LOOKUPS,
    errors: list[RuleViolation] | None = None,
) -> dict[str, Any] | None:
    """The registration rules, without writing anything: return the normalized values.
    Without `errors` the first broken rule raises; with it every independent broken rule
    is appended and None is returned when there was any."""
    steps = _Steps(errors)
    found = len(errors) if errors is not None else 0
    name = (data.name or "").strip()
    with steps.step():
        if not name:
            raise RuleViolation(_("请填写姓名。"), field="name")
        if len(name) > 50:
            raise RuleViolation(_("姓名最多 50 个字。"), field="name")
    phone = ""
    with steps.step():
        phone = normalize_phone(data.phone)
    identity = None
    with steps.step():
        identity = parse_identity(data.id_type, data.id_number, today=today)
    birth: dt.date | None = None
    gender = ""
    if identity is not None:
        birth = identity.birth_date or data.birth_date
        gender = identity.gender or data.gender
        with steps.step():
            if birth is None:
                raise RuleViolation(_("请填写出生日期。"), field="birth_date")
            if birth > today:
                raise RuleViolation(_("出生日期不正确。"), field="birth_date")
        with steps.step():
            if gender not in _GENDERS:
                raise RuleViolation(_("请选择性别。"), field="gender")
    with steps.step():
        if not data.consent:
            raise RuleViolation(
                _("请阅读并同意隐私声明：未经您同意，我们不会公开您的个人信息。"),
                field="consent",
            )
    is_minor = birth is not None and birth <= today and age_on(birth, today) < ADULT_AGE
    guardian_phone = ""
    if is_minor:
        with steps.step():
            if not (data.guardian_name or "").strip():
                raise RuleViolation(_("未满 18 周岁，请填写监护人姓名。"), field="guardian_name")
        with steps.step():
            try:
                guardian_phone = normalize_phone(data.guardian_phone)
            except RuleViolation as exc:  # the guardian's number, not the volunteer's
                raise RuleViolation(exc.message, field="guardian_phone") from exc
        with steps.step():
            if not data.guardian_consent:
                raise RuleViolation(
                    _("未满 18 周岁，需要监护人同意后才能注册。"), field="guardian_consent"
                )
    with steps.step():
        if data.political_status and data.political_status not in _POLITICAL_STATUSES:
            raise RuleViolation(_("政治面貌不正确。"), field="political_status")
    with steps.step():
        unknown = set(data.availability) - _AVAILABILITY
        if unknown:
            raise RuleViolation(_("服务时间不正确。"), field="availability")
    region = None
    with steps.step():
        region = lookups.region(data.region_code)
        if region is None or region.level < rc.Level.TOWN:
            raise RuleViolation(_("请选择所在的村（社区）或乡镇（街道）。"), field="region")
    skills: list[Skill] = []
    with steps.step():
        skills = lookups.skills(data.skill_ids)
        if len(skills) != len(set(data.skill_ids)):
            raise RuleViolation(_("技能不正确。"), field="skills")
    service_regions: list[Region] = []
    with steps.step():
        service_regions = lookups.regions(data.service_region_codes)
        if len(service_regions) != len(set(data.service_region_codes)):
            raise RuleViolation(_("服务区域不正确。"), field="service_regions")
    if errors is not None and len(errors) > found:
        return None
    return {
        "name": name,
        "phone": phone,
        "identity": identity,
        "birth": birth,
        "gender": gender,
        "is_minor": is_minor,
        "guardian_phone": guardian_phone,
        "region": region,
        "skills": skills,
        "service_regions": service_regions,
    }


def _clean_input(data: RegistrationInput, today: dt.date) -> dict[str, Any]:
    """Validate everything before anything is written; return the normalized values."""
    values = registration_clean(data, today)
    assert values is not None  # without an error list the first broken rule raises
    return values


ID_NOT_ACCEPTED = gettext_lazy(
    "无法用该证件号码在网上完成注册。请核对号码；如确认无误，请带证件到所在村（社区）"
    "新时代文明实践站办理。"
)


def _duplicate_check(phone: str, id_number: str) -> None:
    if Volunteer.objects.filter(id_digest__in=crypto.digests(id_number)).exists():
        raise RuleViolation(_("该证件号码已经注册过志愿者。"), field="id_number")
    if Volunteer.objects.filter(phone_digest__in=crypto.digests(phone)).exists():
        raise RuleViolation(_("该手机号码已经注册过志愿者。"), field="phone")


@transaction.atomic
def volunteer_register(
    *, actor: Actor, data: RegistrationInput, self_service: bool, today: dt.date | None = None
) -> Volunteer:
    """Register a volunteer (《志愿服务条例》 art. 7, 20).

    Rules: a valid ID (mainland numbers by checksum and birth date, which also give the
    birth date and gender); explicit consent to the privacy notice; a minor only with a
    guardian's consent; one volunteer per ID number and per phone number (also under
    concurrency: unique keyed hashes). Staff register only inside their
    VOLUNTEER_MANAGE scope; self-registration needs no role. The registering unit's
    policy decides whether the volunteer starts pending or registered."""
    today = today or timezone.localdate()
    if not self_service:
        # A role that may register no one anywhere is refused before its input is read.
        permissions.require_register_somewhere(actor)
    values = _clean_input(data, today)
    region: Region = values["region"]
    if not self_service:
        permissions.require_register_at(actor, region.code)
    identity = values["identity"]
    anonymous = self_service and not getattr(actor, "is_authenticated", False)
    if anonymous:
        # The phone is proven the person's own before anything about it is answered.
        verification.phone_code_check(
            phone=values["phone"], purpose=verification.REGISTER, code=data.phone_code
        )
    try:
        _duplicate_check(values["phone"], identity.number)
    except RuleViolation as exc:
        if anonymous and exc.field == "id_number":
            # Not "this ID is registered": an anonymous page must not confirm who is.
            # The code is spent, so each probe costs a fresh, rate-limited code.
            verification.phone_code_spend(phone=values["phone"], purpose=verification.REGISTER)
            raise RuleViolation(ID_NOT_ACCEPTED, field="id_number") from None
        raise
    unit = registering_unit(region)
    policy = RegistrationPolicy.objects.filter(unit=unit).first()
    needs_review = bool(policy and policy.approval_required)

    user = None
    if self_service:
        user = _self_service_user(actor, values["phone"], values["name"], data.password, region)

    now = timezone.now()
    volunteer = Volunteer(
        user=user,
        name=values["name"],
        gender=values["gender"],
        birth_date=values["birth"],
        id_type=identity.id_type,
        id_digest=crypto.digest(identity.number),
        id_cipher=crypto.encrypt(identity.number),
        id_masked=crypto.mask_id_number(identity.number),
        phone_digest=crypto.digest(values["phone"]),
        phone_cipher=crypto.encrypt(values["phone"]),
        phone_masked=crypto.mask_phone(values["phone"]),
        region=region,
        unit=unit,
        availability=sorted(set(data.availability)),
        political_status=data.political_status,
        is_minor=values["is_minor"],
        guardian_name=(data.guardian_name or "").strip() if values["is_minor"] else "",
        guardian_phone_cipher=crypto.encrypt(values["guardian_phone"])
        if values["guardian_phone"]
        else "",
        guardian_phone_masked=crypto.mask_phone(values["guardian_phone"])
        if values["guardian_phone"]
        else "",
        guardian_consent_at=now if values["is_minor"] else None,
        consent_at=now,
        status=VolunteerStatus.PENDING if needs_review else VolunteerStatus.ACTIVE,
    )
    try:
        with transaction.atomic():
            volunteer.save()
    except IntegrityError as exc:  # a concurrent registration of the same ID or phone
        raise RuleViolation(_("该证件号码或手机号码已经注册过志愿者。"), field="id_number") from exc
    volunteer.number = f"{rc.county_prefix(region.code)}{volunteer.pk:08d}"
    volunteer.save(update_fields=["number"])
    volunteer.skills.set(values["skills"])
    volunteer.service_regions.set(values["service_regions"])
    audit_record(
        actor=actor,
        verb="volunteer.register",
        target=volunteer,
        region_code=region.code,
        changes={
            "number": [None, volunteer.number],
            "name": [None, volunteer.name],
            "id": [None, volunteer.id_masked],
            "phone": [None, volunteer.phone_masked],
            "status": [None, volunteer.status],
        },
        note="self" if self_service else "",
    )
    if anonymous:
        verification.phone_code_spend(phone=values["phone"], purpose=verification.REGISTER)
    return volunteer


def _self_service_user(actor: Actor, phone: str, name: str, password: str, region: Region) -> User:
    """The login a self-registered volunteer gets: the logged-in user (whose number must
    match), or a new one with the chosen password."""
    from wenming.accounts.services import user_create

    signed_in = user_or_none(actor)
    if signed_in is not None:
        if Volunteer.objects.filter(user=signed_in).exists():
            raise RuleViolation(_("您已经注册过志愿者。"))
        if signed_in.phone_digest not in crypto.digests(phone):
            raise RuleViolation(_("手机号码需与登录账号一致。"), field="phone")
        return signed_in
    if not password:
        raise RuleViolation(_("请设置登录密码。"), field="password")
    return user_create(
        actor=None, phone=phone, name=name, password=password, region_code=region.code
    )


@transaction.atomic
def volunteer_review(
    *, actor: Actor, volunteer: Volunteer, approve: bool, note: str = ""
) -> Volunteer:
    """Approve or reject a pending registration (only pending ones)."""
    permissions.require_manage(actor, volunteer)
    locked = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    if locked.status != VolunteerStatus.PENDING:
        raise RuleViolation(_("只能审核待审核的注册。"))
    if not approve and not note.strip():
        raise RuleViolation(_("不通过时请写明原因。"), field="note")
    before = locked.status
    locked.status = VolunteerStatus.ACTIVE if approve else VolunteerStatus.REJECTED
    locked.reviewed_by = user_of(actor)
    locked.reviewed_at = timezone.now()
    locked.review_note = note.strip()[:300]
    locked.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note", "updated_at"])
    audit_record(
        actor=actor,
        verb="volunteer.review",
        target=locked,
        region_code=locked.region_id,
        changes={"status": [before, locked.status]},
        note=locked.review_note,
    )
    return locked


@transaction.atomic
def registration_policy_set(*, actor: Actor, unit: Unit, approval_required: bool) -> bool:
    """A unit chooses whether new registrations with it need approval (审核). Staff with
    VOLUNTEER_MANAGE over the unit's region only. Returns whether anything changed."""
    require(actor, Perm.VOLUNTEER_MANAGE, unit.region_id, view_perm=Perm.VOLUNTEER_VIEW)
    policy, created = RegistrationPolicy.objects.select_for_update().get_or_create(
        unit=unit, defaults={"approval_required": approval_required}
    )
    before = None if created else policy.approval_required
    if before == approval_required:
        return False
    if not created:
        policy.approval_required = approval_required
        policy.save(update_fields=["approval_required"])
    audit_record(
        actor=actor,
        verb="volunteer.registration_policy",
        target=unit,
        region_code=unit.region_id,
        changes={"approval_required": [bool(before), approval_required]},
    )
    return True
