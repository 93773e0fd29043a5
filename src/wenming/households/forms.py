from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wenming.core.forms import StyledFormMixin
from wenming.households.models import (
    AssignmentKind,
    CareTag,
    Channel,
    EventKind,
    Relation,
)


def tag_choices() -> list[tuple[str, str]]:
    return [(t.code, t.name) for t in CareTag.objects.all()]


class HouseholdForm(StyledFormMixin, forms.Form):
    region = forms.ChoiceField(label=_("所在村（社区）"))
    address = forms.CharField(label=_("地址"), max_length=200)
    tags = forms.MultipleChoiceField(
        label=_("关爱标签"), required=False, widget=forms.CheckboxSelectMultiple
    )
    note = forms.CharField(label=_("备注"), max_length=300, required=False)

    def __init__(self, *args: Any, villages: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = villages  # type: ignore[attr-defined]
        self.fields["tags"].choices = tag_choices()  # type: ignore[attr-defined]


class HouseholdCreateForm(HouseholdForm):
    head_name = forms.CharField(label=_("户主姓名"), max_length=50)
    head_phone = forms.CharField(label=_("户主手机号码"), max_length=20, required=False)
    head_birth_year = forms.IntegerField(
        label=_("户主出生年份"), min_value=1900, max_value=2100, required=False
    )


class HouseholdEditForm(HouseholdForm):
    is_active = forms.BooleanField(label=_("在册"), required=False)


class MemberForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50)
    relation = forms.ChoiceField(label=_("与户主关系"), choices=Relation.choices)
    birth_year = forms.IntegerField(
        label=_("出生年份"), min_value=1900, max_value=2100, required=False
    )
    phone = forms.CharField(label=_("手机号码"), max_length=20, required=False)


class RevealForm(StyledFormMixin, forms.Form):
    WHAT = [("name", _("姓名")), ("phone", _("手机号码"))]
    what = forms.ChoiceField(label=_("查看"), choices=WHAT)
    reason = forms.CharField(label=_("查看原因"), max_length=300)


class ReasonForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=200)


class AssignForm(StyledFormMixin, forms.Form):
    contact = forms.TypedChoiceField(label=_("联系人"), coerce=int)
    kind = forms.ChoiceField(
        label=_("方式"), choices=AssignmentKind.choices, initial=AssignmentKind.GROUP
    )

    def __init__(self, *args: Any, contacts: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact"].choices = contacts  # type: ignore[attr-defined]


class EventForm(StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("事项"), choices=EventKind.choices)
    summary = forms.CharField(
        label=_("情况说明"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )


class PublicEventForm(EventForm):
    phone = forms.CharField(
        label=_("您的手机号码（选填，便于联系您）"), max_length=20, required=False
    )


class VisitForm(StyledFormMixin, forms.Form):
    channel = forms.ChoiceField(
        label=_("联系方式"),
        choices=Channel.choices,
        initial=Channel.VISIT,
        widget=forms.RadioSelect,
    )
    happened_at = forms.DateTimeField(
        label=_("联系时间"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    notes = forms.CharField(
        label=_("情况记录"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    event = forms.TypedChoiceField(
        label=_("针对事项"), coerce=int, required=False, empty_value=None
    )
    close = forms.BooleanField(label=_("此次联系已办结该事项"), required=False)
    outcome = forms.CharField(
        label=_("办理结果"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, events: list[tuple[Any, str]], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault(
            "happened_at", timezone.localtime().replace(second=0, microsecond=0)
        )
        super().__init__(*args, **kwargs)
        self.fields["event"].choices = [("", _("日常走访（不针对事项）")), *events]  # type: ignore[attr-defined]
        self.fields["channel"].widget.attrs["class"] = "btn-check"


class ContactAddForm(StyledFormMixin, forms.Form):
    phone = forms.CharField(
        label=_("手机号码"),
        max_length=20,
        help_text=_("志愿者或干部的登录手机号码。"),
    )
    region = forms.ChoiceField(label=_("所在村（社区）"))
    is_party_member = forms.BooleanField(label=_("党员"), required=False)

    def __init__(self, *args: Any, villages: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = villages  # type: ignore[attr-defined]


class PolicyForm(StyledFormMixin, forms.Form):
    region = forms.CharField(widget=forms.HiddenInput)
    assignment_limit = forms.IntegerField(label=_("每人包挂户数上限"), min_value=1, max_value=50)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in EventKind:
            self.fields[f"hours_{kind.value}"] = forms.IntegerField(
                label=_("%(kind)s（小时）") % {"kind": kind.label}, min_value=1, max_value=720
            )
        for code, name in tag_choices():
            self.fields[f"days_{code}"] = forms.IntegerField(
                label=_("%(tag)s（天）") % {"tag": name},
                min_value=1,
                max_value=365,
                required=False,
            )
        # StyledFormMixin styled the fields declared on the class; style these too.
        for name, field in self.fields.items():
            if name.startswith(("hours_", "days_")):
                field.widget.attrs["class"] = "form-control"

    def response_hours(self) -> dict[str, int]:
        return {k.value: self.cleaned_data[f"hours_{k.value}"] for k in EventKind}

    def cadence_days(self) -> dict[str, int]:
        return {
            name[5:]: value
            for name, value in self.cleaned_data.items()
            if name.startswith("days_") and value
        }
