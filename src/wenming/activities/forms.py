from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from wenming.accounts.types import Actor
from wenming.activities.models import Project, Subcategory, WorkItem
from wenming.activities.services import ActivityInput
from wenming.core import regions as rc
from wenming.core.access import scoped
from wenming.core.forms import ServiceErrorsMixin, StyledFormMixin
from wenming.core.roles import Perm
from wenming.core.text import DESCRIPTION_MAX
from wenming.network.models import Unit
from wenming.volunteers.models import Skill, Team

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
# What may change once published (services.PUBLISHED_EDITABLE, plus the skills).
PUBLISHED_FORM_FIELDS = {"venue", "address", "quota", "team", "skills", "description"}


def _datetime_field(label: Any, required: bool = True, help_text: Any = "") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        help_text=help_text,
        input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT),
    )


class ActivityForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    """The staff form: parses and offers choices; the service decides."""

    title = forms.CharField(label=_("活动名称"), max_length=100)
    work_item = forms.ChoiceField(label=_("五项工作"), choices=WorkItem.choices)
    subcategory = forms.TypedChoiceField(
        label=_("子类"), coerce=int, required=False, empty_value=None
    )
    unit = forms.TypedChoiceField(label=_("主办单位"), coerce=int)
    project = forms.TypedChoiceField(
        label=_("所属项目"), coerce=int, required=False, empty_value=None
    )
    team = forms.TypedChoiceField(
        label=_("组织服务队"), coerce=int, required=False, empty_value=None
    )
    venue = forms.CharField(label=_("活动地点"), max_length=100)
    address = forms.CharField(label=_("详细地址"), max_length=200, required=False)
    latitude = forms.DecimalField(
        label=_("纬度"), max_digits=9, decimal_places=6, required=False,
        help_text=_("可选，用于扫码签到的位置核验。"),
    )  # fmt: skip
    longitude = forms.DecimalField(label=_("经度"), max_digits=9, decimal_places=6, required=False)
    starts_at = _datetime_field(_("开始时间"))
    ends_at = _datetime_field(_("结束时间"))
    signup_opens_at = _datetime_field(_("报名开始"), False, _("不填则发布后即可报名。"))
    signup_closes_at = _datetime_field(_("报名截止"), False, _("不填则截止到活动开始。"))
    quota = forms.IntegerField(label=_("招募人数"), min_value=1, max_value=100_000)
    skills = forms.MultipleChoiceField(
        label=_("所需技能"), required=False, widget=forms.CheckboxSelectMultiple
    )
    description = forms.CharField(
        label=_("活动内容"),
        required=False,
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, actor: Actor, published: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        grouped: dict[str, list[tuple[int, str]]] = {value: [] for value in WorkItem.values}
        for sub in Subcategory.objects.filter(is_active=True):
            grouped[sub.work_item].append((sub.pk, sub.name))
        fields["subcategory"].choices = [("", "—")] + [
            (label, grouped[value]) for value, label in WorkItem.choices if grouped[value]
        ]
        units = scoped(
            Unit.objects.filter(is_active=True), actor, Perm.ACTIVITY_MANAGE, "region_id"
        )
        fields["unit"].choices = [(u.pk, u.name) for u in units.order_by("region_id", "kind")]
        fields["project"].choices = [("", "—")] + [
            (p.pk, p.name) for p in Project.objects.filter(is_active=True)
        ]
        teams = scoped(
            Team.objects.filter(is_active=True), actor, Perm.ACTIVITY_MANAGE, "region_id"
        )
        fields["team"].choices = [("", "—")] + [(t.pk, t.name) for t in teams]
        fields["skills"].choices = [(s.pk, s.name) for s in Skill.objects.all()]
        fields["skills"].widget.attrs["class"] = ""
        if published:  # volunteers signed up for these: they stay as they are
            for name in fields:
                if name not in PUBLISHED_FORM_FIELDS:
                    fields[name].disabled = True

    def activity_input(self) -> ActivityInput:
        data = self.cleaned_data
        return ActivityInput(
            title=data["title"],
            work_item=data["work_item"],
            unit_id=data["unit"],
            venue=data["venue"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            quota=data["quota"],
            signup_opens_at=data.get("signup_opens_at"),
            signup_closes_at=data.get("signup_closes_at"),
            subcategory_id=data.get("subcategory"),
            project_id=data.get("project"),
            team_id=data.get("team"),
            address=data.get("address", ""),
            latitude=data.get("latitude"),
            longitude=data.get("longitude"),
            skill_ids=[int(s) for s in data.get("skills", [])],
            description=data.get("description", ""),
        )


def initial_from(activity: Any) -> dict[str, Any]:
    def local(value: dt.datetime | None) -> str:
        from django.utils import timezone

        return timezone.localtime(value).strftime(DATETIME_FORMAT) if value else ""

    return {
        "title": activity.title,
        "work_item": activity.work_item,
        "subcategory": activity.subcategory_id,
        "unit": activity.unit_id,
        "project": activity.project_id,
        "team": activity.team_id,
        "venue": activity.venue,
        "address": activity.address,
        "latitude": activity.latitude,
        "longitude": activity.longitude,
        "starts_at": local(activity.starts_at),
        "ends_at": local(activity.ends_at),
        "signup_opens_at": local(activity.signup_opens_at),
        "signup_closes_at": local(activity.signup_closes_at),
        "quota": activity.quota,
        "skills": [s.pk for s in activity.skills.all()],
        "description": activity.description,
    }


class TransitionForm(forms.Form):
    reason = forms.CharField(max_length=300, required=False)


class ListFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=50)
    item = forms.ChoiceField(required=False, choices=[("", ""), *WorkItem.choices])
    region = forms.RegexField(required=False, regex=r"^[0-9]{12}$")
    unit = forms.IntegerField(required=False, min_value=1)
    team = forms.IntegerField(required=False, min_value=1)
    date_from = forms.DateField(required=False)
    date_to = forms.DateField(required=False)
    open = forms.BooleanField(required=False)
    state = forms.CharField(required=False, max_length=10)

    def filters(self) -> dict[str, Any]:
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "search": data.get("q") or "",
            "work_item": data.get("item") or "",
            "region_prefix": rc.prefix_of(data["region"]) if data.get("region") else "",
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
            "open_only": bool(data.get("open")),
            "unit_id": data.get("unit"),
            "team_id": data.get("team"),
        }


class PhotoUploadForm(StyledFormMixin, forms.Form):
    """Parses the upload; the service checks the content, the size and the count."""

    image = forms.FileField(
        label=_("照片"),
        help_text=_("JPEG、PNG 或 WebP，不超过 5 MB；每个活动最多 9 张。"),
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    caption = forms.CharField(label=_("说明"), max_length=100, required=False)
