"""Forms of the team pages. They parse input; the rules are the services' (teams.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from wenming.core.forms import ServiceErrorsMixin, StyledFormMixin
from wenming.network.models import Unit
from wenming.volunteers.models import TeamType


class TeamForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    FIELD_MAP = {"team_type": "team_type_id", "unit": "unit_id"}

    name = forms.CharField(
        label=_("服务队名称"),
        max_length=100,
        error_messages={"required": _("请填写服务队名称。")},
    )
    team_type_id = forms.ModelChoiceField(
        label=_("服务队类型"),
        queryset=TeamType.objects.all(),
        empty_label=_("请选择"),
        error_messages={"required": _("请选择服务队类型。")},
    )
    unit_id = forms.ChoiceField(
        label=_("所属单位"), error_messages={"required": _("请选择所属单位。")}
    )
    description = forms.CharField(
        label=_("简介"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("服务内容、服务时间、联系方式等，队员和想加入的志愿者都能看到。"),
    )
    is_active = forms.BooleanField(
        label=_("启用（停用后不再接受入队申请，队员和记录保留）"), required=False
    )

    def __init__(self, *args: Any, units: list[Unit], editing: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit_id"].choices = [  # type: ignore[attr-defined]
            ("", _("请选择")),
            *[(str(u.pk), u.name) for u in units],
        ]
        if not editing:
            del self.fields["is_active"]

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        values = {
            "name": data["name"],
            "team_type_id": data["team_type_id"].pk,
            "unit_id": int(data["unit_id"]),
            "description": data["description"],
        }
        if "is_active" in self.fields:
            values["is_active"] = data["is_active"]
        return values


class ReasonForm(StyledFormMixin, forms.Form):
    """A reason: required to remove a member, optional elsewhere."""

    reason = forms.CharField(label=_("原因"), max_length=200, required=False)

    def __init__(self, *args: Any, required: bool = False, label: Any = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["reason"]
        field.required = required
        if required:
            field.error_messages["required"] = _("请写明移出原因。")
        if label is not None:
            field.label = label
