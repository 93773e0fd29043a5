"""The household contact register (十必联): households and their members, care tags,
contact persons and their 1+10 / 1+1 assignments, the ten event kinds, contacts
(visits) and overdue alerts.

Members' names and phone numbers are personal data: stored encrypted with a masked
form for display (and a keyed hash of the phone for exact search), like volunteers'."""

from __future__ import annotations

import secrets
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wenming.network.models import Region


class CareTag(models.Model):
    """A care tag on a household (空巢老人, 留守儿童 ...): a configurable list. `code`
    is what settings and imports refer to."""

    code = models.SlugField(_("代码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=30, unique=True)
    sort = models.PositiveSmallIntegerField(_("排序"), default=100)

    class Meta:
        verbose_name = _("关爱标签")
        verbose_name_plural = _("关爱标签")
        ordering = ["sort", "name"]

    def __str__(self) -> str:
        return self.name


class EventKind(models.TextChoices):
    """The ten things that happen in a household (十必联)."""

    HAPPY = "happy", _("喜事")
    BEREAVEMENT = "bereavement", _("丧事")
    DIFFICULTY = "difficulty", _("难事")
    EMERGENCY = "emergency", _("急事")
    ILLNESS = "illness", _("病事")
    DISPUTE = "dispute", _("矛盾纠纷")
    PETITION = "petition", _("信访诉求")
    ENLISTMENT = "enlistment", _("当兵入伍")
    ELDERLY = "elderly", _("空巢老人")
    CHILD = "child", _("留守儿童")


class HouseholdPolicy(models.Model):
    """A jurisdiction's settings for the register (the nearest one up the tree applies,
    else the defaults): the 1+10 limit, response limits per event kind in hours, and
    the care cadence per tag in days."""

    region = models.OneToOneField(Region, on_delete=models.CASCADE, related_name="household_policy")
    assignment_limit = models.PositiveSmallIntegerField(_("每人包挂户数上限"), default=10)
    response_hours = models.JSONField(_("各类事项响应时限（小时）"), default=dict, blank=True)
    cadence_days = models.JSONField(_("关爱走访周期（天）"), default=dict, blank=True)

    class Meta:
        verbose_name = _("十必联设置")
        verbose_name_plural = _("十必联设置")

    def __str__(self) -> str:
        return f"{self.region_id}"


def new_report_code() -> str:
    # 10 characters from an alphabet without look-alikes, printed on the contact card.
    alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    return "".join(secrets.choice(alphabet) for _i in range(10))


class Household(models.Model):
    """A household in a village. `head_masked` is the masked name of the head (户主)
    for lists; `last_contact_at` the latest logged contact (for the care cadence)."""

    region = models.ForeignKey(
        Region, verbose_name=_("所在村（社区）"), on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField(_("地址"), max_length=200)
    head_masked = models.CharField(_("户主"), max_length=50, blank=True)
    tags = models.ManyToManyField(CareTag, verbose_name=_("关爱标签"), blank=True)
    note = models.CharField(_("备注"), max_length=300, blank=True)
    # The code on the household's contact card: its link to the public report form.
    report_code = models.CharField(
        _("联系卡编码"), max_length=16, unique=True, default=new_report_code, editable=False
    )
    is_active = models.BooleanField(_("在册"), default=True)
    last_contact_at = models.DateTimeField(_("最近联系时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("家庭户")
        verbose_name_plural = _("家庭户")
        ordering = ["region_id", "address", "id"]
        indexes = [models.Index(fields=["region", "is_active"], name="household_region_active")]

    def __str__(self) -> str:
        return f"{self.address}（{self.head_masked or '—'}）"


class Relation(models.TextChoices):
    HEAD = "head", _("户主")
    SPOUSE = "spouse", _("配偶")
    CHILD = "child", _("子女")
    PARENT = "parent", _("父母")
    GRANDCHILD = "grandchild", _("孙子女")
    GRANDPARENT = "grandparent", _("祖父母")
    SIBLING = "sibling", _("兄弟姐妹")
    OTHER = "other", _("其他")


class HouseholdMember(models.Model):
    """A member of a household. Name and phone are encrypted; the masked forms are what
    pages show; the phone's keyed hash allows exact search (not unique: a family may
    share one number)."""

    ENCRYPTED_FIELDS: ClassVar[tuple[tuple[str, str | None], ...]] = (
        ("name_cipher", None),
        ("phone_cipher", "phone_digest"),
    )

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="members")
    relation = models.CharField(_("与户主关系"), max_length=12, choices=Relation.choices)
    name_cipher = models.TextField(editable=False)
    name_masked = models.CharField(_("姓名"), max_length=50, editable=False)
    birth_year = models.PositiveSmallIntegerField(_("出生年份"), null=True, blank=True)
    phone_cipher = models.TextField(blank=True, editable=False)
    phone_digest = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    phone_masked = models.CharField(_("手机号码"), max_length=20, blank=True, editable=False)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("家庭成员")
        verbose_name_plural = _("家庭成员")
        ordering = ["household_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household"], condition=Q(relation="head"), name="member_one_head"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name_masked}（{self.get_relation_display()}）"


class ContactPerson(models.Model):
    """A contact person (联系人): a volunteer (usually a party member) or a cadre, with
    a login. `open_households` counts their open 1+10 assignments; it is changed only
    with the row locked, so the limit holds under concurrency."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登录账号"),
        on_delete=models.PROTECT,
        related_name="household_contact",
    )
    volunteer = models.OneToOneField(
        "volunteers.Volunteer",
        verbose_name=_("志愿者"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="household_contact",
    )
    region = models.ForeignKey(
        Region, verbose_name=_("所在村（社区）"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("姓名"), max_length=50)
    is_party_member = models.BooleanField(_("党员"), default=False)
    is_cadre = models.BooleanField(_("干部"), default=False)
    open_households = models.PositiveSmallIntegerField(_("包挂户数"), default=0)
    is_active = models.BooleanField(_("在岗"), default=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("联系人")
        verbose_name_plural = _("联系人")
        ordering = ["region_id", "name", "id"]

    def __str__(self) -> str:
        return self.name


class AssignmentKind(models.TextChoices):
    GROUP = "group", _("1+10 包挂")
    PAIR = "pair", _("1+1 结对")


class Assignment(models.Model):
    """A contact person's responsibility for a household, from start to end. At most
    one open 1+10 and one open 1+1 per household; a contact person has at most one open
    1+1 pairing (both by unique constraints)."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="assignments")
    contact = models.ForeignKey(ContactPerson, on_delete=models.PROTECT, related_name="assignments")
    kind = models.CharField(_("方式"), max_length=8, choices=AssignmentKind.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(_("开始时间"), auto_now_add=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    end_reason = models.CharField(_("结束原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("包挂结对")
        verbose_name_plural = _("包挂结对")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "kind"],
                condition=Q(ended_at__isnull=True),
                name="assignment_one_open_per_household_kind",
            ),
            models.UniqueConstraint(
                fields=["contact"],
                condition=Q(ended_at__isnull=True, kind="pair"),
                name="assignment_one_open_pair_per_contact",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["group", "pair"]), name="assignment_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id}→{self.household_id} ({self.kind})"


class EventState(models.TextChoices):
    OPEN = "open", _("待联系")
    ANSWERED = "answered", _("已联系")
    CLOSED = "closed", _("已办结")
    CANCELLED = "cancelled", _("已撤销")


class ReportChannel(models.TextChoices):
    STAFF = "staff", _("工作人员")
    CONTACT = "contact", _("联系人")
    HOUSEHOLD = "household", _("群众自报")


class HouseholdEvent(models.Model):
    """One of the ten events in a household, reported by staff, the contact person or
    the household itself; due for a first contact by `due_at` (the kind's limit)."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="events")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("事项"), max_length=12, choices=EventKind.choices)
    summary = models.CharField(_("情况说明"), max_length=500)
    channel = models.CharField(_("来源"), max_length=10, choices=ReportChannel.choices)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报告人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reporter_phone_masked = models.CharField(_("报告人电话"), max_length=20, blank=True)
    reported_at = models.DateTimeField(_("报告时间"), db_index=True)
    due_at = models.DateTimeField(_("应联系时限"), db_index=True)
    state = models.CharField(
        _("状态"), max_length=10, choices=EventState.choices, default=EventState.OPEN
    )
    first_contact_at = models.DateTimeField(_("首次联系时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    outcome = models.CharField(_("办理结果"), max_length=500, blank=True)
    # The resident order (点单) this event became, if it needed services; the order
    # reaches back through `order.household_event`.
    order = models.OneToOneField(
        "demands.Order",
        verbose_name=_("点单"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="household_event",
    )

    class Meta:
        verbose_name = _("十必联事项")
        verbose_name_plural = _("十必联事项")
        ordering = ["-reported_at", "-id"]
        indexes = [
            models.Index(fields=["region", "state"], name="hh_event_region_state"),
            models.Index(fields=["state", "due_at"], name="hh_event_state_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["open", "answered", "closed", "cancelled"]),
                name="hh_event_state_known",
            ),
            models.CheckConstraint(
                condition=Q(due_at__gte=models.F("reported_at")), name="hh_event_due_after_report"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class EventEntry(models.Model):
    """The event's timeline: transitions (who, when, why), contacts, alerts, orders."""

    event = models.ForeignKey(HouseholdEvent, on_delete=models.CASCADE, related_name="entries")
    at = models.DateTimeField(_("时间"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(_("操作人"), max_length=100, blank=True)
    from_state = models.CharField(max_length=10, blank=True)
    to_state = models.CharField(max_length=10, blank=True)
    text = models.CharField(_("内容"), max_length=500)

    class Meta:
        verbose_name = _("事项记录")
        verbose_name_plural = _("事项记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return self.text


class Channel(models.TextChoices):
    VISIT = "visit", _("上门走访")
    PHONE = "phone", _("电话联系")
    GROUP = "group", _("微信群联系")


class Visit(models.Model):
    """One contact with a household (visit, phone call, messaging group)."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="visits")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey(
        ContactPerson, null=True, blank=True, on_delete=models.PROTECT, related_name="visits"
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    channel = models.CharField(_("方式"), max_length=8, choices=Channel.choices)
    happened_at = models.DateTimeField(_("联系时间"), db_index=True)
    notes = models.CharField(_("情况记录"), max_length=1000, blank=True)
    event = models.ForeignKey(
        HouseholdEvent,
        verbose_name=_("事项"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("联系记录")
        verbose_name_plural = _("联系记录")
        ordering = ["-happened_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=["visit", "phone", "group"]), name="visit_channel_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.happened_at:%Y-%m-%d}"


class AlertLevel(models.IntegerChoices):
    CONTACT = 1, _("提醒联系人")
    STATION = 2, _("上报站点")


class AlertSubject(models.TextChoices):
    EVENT = "event", _("事项超时未联系")
    CARE = "care", _("关爱走访逾期")


class OverdueAlert(models.Model):
    """One overdue alert: an event not contacted in time (once per event and level), or
    a tagged household not visited within its cadence (once per household, due time and
    level). The unique constraints make the periodic job idempotent."""

    subject = models.CharField(_("类型"), max_length=8, choices=AlertSubject.choices)
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="alerts")
    event = models.ForeignKey(
        HouseholdEvent, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    due_at = models.DateTimeField(_("应联系时限"))
    level = models.PositiveSmallIntegerField(_("级别"), choices=AlertLevel.choices)
    recipients = models.PositiveIntegerField(_("通知人数"), default=0)
    created_at = models.DateTimeField(_("提醒时间"))

    class Meta:
        verbose_name = _("逾期提醒")
        verbose_name_plural = _("逾期提醒")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "level"],
                condition=Q(subject="event"),
                name="overdue_alert_once_per_event_level",
            ),
            models.UniqueConstraint(
                fields=["household", "due_at", "level"],
                condition=Q(subject="care"),
                name="overdue_alert_once_per_care_due_level",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.household_id} L{self.level}"
