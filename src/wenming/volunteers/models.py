from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wenming.network.models import Region, Unit


class IdType(models.TextChoices):
    RIC = "ric", _("居民身份证")
    HK_MACAO = "hkmo", _("港澳居民来往内地通行证")
    TAIWAN = "tw", _("台湾居民来往大陆通行证")
    PASSPORT = "passport", _("护照")


class Gender(models.TextChoices):
    MALE = "m", _("男")
    FEMALE = "f", _("女")


class PoliticalStatus(models.TextChoices):
    CPC = "cpc", _("中共党员")
    PROBATIONARY = "probationary", _("中共预备党员")
    CYL = "cyl", _("共青团员")
    DEMOCRATIC = "democratic", _("民主党派")
    MASSES = "masses", _("群众")


class Availability(models.TextChoices):
    WEEKDAY_DAY = "weekday_day", _("工作日白天")
    WEEKDAY_EVENING = "weekday_evening", _("工作日晚上")
    WEEKEND_DAY = "weekend_day", _("周末白天")
    WEEKEND_EVENING = "weekend_evening", _("周末晚上")


class VolunteerStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    ACTIVE = "active", _("已注册")
    REJECTED = "rejected", _("未通过")
    SUSPENDED = "suspended", _("已停用")


class Skill(models.Model):
    """A skill volunteers offer (configurable list)."""

    name = models.CharField(_("名称"), max_length=30, unique=True)
    sort = models.PositiveSmallIntegerField(_("排序"), default=100)

    class Meta:
        verbose_name = _("技能")
        verbose_name_plural = _("技能")
        ordering = ["sort", "name"]

    def __str__(self) -> str:
        return self.name


