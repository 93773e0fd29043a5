"""Writes to the practice network. Each service checks the actor's role and scope,
changes state atomically, and records an audit event."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wenming.accounts.models import User
from wenming.accounts.types import Actor, user_of
from wenming.core import regions as rc
from wenming.core.access import forget_grants, grants_of, in_scope, require
from wenming.core.audit import audit_record, diff, snapshot
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.core.roles import GRANTABLE_ROLES, ROLE_LEVELS, Perm, Role
from wenming.core.text import DESCRIPTION_MAX
from wenming.network.models import KIND_LEVEL, Region, RoleGrant, Unit, UnitKind

# ---------------------------------------------------------------- regions


@dataclass(frozen=True)
class RegionImportResult:
    created: int
    updated: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


def read_regions_csv(path: str | Path) -> list[tuple[str, str]]:
    """Rows of a `code,name` CSV (the format of src/wenming/data/regions-*.csv)."""
    rows = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"code", "name"} <= set(reader.fieldnames):
            raise RuleViolation(_("区划文件需要 code 和 name 两列。"))
        for line, row in enumerate(reader, start=2):
            code, name = (row.get("code") or "").strip(), (row.get("name") or "").strip()
            if not name:
                raise RuleViolation(_("第 %(line)d 行：名称为空。") % {"line": line})
            try:
                rows.append((rc.normalize(code), name))
            except rc.InvalidRegionCode as exc:
                raise RuleViolation(
                    _("第 %(line)d 行：区划代码 %(code)s 不正确。") % {"line": line, "code": code}
                ) from exc
    return rows


@transaction.atomic
def regions_import(*, actor: Actor | None, rows: Iterable[tuple[str, str]]) -> RegionImportResult:
    """Insert or rename regions. Every region's parent must be in the rows or already in
    the database; running the same rows twice changes nothing."""
    wanted: dict[str, str] = {}
    for code, name in rows:
        try:
            wanted[rc.normalize(code)] = name
        except rc.InvalidRegionCode as exc:
            # Callers other than the CSV reader get the service's error, not a ValueError.
            raise RuleViolation(
                _("区划代码 %(code)s 不正确。") % {"code": code}, field="code"
            ) from exc
    if not wanted:
        raise RuleViolation(_("区划文件没有数据。"))
    if actor is not None:
        # None is the system (the command line, the demo loader); a person imports
        # or renames regions only inside the subtree they manage.
        for code in sorted(wanted):
            require(actor, Perm.NETWORK_MANAGE, code, view_perm=Perm.NETWORK_VIEW)
    existing = {r.code: r for r in Region.objects.filter(code__in=list(wanted))}
    missing_parents = {
        parent
        for code in wanted
        if (parent := rc.parent_of(code)) is not None and parent not in wanted
    }
    known_parents = set(
        Region.objects.filter(code__in=list(missing_parents)).values_list("code", flat=True)
    )
    if missing_parents - known_parents:
        first = sorted(missing_parents - known_parents)[0]
        raise RuleViolation(_("缺少上级区划 %(code)s。") % {"code": first})

    created = updated = unchanged = 0
    for code in sorted(wanted, key=lambda c: (rc.level_of(c), c)):
        name = wanted[code]
        region = existing.get(code)
        if region is None:
            Region.objects.create(
                code=code, name=name, level=int(rc.level_of(code)), parent_id=rc.parent_of(code)
            )
            created += 1
        elif region.name != name:
            Region.objects.filter(code=code).update(name=name)
            updated += 1
        else:
            unchanged += 1
    if created or updated:
        top = min(wanted, key=lambda c: (rc.level_of(c), c))
        audit_record(
            actor=actor,
            verb="regions.import",
            target=Region.objects.get(code=top),
            region_code=top,
            changes={"created": created, "updated": updated},
        )
    return RegionImportResult(created, updated, unchanged)


# ---------------------------------------------------------------- units

UNIT_FIELDS = [
    "kind", "name", "region", "parent", "address", "phone", "description",
    "latitude", "longitude", "is_active",
]  # fmt: skip
UNIT_EDITABLE = {"name", "address", "phone", "description", "latitude", "longitude", "is_active"}


def _unit_coordinates(fields: dict[str, Any], unit: Unit) -> None:
    """Latitude and longitude as decimals, set together or cleared together, in range."""
    from decimal import Decimal, InvalidOperation

    for key, low, high in (("latitude", -90, 90), ("longitude", -180, 180)):
        if key not in fields:
            continue
        raw = fields[key]
        if raw in (None, ""):
            fields[key] = None
            continue
        try:
            value = Decimal(str(raw)).quantize(Decimal("0.000001"))
        except (InvalidOperation, ValueError):
            raise RuleViolation(_("坐标格式不正确。"), field=key) from None
        if not low <= value <= high:
            raise RuleViolation(_("坐标超出范围。"), field=key)
        fields[key] = value
    lat = fields.get("latitude", unit.latitude)
    lon = fields.get("longitude", unit.longitude)
    if (lat is None) != (lon is None):
        raise RuleViolation(_("纬度和经度须同时填写。"), field="latitude")


def _unit_text(field: str, value: Any) -> str:
    """A unit's text field, stripped; too long or with NUL characters is a rule violation
    (the database would refuse it with a server error instead)."""
    text = str(value).strip()
    model_field = Unit._meta.get_field(field)
    assert isinstance(model_field, models.Field)
    label = model_field.verbose_name
    if "\x00" in text:
        raise RuleViolation(_("%(label)s含有不允许的字符。") % {"label": label}, field=field)
    # A TextField (the description) has no column limit: the documented one applies.
    max_length = model_field.max_length or DESCRIPTION_MAX
    if len(text) > max_length:
        raise RuleViolation(
            _("%(label)s最多 %(n)d 个字。") % {"label": label, "n": max_length}, field=field
        )
    return text


def _parent_unit_for(kind: str, region: Region) -> Unit | None:
    """The unit a new unit hangs under: the nearest unit up the region tree."""
    if kind == UnitKind.CENTER:
        return None
    codes = rc.ancestors_of(region.code)
    if kind == UnitKind.POINT:
        codes = [*codes, region.code]
    candidates = {
        u.region_id: u
        for u in Unit.objects.filter(region_id__in=codes).exclude(kind=UnitKind.POINT)
    }
    for code in reversed(codes):
        if code in candidates:
            return candidates[code]
    return None


@transaction.atomic
def unit_create(
    *,
    actor: Actor,
    kind: str,
    name: str,
    region_code: str,
    address: str = "",
    phone: str = "",
    description: str = "",
) -> Unit:
    """Create a unit in the actor's manage scope. A center stands at a county, an
    institute at a town, a station at a village; a point anywhere. Its parent is the
    nearest unit above it."""
    name = _unit_text("name", name)
    if not name:
        raise RuleViolation(_("请填写单位名称。"), field="name")
    address = _unit_text("address", address)
    phone = _unit_text("phone", phone)
    description = _unit_text("description", description)
    if kind not in UnitKind.values:
        raise RuleViolation(_("单位类型不正确。"), field="kind")
    require(actor, Perm.NETWORK_MANAGE, region_code, view_perm=Perm.NETWORK_VIEW)
    try:
        region = Region.objects.get(code=region_code)
    except Region.DoesNotExist as exc:
        raise NotFound(_("找不到该区划。")) from exc
    expected = KIND_LEVEL.get(UnitKind(kind))
    if expected is not None and region.level != expected:
        raise RuleViolation(
            _("%(kind)s 应设在%(level)s一级。")
            % {"kind": UnitKind(kind).label, "level": rc.LEVEL_LABELS[expected]},
            field="region",
        )
    if (
        kind != UnitKind.POINT
        and Unit.objects.filter(region=region).exclude(kind=UnitKind.POINT).exists()
    ):
        raise RuleViolation(
            _("该区划已有%(kind)s。") % {"kind": UnitKind(kind).label}, field="region"
        )
    if Unit.objects.filter(region=region, name=name).exists():
        raise RuleViolation(_("同一区划内已有同名单位。"), field="name")
    unit = Unit(
        kind=kind,
        name=name,
        region=region,
        parent=_parent_unit_for(kind, region),
        address=address,
        phone=phone,
        description=description,
    )
    try:
        with transaction.atomic():
            unit.save()
    except IntegrityError as exc:  # a concurrent create won the race
        raise RuleViolation(_("该区划已有同类单位或同名单位。"), field="region") from exc
    audit_record(
        actor=actor,
        verb="unit.create",
        target=unit,
        region_code=region.code,
        changes=diff({}, snapshot(unit, UNIT_FIELDS)),
    )
    return unit


@transaction.atomic
def unit_update(*, actor: Actor, unit: Unit, **fields: Any) -> Unit:
    """Edit a unit's name, contact details, description or active flag."""
    unknown = set(fields) - UNIT_EDITABLE
    if unknown:
        raise RuleViolation(_("不能修改这些字段：%(f)s") % {"f": ", ".join(sorted(unknown))})
    require(actor, Perm.NETWORK_MANAGE, unit.region_id, view_perm=Perm.NETWORK_VIEW)
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    before = snapshot(unit, UNIT_FIELDS)
    for key in fields.keys() & {"name", "address", "phone", "description"}:
        fields[key] = _unit_text(key, fields[key])
    _unit_coordinates(fields, unit)
    if "name" in fields:
        if not fields["name"]:
            raise RuleViolation(_("请填写单位名称。"), field="name")
        if (
            Unit.objects.filter(region_id=unit.region_id, name=fields["name"])
            .exclude(pk=unit.pk)
            .exists()
        ):
            raise RuleViolation(_("同一区划内已有同名单位。"), field="name")
    for key, value in fields.items():
        setattr(unit, key, value)
    changes = diff(before, snapshot(unit, UNIT_FIELDS))
    if not changes:
        return unit
    unit.save()
    audit_record(
        actor=actor, verb="unit.update", target=unit, region_code=unit.region_id, changes=changes
    )
    return unit


