from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wenming.core.regions import LEVEL_LABELS, Level, prefix_of
from wenming.core.roles import Role

DIGITS_12 = r"^[0-9]{12}$"


class Region(models.Model):
    """A statistical region (统计用区划). The 12-digit code is the key; a region's
    subtree is every code that starts with its prefix."""

    code = models.CharField(_("区划代码"), max_length=12, primary_key=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.PositiveSmallIntegerField(
        _("级别"), choices=[(int(k), v) for k, v in LEVEL_LABELS.items()]
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=DIGITS_12), name="region_code_12_digits"
            ),
            models.CheckConstraint(
                condition=Q(level__gte=1, level__lte=5), name="region_level_1_5"
            ),
            models.CheckConstraint(
                condition=Q(level=1, parent__isnull=True) | Q(level__gt=1, parent__isnull=False),
                name="region_parent_unless_province",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def prefix(self) -> str:
        return prefix_of(self.code)

    @property
    def level_label(self) -> str:
        return str(LEVEL_LABELS[Level(self.level)])


class UnitKind(models.TextChoices):
    CENTER = "center", _("新时代文明实践中心")
    INSTITUTE = "institute", _("新时代文明实践所")
    STATION = "station", _("新时代文明实践站")
    POINT = "point", _("新时代文明实践点")


# The region level at which each kind of unit stands; points stand anywhere.
KIND_LEVEL = {
    UnitKind.CENTER: Level.COUNTY,
    UnitKind.INSTITUTE: Level.TOWN,
    UnitKind.STATION: Level.VILLAGE,
}


class Unit(models.Model):
    """A practice unit: the county center, a town institute, a village station, or a
    practice point (school, library, hall, enterprise…)."""

    kind = models.CharField(_("类型"), max_length=16, choices=UnitKind.choices)
    name = models.CharField(_("名称"), max_length=100)
    region = models.ForeignKey(
        Region, verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="units"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    description = models.TextField(_("简介"), blank=True)
    # Where the unit is (optional): outside systems that send only coordinates
    # (Open311 lat/long) reach the nearest station by it.
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(
        _("经度"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("实践阵地单位")
        verbose_name_plural = _("实践阵地单位")
        ordering = ["region_id", "kind", "name"]
        constraints = [
            # One center per county, one institute per town, one station per village.
            models.UniqueConstraint(
                fields=["region"],
                condition=~Q(kind="point"),
                name="unit_one_per_region_and_level",
            ),
            models.UniqueConstraint(fields=["region", "name"], name="unit_name_unique_in_region"),
            models.CheckConstraint(condition=~Q(name=""), name="unit_name_not_empty"),
        ]
        indexes = [models.Index(fields=["parent", "kind"], name="unit_parent_kind")]

    def __str__(self) -> str:
        return self.name

    @property
    def region_code(self) -> str:
        return self.region_id


class RoleGrant(models.Model):
    """A role held by a user on a region: it applies to the region's whole subtree.
    Revoked grants are kept (revoked_at set) so that the history stays readable."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.PROTECT,
        related_name="grants",
    )
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices)
    region = models.ForeignKey(
        Region, verbose_name=_("管辖区划"), on_delete=models.PROTECT, related_name="grants"
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("所在单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="grants",
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("授权人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("授权时间"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("撤销人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("角色授权")
        verbose_name_plural = _("角色授权")
        ordering = ["region_id", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "region"],
                condition=Q(revoked_at__isnull=True),
                name="grant_unique_active",
            ),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="grant_role_known"),
        ]
        indexes = [models.Index(fields=["user", "revoked_at"], name="grant_user_active")]

    def __str__(self) -> str:
        return f"{self.user.name} · {self.get_role_display()} · {self.region.name}"