class Volunteer(models.Model):
    """A registered volunteer. The ID number and phone are stored encrypted with a keyed
    hash beside them (unique, searchable) and a masked form for display; the volunteer
    number stands in for the ID number wherever a number is shown."""

    # (ciphertext field, keyed-hash field or None): re-encrypted by `wenming rotate_data_key`.
    ENCRYPTED_FIELDS: ClassVar[tuple[tuple[str, str | None], ...]] = (
        ("id_cipher", "id_digest"),
        ("phone_cipher", "phone_digest"),
        ("guardian_phone_cipher", None),
    )

    number = models.CharField(_("志愿者编号"), max_length=20, unique=True, null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登录账号"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="volunteer",
    )
    name = models.CharField(_("姓名"), max_length=50)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices)
    birth_date = models.DateField(_("出生日期"))
    id_type = models.CharField(_("证件类型"), max_length=10, choices=IdType.choices)
    id_digest = models.CharField(max_length=64, unique=True, editable=False)
    id_cipher = models.TextField(editable=False)
    id_masked = models.CharField(_("证件号码"), max_length=40, editable=False)
    phone_digest = models.CharField(max_length=64, unique=True, editable=False)
    phone_cipher = models.TextField(editable=False)
    phone_masked = models.CharField(_("手机号码"), max_length=20, editable=False)
    region = models.ForeignKey(
        Region, verbose_name=_("所在村（社区）"), on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("注册单位"), on_delete=models.PROTECT, related_name="volunteers"
    )
    service_regions = models.ManyToManyField(
        Region, verbose_name=_("服务区域"), blank=True, related_name="+"
    )
    skills = models.ManyToManyField(Skill, verbose_name=_("技能"), blank=True)
    availability = models.JSONField(_("服务时间"), default=list, blank=True)
    political_status = models.CharField(
        _("政治面貌"), max_length=16, choices=PoliticalStatus.choices, blank=True
    )
    is_minor = models.BooleanField(_("未成年"), default=False)
    guardian_name = models.CharField(_("监护人姓名"), max_length=50, blank=True)
    guardian_phone_masked = models.CharField(_("监护人电话"), max_length=20, blank=True)
    guardian_phone_cipher = models.TextField(blank=True, editable=False)
    guardian_consent_at = models.DateTimeField(_("监护人同意时间"), null=True, blank=True)
    consent_at = models.DateTimeField(_("同意隐私声明时间"))
    status = models.CharField(
        _("状态"), max_length=10, choices=VolunteerStatus.choices, default=VolunteerStatus.PENDING
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    review_note = models.CharField(_("审核意见"), max_length=300, blank=True)
    confirmed_minutes = models.PositiveIntegerField(_("确认服务时长（分钟）"), default=0)
    star_level = models.PositiveSmallIntegerField(_("星级"), default=0)
    created_at = models.DateTimeField(_("注册时间"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("志愿者")
        verbose_name_plural = _("志愿者")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(star_level__lte=5), name="volunteer_star_0_5"),
            models.CheckConstraint(
                condition=Q(is_minor=False) | Q(guardian_consent_at__isnull=False),
                name="volunteer_minor_needs_guardian",
            ),
            models.CheckConstraint(
                condition=Q(status__in=VolunteerStatus.values), name="volunteer_status_known"
            ),
        ]
        indexes = [
            models.Index(fields=["region", "status"], name="volunteer_region_status"),
            models.Index(fields=["name"], name="volunteer_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.number or self.get_status_display()}）"

    @property
    def confirmed_hours(self) -> float:
        return round(self.confirmed_minutes / 60, 1)


class RegistrationPolicy(models.Model):
    """A unit's choice: do new registrations there need approval?"""

    unit = models.OneToOneField(Unit, on_delete=models.CASCADE, related_name="registration_policy")
    approval_required = models.BooleanField(_("新注册需审核"), default=False)

    class Meta:
        verbose_name = _("注册设置")
        verbose_name_plural = _("注册设置")

    def __str__(self) -> str:
        return f"{self.unit}: {self.approval_required}"


class StarPolicy(models.Model):
    """Star-level thresholds in confirmed hours for a jurisdiction (its subtree);
    the nearest policy up the tree applies, else the defaults."""

    region = models.OneToOneField(Region, on_delete=models.CASCADE, related_name="star_policy")
    thresholds = models.JSONField(_("一至五星所需小时数"))

    class Meta:
        verbose_name = _("星级标准")
        verbose_name_plural = _("星级标准")

    def __str__(self) -> str:
        return f"{self.region}: {self.thresholds}"


class TeamType(models.Model):
    """A configurable kind of volunteer team (理论宣讲, 文化文艺 ...)."""

    name = models.CharField(_("名称"), max_length=40, unique=True)
    sort = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["sort", "name"]
        verbose_name = _("服务队类型")
        verbose_name_plural = _("服务队类型")

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    """A volunteer team (志愿服务队) owned by a practice unit."""

    name = models.CharField(_("名称"), max_length=100)
    team_type = models.ForeignKey(
        TeamType, on_delete=models.PROTECT, related_name="teams", verbose_name=_("类型")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="teams", verbose_name=_("所属单位")
    )
    # Copied from unit.region so that scoping is one prefix filter.
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="teams", verbose_name=_("区划")
    )
    description = models.TextField(_("简介"), blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("志愿服务队")
        verbose_name_plural = _("志愿服务队")
        constraints = [
            models.UniqueConstraint(fields=["unit", "name"], name="team_unique_name_per_unit"),
        ]

    def __str__(self) -> str:
        return self.name


class MembershipRole(models.TextChoices):
    MEMBER = "member", _("队员")
    LEADER = "leader", _("队长")


class MembershipStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    ACTIVE = "active", _("在队")
    LEFT = "left", _("已退出")
    REMOVED = "removed", _("已移出")
    REJECTED = "rejected", _("已拒绝")


class Membership(models.Model):
    """One volunteer's membership of one team, from request to its end."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="memberships")
    volunteer = models.ForeignKey(
        "volunteers.Volunteer", on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(
        _("角色"), max_length=10, choices=MembershipRole.choices, default=MembershipRole.MEMBER
    )
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=MembershipStatus.choices,
        default=MembershipStatus.PENDING,
    )
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("队员关系")
        verbose_name_plural = _("队员关系")
        constraints = [
            models.UniqueConstraint(
                fields=["team", "volunteer"],
                condition=Q(status__in=["pending", "active"]),
                name="membership_one_open_per_team_volunteer",
            ),
            models.CheckConstraint(
                condition=Q(role__in=["member", "leader"]), name="membership_role_known"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "active", "left", "removed", "rejected"]),
                name="membership_status_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.team_id}:{self.volunteer_id}"