# ---------------------------------------------------------------- role grants


def _may_grant(actor: Actor, role: str, region_code: str) -> bool:
    return any(
        region_code.startswith(g.prefix) and role in GRANTABLE_ROLES.get(g.role, frozenset())
        for g in grants_of(actor)
    )


@transaction.atomic
def grant_role(
    *, actor: Actor, user: User, role: str, region_code: str, unit: Unit | None = None
) -> RoleGrant:
    """Give `user` a role on a region. The actor must manage grants there and hold a
    role that may grant this one; the role must fit the region's level."""
    if role not in Role.values:
        raise RuleViolation(_("角色不正确。"), field="role")
    require(actor, Perm.GRANTS_MANAGE, region_code, view_perm=Perm.NETWORK_VIEW)
    if not _may_grant(actor, role, region_code):
        raise Forbidden(_("您不能授予“%(role)s”角色。") % {"role": Role(role).label})
    try:
        region = Region.objects.get(code=region_code)
    except Region.DoesNotExist as exc:
        raise NotFound(_("找不到该区划。")) from exc
    if rc.Level(region.level) not in ROLE_LEVELS[role]:
        levels = "、".join(str(rc.LEVEL_LABELS[lv]) for lv in sorted(ROLE_LEVELS[role]))
        raise RuleViolation(
            _("“%(role)s”只能授予在%(levels)s一级。")
            % {"role": Role(role).label, "levels": levels},
            field="region",
        )
    if unit is not None and not unit.region_id.startswith(region.prefix):
        raise RuleViolation(_("所在单位不在该区划内。"), field="unit")
    if RoleGrant.objects.filter(
        user=user, role=role, region=region, revoked_at__isnull=True
    ).exists():
        raise RuleViolation(_("该用户已在此区划拥有这个角色。"), field="role")
    try:
        with transaction.atomic():
            grant = RoleGrant.objects.create(
                user=user, role=role, region=region, unit=unit, granted_by=user_of(actor)
            )
    except IntegrityError as exc:
        raise RuleViolation(_("该用户已在此区划拥有这个角色。"), field="role") from exc
    audit_record(
        actor=actor,
        verb="grant.create",
        target=grant,
        region_code=region.code,
        changes={"user": [None, user.pk], "role": [None, role], "region": [None, region.code]},
    )
    forget_grants(user)
    return grant


