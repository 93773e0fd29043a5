"""Projects and activities (志愿服务项目 / 活动), and volunteers' sign-ups to them.

The database holds the rules that must never break: an activity ends after it starts,
has a quota of at least one and never more signed-up volunteers than its quota (a
counter column under a CHECK, moved only by the sign-up services); a volunteer has at
most one live sign-up per activity; waitlist positions are unique."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from wenming.network.models import Region, Unit
from wenming.volunteers.models import Skill, Team, Volunteer


class WorkItem(models.TextChoices):
    """The five work items (五项工作), the top-level category of every activity."""

    THEORY = "theory", _("学习实践科学理论")
    POLICY = "policy", _("宣传宣讲党的政策")
    VALUES = "values", _("培育践行主流价值")
    CULTURE = "culture", _("丰富活跃文化生活")
    CUSTOMS = "customs", _("持续深入移风易俗")


class Subcategory(models.Model):
    """A configurable subcategory under one work item (理论宣讲, 广场舞 ...)."""

    work_item = models.CharField(_("五项工作"), max_length=10, choices=WorkItem.choices)
    name = models.CharField(_("名称"), max_length=40)
    sort = models.PositiveIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["work_item", "sort", "name"]
        verbose_name = _("活动子类")
        verbose_name_plural = _("活动子类")
        constraints = [
            models.UniqueConstraint(
                fields=["work_item", "name"], name="subcategory_unique_per_item"
            ),
            models.CheckConstraint(
                condition=Q(work_item__in=WorkItem.values), name="subcategory_work_item_known"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Project(models.Model):
    """A long-running volunteer service project that groups activities; a brand project
    (品牌项目) such as 幸福巴士 runs many stops."""

    name = models.CharField(_("项目名称"), max_length=100)
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="projects", verbose_name=_("主办单位")
    )
    # Copied from unit.region so that scoping is one prefix filter.
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("区划")
    )
    work_item = models.CharField(_("五项工作"), max_length=10, choices=WorkItem.choices, blank=True)
    is_brand = models.BooleanField(_("品牌项目"), default=False)
    description = models.TextField(_("简介"), blank=True)
    is_active = models.BooleanField(_("进行中"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["-is_brand", "name", "id"]
        verbose_name = _("志愿服务项目")
        verbose_name_plural = _("志愿服务项目")
        constraints = [
            models.UniqueConstraint(fields=["unit", "name"], name="project_unique_name_per_unit"),
        ]

    def __str__(self) -> str:
        return self.name


class ActivityState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("待审核")
    PUBLISHED = "published", _("报名中")
    ONGOING = "ongoing", _("进行中")
    FINISHED = "finished", _("已结束")
    CANCELLED = "cancelled", _("已取消")


# What the public sees: never drafts, submissions or cancelled activities.
PUBLIC_STATES = (ActivityState.PUBLISHED, ActivityState.ONGOING, ActivityState.FINISHED)


class Activity(models.Model):
    """One volunteer activity (an event): what, who organises it, where, when, how many."""

    title = models.CharField(_("活动名称"), max_length=100)
    project = models.ForeignKey(
        Project,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="activities",
        verbose_name=_("所属项目"),
    )
    work_item = models.CharField(_("五项工作"), max_length=10, choices=WorkItem.choices)
    subcategory = models.ForeignKey(
        Subcategory,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="activities",
        verbose_name=_("子类"),
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="activities", verbose_name=_("主办单位")
    )
    # Copied from unit.region so that scoping and the region filter are one prefix range.
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("区划")
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="activities",
        verbose_name=_("组织服务队"),
    )
    venue = models.CharField(_("活动地点"), max_length=100)
    address = models.CharField(_("详细地址"), max_length=200, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(
        _("经度"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    signup_opens_at = models.DateTimeField(_("报名开始"), null=True, blank=True)
    signup_closes_at = models.DateTimeField(_("报名截止"))
    quota = models.PositiveIntegerField(_("招募人数"))
    # Moved only by the sign-up services, under the row lock; the CHECK keeps it ≤ quota.
    signed_up_count = models.PositiveIntegerField(_("已报名"), default=0, editable=False)
    waitlist_seq = models.PositiveIntegerField(default=0, editable=False)
    skills = models.ManyToManyField(Skill, blank=True, verbose_name=_("所需技能"))
    description = models.TextField(_("活动内容"), blank=True)
    state = models.CharField(
        _("状态"), max_length=10, choices=ActivityState.choices, default=ActivityState.DRAFT
    )
    state_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True)
    # When it first became public. Kept when it is cancelled, so that the unit's calendar
    # feed can mark a once-public activity as cancelled (and never show a cancelled draft).
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("志愿服务活动")
        verbose_name_plural = _("志愿服务活动")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="activity_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(quota__gte=1), name="activity_quota_positive"),
            models.CheckConstraint(
                condition=Q(signed_up_count__lte=F("quota")), name="activity_within_quota"
            ),
            models.CheckConstraint(
                condition=Q(state__in=ActivityState.values), name="activity_state_known"
            ),
            models.CheckConstraint(
                condition=Q(work_item__in=WorkItem.values), name="activity_work_item_known"
            ),
            models.CheckConstraint(
                condition=Q(signup_opens_at__isnull=True)
                | Q(signup_opens_at__lt=F("signup_closes_at")),
                name="activity_signup_window_ordered",
            ),
            models.CheckConstraint(
                condition=Q(signup_closes_at__lte=F("ends_at")),
                name="activity_signup_closes_by_end",
            ),
            models.CheckConstraint(
                condition=(Q(latitude__isnull=True) & Q(longitude__isnull=True))
                | (
                    Q(latitude__gte=-90, latitude__lte=90)
                    & Q(longitude__gte=-180, longitude__lte=180)
                ),
                name="activity_coordinates_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "starts_at"], name="activity_state_start"),
            models.Index(fields=["region", "starts_at"], name="activity_region_start"),
            # The public list's cache key is the latest change: an index-only MAX().
            models.Index(fields=["updated_at"], name="activity_updated"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def open_places(self) -> int:
        return max(self.quota - self.signed_up_count, 0)

    @property
    def is_public(self) -> bool:
        return self.state in PUBLIC_STATES


class ActivityApprovalPolicy(models.Model):
    """A unit's choice: must its activities be approved by the unit above before they
    are published?"""

    unit = models.OneToOneField(Unit, on_delete=models.CASCADE, related_name="activity_policy")
    approval_required = models.BooleanField(_("活动发布需上级审核"), default=False)

    class Meta:
        verbose_name = _("活动发布设置")
        verbose_name_plural = _("活动发布设置")

    def __str__(self) -> str:
        return f"{self.unit}: {self.approval_required}"


class SignUpState(models.TextChoices):
    SIGNED_UP = "signed_up", _("已报名")
    WAITLISTED = "waitlisted", _("候补")
    CANCELLED = "cancelled", _("已取消")


LIVE_SIGNUP_STATES = (SignUpState.SIGNED_UP, SignUpState.WAITLISTED)


class SignUp(models.Model):
    """A volunteer's sign-up to an activity: a place, a waitlist position, or cancelled.
    A cancelled sign-up is kept; signing up again makes a new row."""

    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="signups")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="signups")
    state = models.CharField(_("状态"), max_length=10, choices=SignUpState.choices)
    # Waitlist order (lower is earlier); set only while waitlisted.
    position = models.PositiveIntegerField(_("候补顺序"), null=True, blank=True)
    created_at = models.DateTimeField(_("报名时间"), auto_now_add=True)
    promoted_at = models.DateTimeField(_("递补时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    cancel_reason = models.CharField(_("取消原因"), max_length=200, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("活动报名")
        verbose_name_plural = _("活动报名")
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "volunteer"],
                condition=Q(state__in=["signed_up", "waitlisted"]),
                name="signup_one_live_per_volunteer",
            ),
            models.UniqueConstraint(
                fields=["activity", "position"],
                condition=Q(state="waitlisted"),
                name="signup_unique_waitlist_position",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["signed_up", "waitlisted", "cancelled"]),
                name="signup_state_known",
            ),
            models.CheckConstraint(
                condition=Q(state="waitlisted", position__isnull=False)
                | (~Q(state="waitlisted") & Q(position__isnull=True)),
                name="signup_position_iff_waitlisted",
            ),
        ]
        indexes = [
            models.Index(fields=["activity", "state", "position"], name="signup_activity_state"),
            models.Index(fields=["volunteer", "state"], name="signup_volunteer_state"),
        ]

    def __str__(self) -> str:
        return f"{self.activity_id}:{self.volunteer_id}:{self.state}"


class CalendarFeed(models.Model):
    """A volunteer's private iCalendar feed: the secret token in its URL is the only key,
    so a phone calendar can subscribe without logging in. Resetting replaces the token
    (the old URL stops working). The feed holds only the volunteer's own activities."""

    volunteer = models.OneToOneField(
        Volunteer, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    # secrets.token_urlsafe(32): 43 characters, 256 bits; unguessable, so it is the key.
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("个人活动日历")
        verbose_name_plural = _("个人活动日历")

    def __str__(self) -> str:
        return f"calendar:{self.volunteer_id}"


# At most this many photos per activity (checked by the service under the activity lock).
MAX_PHOTOS_PER_ACTIVITY = 9


class ActivityPhoto(models.Model):
    """A photo of an activity, uploaded by its organisers. Stored re-encoded as JPEG
    (at most 1600 px, metadata such as GPS stripped) under a random name, with a small
    thumbnail for the list cards; served by a view that checks who may see the activity."""

    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, related_name="photos", verbose_name=_("活动")
    )
    image = models.FileField(_("照片"), max_length=200)
    thumbnail = models.FileField(_("缩略图"), max_length=200)
    width = models.PositiveIntegerField(_("宽度"))
    height = models.PositiveIntegerField(_("高度"))
    caption = models.CharField(_("说明"), max_length=100, blank=True)
    sort = models.PositiveIntegerField(_("排序"), default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("上传人"),
    )
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        ordering = ["sort", "id"]
        verbose_name = _("活动照片")
        verbose_name_plural = _("活动照片")
        indexes = [models.Index(fields=["activity", "sort"], name="activityphoto_activity_sort")]

    def __str__(self) -> str:
        return f"photo:{self.activity_id}:{self.pk}"
