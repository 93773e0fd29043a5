from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from wenming.core import regions as rc
from wenming.core.forms import ServiceErrorsMixin, StyledFormMixin
from wenming.network.models import Region
from wenming.volunteers.models import (
    Availability,
    Gender,
    IdType,
    PoliticalStatus,
    Skill,
    VolunteerStatus,
)
from wenming.volunteers.services import RegistrationInput


class ReviewForm(StyledFormMixin, forms.Form):
    decision = forms.ChoiceField(
        label=_("审核结果"), choices=[("approve", _("通过")), ("reject", _("不通过"))]
    )
    note = forms.CharField(label=_("审核意见"), max_length=300, required=False)


class RevealForm(StyledFormMixin, forms.Form):
    WHAT = [("phone", _("手机号码")), ("id_number", _("证件号码"))]
    what = forms.ChoiceField(label=_("查看"), choices=WHAT)
    reason = forms.CharField(label=_("查看原因"), max_length=300)


# ---------------------------------------------------------------- registration


def _town_regions(prefixes: list[str] | None = None) -> list[Region]:
    """The towns (乡镇、街道) of the deployment; with `prefixes`, only those a staff
    member's scope covers or lies inside."""
    towns = list(Region.objects.filter(level=rc.Level.TOWN).select_related("parent"))
    if prefixes is not None:
        towns = [
            t
            for t in towns
            if any(
                rc.prefix_of(t.code).startswith(p) or p.startswith(rc.prefix_of(t.code))
                for p in prefixes
            )
        ]
    return towns


def _grouped(towns: list[Region]) -> list[tuple[str, Any]]:
    """Towns grouped under their county when the deployment has more than one."""
    counties: dict[str, list[tuple[str, str]]] = {}
    for town in towns:
        county = town.parent.name if town.parent else ""
        counties.setdefault(county, []).append((town.code, town.name))
    if len(counties) == 1:
        return next(iter(counties.values()))
    return list(counties.items())


def village_choices(town_code: str) -> list[tuple[str, str]]:
    if not town_code:
        return []
    return list(
        Region.objects.filter(parent_id=town_code, level=rc.Level.VILLAGE).values_list(
            "code", "name"
        )
    )


def service_region_choices() -> list[tuple[str, Any]]:
    """Every town with its villages: the town itself (all of it) first."""
    groups: dict[str, list[tuple[str, str]]] = {}
    names: dict[str, str] = {}
    for code, name, level, parent in Region.objects.filter(level__gte=rc.Level.TOWN).values_list(
        "code", "name", "level", "parent_id"
    ):
        if level == rc.Level.TOWN:
            names[code] = name
            groups.setdefault(code, []).insert(0, (code, _("%(town)s（全域）") % {"town": name}))
        else:
            groups.setdefault(parent, []).append((code, name))
    return [(names[town], options) for town, options in groups.items() if town in names]


def _check_widgets(form: forms.Form, *names: str) -> None:
    for name in names:
        form.fields[name].widget.attrs["class"] = "form-check-input"


class VolunteerProfileForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    """What a volunteer may edit of their own profile."""

    FIELD_MAP = {"skills": "skill_ids", "service_regions": "service_region_codes"}

    skill_ids = forms.ModelMultipleChoiceField(
        label=_("技能"),
        queryset=Skill.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    availability = forms.MultipleChoiceField(
        label=_("服务时间"),
        choices=Availability.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    service_region_codes = forms.MultipleChoiceField(
        label=_("服务区域"),
        required=False,
        help_text=_("可不选；愿意到哪些乡镇（街道）、村（社区）服务。电脑上按住 Ctrl 可多选。"),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    political_status = forms.ChoiceField(
        label=_("政治面貌"),
        required=False,
        choices=[("", _("（不填）")), *PoliticalStatus.choices],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service_region_codes"].choices = service_region_choices()  # type: ignore[attr-defined]
        _check_widgets(self, "skill_ids", "availability")

    @staticmethod
    def initial_for(volunteer: Any) -> dict[str, Any]:
        return {
            "skill_ids": [s.pk for s in volunteer.skills.all()],
            "service_region_codes": [r.code for r in volunteer.service_regions.all()],
            "availability": list(volunteer.availability),
            "political_status": volunteer.political_status,
        }

    def update_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "skill_ids": [s.pk for s in data["skill_ids"]],
            "service_region_codes": list(data["service_region_codes"]),
            "availability": list(data["availability"]),
            "political_status": data["political_status"],
        }


class RegistrationForm(VolunteerProfileForm):
    """Volunteer registration, by the person (with a password when not logged in) or
    by staff. Rules are the service's; the form only parses and shows its messages."""

    FIELD_MAP = {
        **VolunteerProfileForm.FIELD_MAP,
        "region": "town",
    }

    name = forms.CharField(
        label=_("姓名"),
        max_length=50,
        error_messages={"required": _("请填写姓名。")},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    phone = forms.CharField(
        label=_("手机号码"),
        max_length=20,
        error_messages={"required": _("请填写手机号码。")},
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel", "type": "tel"}),
    )
    code = forms.CharField(
        label=_("短信验证码"),
        max_length=6,
        required=False,
        help_text=_("先填手机号码，再点“获取验证码”，把短信里的 6 位数字填在这里。"),
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]*"}
        ),
    )
    id_type = forms.ChoiceField(label=_("证件类型"), choices=IdType.choices, initial=IdType.RIC)
    id_number = forms.CharField(
        label=_("证件号码"),
        max_length=30,
        error_messages={"required": _("请填写证件号码。")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    birth_date = forms.DateField(
        label=_("出生日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    gender = forms.ChoiceField(
        label=_("性别"), required=False, choices=[("", _("请选择")), *Gender.choices]
    )
    town = forms.ChoiceField(
        label=_("所在乡镇（街道）"),
        error_messages={"required": _("请选择所在的村（社区）或乡镇（街道）。")},
    )
    village = forms.ChoiceField(label=_("所在村（社区）"), required=False)
    guardian_name = forms.CharField(label=_("监护人姓名"), max_length=50, required=False)
    guardian_phone = forms.CharField(
        label=_("监护人电话"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "type": "tel"}),
    )
    guardian_consent = forms.BooleanField(
        label=_("监护人已知晓并同意其参加志愿服务"), required=False
    )
    password = forms.CharField(
        label=_("登录密码"),
        required=False,
        help_text=_("至少 8 位。以后用手机号码和这个密码登录。"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    consent = forms.BooleanField(
        label=_("我已阅读并同意上述个人信息保护说明"),
        error_messages={
            "required": _("请阅读并同意隐私声明：未经您同意，我们不会公开您的个人信息。")
        },
    )

    field_order = [
        "name",
        "phone",
        "code",
        "id_type",
        "id_number",
        "birth_date",
        "gender",
        "town",
        "village",
        "skill_ids",
        "availability",
        "service_region_codes",
        "political_status",
        "guardian_name",
        "guardian_phone",
        "guardian_consent",
        "password",
        "consent",
    ]

    def __init__(
        self,
        *args: Any,
        with_password: bool,
        town_prefixes: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if not with_password:
            # Staff at the desk and logged-in users need no code: only a new login does.
            del self.fields["password"]
            del self.fields["code"]
        town_field = self.fields["town"]
        assert isinstance(town_field, forms.ChoiceField)
        # htmx: choosing a town loads its villages into the village select.
        town_field.widget.attrs.update(
            {
                "hx-get": reverse("volunteers:region_villages"),
                "hx-target": "#id_village",
                "hx-trigger": "change",
                "hx-swap": "innerHTML",
            }
        )
        town_field.choices = [
            ("", _("请选择乡镇（街道）")),
            *_grouped(_town_regions(town_prefixes)),
        ]
        town = self.data.get("town") if self.is_bound else self.initial.get("town", "")
        self.fields["village"].choices = [  # type: ignore[attr-defined]
            ("", _("请选择村（社区）") if town else _("请先选择乡镇（街道）")),
            *village_choices(str(town or "")),
        ]
        _check_widgets(self, "guardian_consent", "consent")

    def registration_input(self) -> RegistrationInput:
        data = self.cleaned_data
        return RegistrationInput(
            name=data["name"],
            phone=data["phone"],
            id_type=data["id_type"],
            id_number=data["id_number"],
            region_code=data["village"] or data["town"],
            consent=data["consent"],
            birth_date=data["birth_date"],
            gender=data["gender"],
            guardian_name=data["guardian_name"],
            guardian_phone=data["guardian_phone"],
            guardian_consent=data["guardian_consent"],
            password=data.get("password", ""),
            phone_code=data.get("code", ""),
            **self.update_fields(),
        )


class StaffProfileForm(VolunteerProfileForm):
    """What staff may edit: the volunteer's own fields plus name and phone (the ID
    number is never edited)."""

    FIELD_MAP = {**VolunteerProfileForm.FIELD_MAP}

    name = forms.CharField(label=_("姓名"), max_length=50)
    phone = forms.CharField(label=_("手机号码"), max_length=20)
    field_order = ["name", "phone"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order_fields(self.field_order)
        self.fields["phone"].help_text = _("留空或不改则保持原号码。")
        self.fields["phone"].required = False

    def update_fields(self) -> dict[str, Any]:
        fields = super().update_fields()
        fields["name"] = self.cleaned_data["name"]
        if self.cleaned_data["phone"].strip():
            fields["phone"] = self.cleaned_data["phone"]
        return fields


class SuspendForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=300)


def int_or_none(raw: str | None) -> int | None:
    """A query-string integer, or None when missing or junk (junk filters are ignored)."""
    try:
        return int(raw) if raw not in (None, "") else None
    except ValueError:
        return None


class VolunteerFilters(NamedTuple):
    search: str
    region_prefix: str
    status: str
    skill_id: int | None
    star: int | None
    team_id: int | None


def volunteer_filters(params: Mapping[str, str]) -> VolunteerFilters:
    """The volunteer list's filters from a query string (the list page, its export and
    the API read them the same way)."""
    status = params.get("status", "")
    star = int_or_none(params.get("star"))
    return VolunteerFilters(
        search=params.get("q", "").strip()[:50],
        region_prefix="".join(c for c in params.get("region", "") if c.isdigit())[:12],
        status=status if status in VolunteerStatus.values else "",
        skill_id=int_or_none(params.get("skill")),
        star=star if star is not None and 0 <= star <= 5 else None,
        team_id=int_or_none(params.get("team")),
    )