@transaction.atomic
def grant_revoke(*, actor: Actor, grant: RoleGrant, reason: str = "") -> RoleGrant:
    """Revoke a grant (kept with revoked_at for history). One cannot revoke one's own
    last grant that manages grants, so that a county never locks itself out by mistake."""
    require(actor, Perm.GRANTS_MANAGE, grant.region_id, view_perm=Perm.NETWORK_VIEW)
    if not _may_grant(actor, grant.role, grant.region_id):
        raise Forbidden(_("您不能撤销“%(role)s”角色。") % {"role": grant.get_role_display()})
    locked = RoleGrant.objects.select_for_update().get(pk=grant.pk)
    if locked.revoked_at is not None:
        raise RuleViolation(_("该授权已撤销。"))
    if locked.user_id == getattr(actor, "pk", None) and locked.role in GRANTABLE_ROLES:
        raise RuleViolation(_("不能撤销自己的管理角色，请让上级管理员操作。"))
    locked.revoked_at = timezone.now()
    locked.revoked_by = user_of(actor)
    locked.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(
        actor=actor,
        verb="grant.revoke",
        target=locked,
        region_code=locked.region_id,
        changes={"revoked_at": [None, locked.revoked_at.isoformat()]},
        note=reason,
    )
    forget_grants(locked.user)
    return locked


def staff_user_for_grant(
    *, actor: Actor, phone: str, name: str, password: str, region_code: str
) -> User:
    """The user a grant at `region_code` goes to: found by phone, or created (audited
    there) with the given initial password. Only someone who may grant roles at that
    region may create a login this way."""
    from wenming.accounts.services import user_create

    require(actor, Perm.GRANTS_MANAGE, region_code, view_perm=Perm.NETWORK_VIEW)
    try:
        return User.objects.get_by_phone(phone)
    except User.DoesNotExist:
        return user_create(
            actor=actor, phone=phone, name=name, password=password, region_code=region_code
        )


def actor_may_manage(actor: Actor, unit: Unit) -> bool:
    return in_scope(actor, Perm.NETWORK_MANAGE, unit.region_id)


def actor_may_grant_here(actor: Actor, unit: Unit) -> bool:
    return in_scope(actor, Perm.GRANTS_MANAGE, unit.region_id)


def grantable_roles(actor: Actor, region_code: str) -> list[str]:
    level = rc.level_of(region_code)
    return [
        role
        for role in Role.values
        if _may_grant(actor, role, region_code) and level in ROLE_LEVELS[role]
    ]
