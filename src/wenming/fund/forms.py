"""Forms of the fund pages. Amounts are typed in yuan (up to two decimals) and handed
to the services in integer fen."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from wenming.core.forms import ServiceErrorsMixin, StyledFormMixin
from wenming.fund.models import MAX_AMOUNT_FEN, DonationChannel, DonorKind


def to_fen(yuan: Decimal) -> int:
    return int((yuan * 100).to_integral_value())


class DonationForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    FIELD_MAP: ClassVar[dict[str, str]] = {"project_id": "project"}

    amount = forms.DecimalField(
        label=_("金额（元）"),
        min_value=Decimal("0.01"),
        max_value=Decimal(MAX_AMOUNT_FEN) / 100,
        decimal_places=2,
        max_digits=14,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        error_messages={
            "invalid": _("请输入金额，例如 200 或 1500.50。"),
            "min_value": _("金额须大于零。"),
            "max_value": _("金额过大，请核对。"),
            "max_decimal_places": _("金额最多两位小数（分）。"),
            "max_digits": _("金额过大，请核对。"),
        },
    )
    donor_kind = forms.ChoiceField(label=_("捐赠人类型"), choices=DonorKind.choices)
    donor_name = forms.CharField(
        label=_("捐赠人姓名或单位"), max_length=100, required=False,
        help_text=_("匿名捐赠可不填。"),
    )  # fmt: skip
    publish_name = forms.BooleanField(label=_("捐赠人同意公示姓名"), required=False)
    channel = forms.ChoiceField(label=_("方式"), choices=DonationChannel.choices)
    project = forms.TypedChoiceField(
        label=_("定向项目"), required=False, coerce=int, empty_value=None,
        help_text=_("捐赠人指定用于某个项目时选择；不选即为非定向捐赠。"),
    )  # fmt: skip
    received_on = forms.DateField(
        label=_("收到日期"),
        # type=date only takes YYYY-MM-DD, whatever the language.
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    note = forms.CharField(label=_("备注"), max_length=200, required=False)

    def __init__(self, *args: Any, projects: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["project"]).choices = [("", _("非定向")), *projects]


class FundForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    unit = forms.TypedChoiceField(label=_("管理单位"), coerce=int)
    name = forms.CharField(label=_("基金名称"), max_length=100)
    purpose = forms.CharField(
        label=_("用途"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, units: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["unit"]).choices = units


class ReasonForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=200)
