"""Forms for the check-in and record pages: they parse input; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ScanForm(forms.Form):
    t = forms.CharField(max_length=80)
    action = forms.ChoiceField(choices=[("in", _("签到")), ("out", _("签退"))])
    latitude = forms.FloatField(required=False, min_value=-90, max_value=90)
    longitude = forms.FloatField(required=False, min_value=-180, max_value=180)


class ManualForm(forms.Form):
    volunteer = forms.IntegerField(label=_("志愿者"))
    action = forms.ChoiceField(
        label=_("操作"), choices=[("in", _("手动签到")), ("out", _("手动签退"))]
    )
    reason = forms.CharField(label=_("原因"), max_length=200)
    at = forms.DateTimeField(
        label=_("时间（不填为现在）"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=300)


class CorrectionRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("需要更正的内容"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )
    proposed_hours = forms.DecimalField(
        label=_("应为（小时，可不填）"), required=False, min_value=0, max_value=24, decimal_places=2
    )


class CorrectionAnswerForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", _("同意更正")), ("reject", _("驳回"))])
    answer = forms.CharField(label=_("答复"), max_length=300)
    hours = forms.DecimalField(
        label=_("更正后时长（小时）"), required=False, min_value=0, max_value=24, decimal_places=2
    )
