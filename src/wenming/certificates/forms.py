"""Forms for the certificate pages: they parse input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

DATE_WIDGET = {"type": "date"}


class RequestForm(forms.Form):
    unit = forms.TypedChoiceField(label=_("出具单位"), coerce=int)
    period_start = forms.DateField(
        label=_("服务起始日期"), widget=forms.DateInput(attrs=DATE_WIDGET)
    )
    period_end = forms.DateField(label=_("服务截止日期"), widget=forms.DateInput(attrs=DATE_WIDGET))
    note = forms.CharField(label=_("说明（可不填，如用途）"), max_length=300, required=False)

    def __init__(self, *args: Any, units: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(u.pk, u.name) for u in units]  # type: ignore[attr-defined]


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=300)


class DirectIssueForm(forms.Form):
    volunteer_number = forms.CharField(label=_("志愿者编号"), max_length=20)
    unit = forms.TypedChoiceField(label=_("出具单位"), coerce=int)
    period_start = forms.DateField(
        label=_("服务起始日期"), widget=forms.DateInput(attrs=DATE_WIDGET)
    )
    period_end = forms.DateField(label=_("服务截止日期"), widget=forms.DateInput(attrs=DATE_WIDGET))

    def __init__(self, *args: Any, units: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(u.pk, u.name) for u in units]  # type: ignore[attr-defined]
