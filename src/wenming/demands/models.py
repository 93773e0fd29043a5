"""Resident demand (点单—派单—接单—评单): the service menu units publish, the orders
residents place, each order's append-only timeline and its photos.

The database holds the rules that must never break: an order's state is one of the
known states; a menu order names its menu item; a rating is 1–5 and only on a rated
order; an order's public number and its private-link digest are unique. The private
link's token itself is never stored, only its SHA-256 digest."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wenming.activities.models import Subcategory, WorkItem
from wenming.network.models import Region, Unit
from wenming.volunteers.models import Skill, Team, Volunteer


class DeliveryMode(models.TextChoices):
    VENUE = "venue", _("定点服务")
    HOME = "home", _("上门服务")


class MenuItem(models.Model):
    """One service a unit offers residents (服务菜单 / 供给清单). `code` is the stable
    service code (Open311 service_code): it never changes once given."""

    code = models.CharField(_("服务编码"), max_length=20, unique=True, editable=False)
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="menu_items", verbose_name=_("提供单位")
    )
    # Copied from unit.region so that scoping and "the menu of my village" are one filter.
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("区划")
    )
    title = models.CharField(_("服务名称"), max_length=60)
    work_item = models.CharField(_("五项工作"), max_length=10, choices=WorkItem.choices)
    subcategory = models.ForeignKey(
        Subcategory,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("子类"),
    )
    description = models.TextField(_("服务说明"), blank=True)
    delivery_mode = models.CharField(
        _("服务方式"), max_length=6, choices=DeliveryMode.choices, default=DeliveryMode.VENUE
    )
    response_hours = models.PositiveIntegerField(_("响应时限（小时）"), default=24)
    complete_hours = models.PositiveIntegerField(_("办结时限（小时）"), default=72)
    teams = models.ManyToManyField(Team, blank=True, related_name="+", verbose_name=_("服务队"))
    skills = models.ManyToManyField(Skill, blank=True, related_name="+", verbose_name=_("所需技能"))
    is_active = models.BooleanField(_("上架"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["region_id", "work_item", "title", "id"]
        verbose_name = _("服务菜单项")
        verbose_name_plural = _("服务菜单")
        constraints = [
            models.UniqueConstraint(fields=["unit", "title"], name="menuitem_unique_title"),
            models.CheckConstraint(
                condition=Q(work_item__in=WorkItem.values), name="menuitem_work_item_known"
            ),
            models.CheckConstraint(
                condition=Q(delivery_mode__in=DeliveryMode.values), name="menuitem_mode_known"
            ),
            models.CheckConstraint(
                condition=Q(response_hours__gte=1) & Q(complete_hours__gte=1),
                name="menuitem_limits_positive",
            ),
        ]
        indexes = [models.Index(fields=["region", "is_active"], name="menuitem_region_active")]

    def __str__(self) -> str:
        return self.title


class RequestKind(models.TextChoices):
    MENU = "menu", _("菜单点单")
    WISH = "wish", _("微心愿")
    HELP = "help", _("我要求助")


class Channel(models.TextChoices):
    WEB = "web", _("网上点单")
    PHONE = "phone", _("电话代点")
    API = "api", _("接口")
    HOUSEHOLD = "household", _("入户走访")


class OrderState(models.TextChoices):
    SUBMITTED = "submitted", _("待审核")
    ACCEPTED = "accepted", _("待派单")
    REJECTED = "rejected", _("未受理")
    DISPATCHED = "dispatched", _("已派单")
    OPEN = "open", _("待抢单")
    TAKEN = "taken", _("服务中")
    COMPLETED = "completed", _("待评价")
    RATED = "rated", _("已评价")
    CANCELLED = "cancelled", _("已取消")


# Not finished: the order still waits for someone (escalation and reminders apply).
LIVE_STATES = (
    OrderState.SUBMITTED,
    OrderState.ACCEPTED,
    OrderState.DISPATCHED,
    OrderState.OPEN,
    OrderState.TAKEN,
)
# Waiting for someone to take it on: the response limit applies.
WAITING_STATES = (
    OrderState.SUBMITTED,
    OrderState.ACCEPTED,
    OrderState.DISPATCHED,
    OrderState.OPEN,
)
DONE_STATES = (OrderState.COMPLETED, OrderState.RATED)


class Order(models.Model):
    """A resident's order (点单): a menu item or a free request, from submission to
    rating. The requester's name and phone are personal data: stored encrypted, with a
    keyed hash of the phone (rate limits, lookup) and masked forms for display.

    `number` is the public order number the resident quotes; `token_digest` is the
    SHA-256 of the secret token in the resident's private link (the token is shown
    once and never stored)."""

    ENCRYPTED_FIELDS: ClassVar[tuple[tuple[str, str | None], ...]] = (
        ("requester_name_cipher", None),
        ("requester_phone_cipher", "requester_phone_digest"),
    )

    number = models.CharField(_("订单号"), max_length=20, unique=True, editable=False)
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    kind = models.CharField(_("类型"), max_length=6, choices=RequestKind.choices)
    menu_item = models.ForeignKey(
        MenuItem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("服务项目"),
    )
    title = models.CharField(_("需求"), max_length=60)
    work_item = models.CharField(_("五项工作"), max_length=10, choices=WorkItem.choices, blank=True)
    requester_name_cipher = models.TextField(editable=False)
    requester_name_masked = models.CharField(_("联系人"), max_length=50, editable=False)
    requester_phone_cipher = models.TextField(editable=False)
    requester_phone_digest = models.CharField(max_length=64, editable=False, db_index=True)
    requester_phone_masked = models.CharField(_("联系电话"), max_length=20, editable=False)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("下单账号"),
    )
    channel = models.CharField(
        _("来源"), max_length=10, choices=Channel.choices, default=Channel.WEB
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("代点人"),
    )
    # The resident's village (or community).
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("所在村（社区）")
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    lat = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    lon = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    preferred_time = models.CharField(_("希望服务时间"), max_length=100, blank=True)
    details = models.TextField(_("需求描述"), blank=True)
    # The unit handling it now; escalation moves it up the tree.
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="orders", verbose_name=_("受理单位")
    )
    state = models.CharField(
        _("状态"), max_length=10, choices=OrderState.choices, default=OrderState.SUBMITTED
    )
    assigned_team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("承接服务队"),
    )
    assigned_volunteer = models.ForeignKey(
        Volunteer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("承接志愿者"),
    )
    # The current time limits: to be taken on by `respond_by`, done by `complete_by`.
    respond_by = models.DateTimeField(_("响应时限"))
    complete_by = models.DateTimeField(_("办结时限"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("上报次数"), default=0)
    reminder_count = models.PositiveSmallIntegerField(_("催单次数"), default=0)
    last_reminded_at = models.DateTimeField(_("最近催单"), null=True, blank=True)
    reject_reason = models.CharField(_("不予受理原因"), max_length=300, blank=True)
    completion_note = models.TextField(_("服务情况"), blank=True)
    rating = models.PositiveSmallIntegerField(_("评分"), null=True, blank=True)
    rating_comment = models.CharField(_("评价"), max_length=300, blank=True)
    low_rating = models.BooleanField(_("差评待关注"), default=False)
    requested_at = models.DateTimeField(_("下单时间"), default=timezone.now, db_index=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    taken_at = models.DateTimeField(_("接单时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    rated_at = models.DateTimeField(_("评价时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    # The private link's secret, set only on the object a create service returns.
    link_token = ""

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("群众点单")
        verbose_name_plural = _("群众点单")
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=OrderState.values), name="order_state_known"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=RequestKind.values), name="order_kind_known"
            ),
            models.CheckConstraint(
                condition=~Q(kind="menu") | Q(menu_item__isnull=False),
                name="order_menu_kind_has_item",
            ),
            models.CheckConstraint(
                condition=(Q(rating__isnull=True) & ~Q(state="rated"))
                | (Q(rating__gte=1) & Q(rating__lte=5) & Q(state="rated")),
                name="order_rating_iff_rated",
            ),
            models.CheckConstraint(
                condition=~(Q(assigned_team__isnull=False) & Q(assigned_volunteer__isnull=False)),
                name="order_one_assignee",
            ),
            models.CheckConstraint(
                condition=(Q(lat__isnull=True) & Q(lon__isnull=True))
                | (Q(lat__gte=-90, lat__lte=90) & Q(lon__gte=-180, lon__lte=180)),
                name="order_coordinates_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "respond_by"], name="order_state_respond"),
            models.Index(fields=["region", "state"], name="order_region_state"),
            models.Index(fields=["unit", "state"], name="order_unit_state"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


EVENT_LABELS = {
    "submit": _("提交点单"),
    "accept": _("受理"),
    "reject": _("不予受理"),
    "dispatch": _("派单"),
    "open_grab": _("发布抢单"),
    "recall": _("收回重派"),
    "take": _("接单"),
    "grab": _("抢单"),
    "decline": _("拒单"),
    "complete": _("办结"),
    "rate": _("评价"),
    "cancel": _("关闭"),
    "withdraw": _("群众撤单"),
    "remind": _("群众催单"),
    "escalate": _("超时上报"),
}


class OrderEvent(models.Model):
    """One step on an order's timeline: who, what, when, from which state to which.
    Append-only: written by the services, never edited or deleted."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("时间"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # "系统", "群众", or the staff member's name: what the timeline shows.
    actor_label = models.CharField(_("操作人"), max_length=80)
    action = models.CharField(_("操作"), max_length=20)
    from_state = models.CharField(max_length=10, blank=True)
    to_state = models.CharField(max_length=10, blank=True)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, related_name="+")
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("说明"), max_length=300, blank=True)
    # Shown to the resident on the private page (staff-only notes are not).
    public = models.BooleanField(default=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("点单进度")
        verbose_name_plural = _("点单进度")
        indexes = [
            models.Index(fields=["order", "at"], name="orderevent_order_at"),
            models.Index(fields=["action", "team"], name="orderevent_action_team"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}:{self.action}"

    @property
    def label(self) -> str:
        return str(EVENT_LABELS.get(self.action, self.action))


class PhotoKind(models.TextChoices):
    REQUEST = "request", _("需求照片")
    COMPLETION = "completion", _("服务照片")


MAX_COMPLETION_PHOTOS = 6


class OrderPhoto(models.Model):
    """A photo of an order: the resident's (one) or the assignee's on completion. Stored
    re-encoded as JPEG without metadata under a random name; served by a view that
    checks who may see the order."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="photos")
    kind = models.CharField(max_length=10, choices=PhotoKind.choices)
    image = models.FileField(max_length=200)
    thumbnail = models.FileField(max_length=200)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("点单照片")
        verbose_name_plural = _("点单照片")

    def __str__(self) -> str:
        return f"order-photo:{self.order_id}:{self.pk}"
