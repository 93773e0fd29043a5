from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from wenming.core.forms import StyledFormMixin


class ReviewForm(StyledFormMixin, forms.Form):
    decision = forms.ChoiceField(
        label=_("审核结果"), choices=[("approve", _("通过")), ("reject", _("不通过"))]
    )
    note = forms.CharField(label=_("审核意见"), max_length=300, required=False)


class RevealForm(StyledFormMixin, forms.Form):
    WHAT = [("phone", _("手机号码")), ("id_number", _("证件号码"))]
    what = forms.ChoiceField(label=_("查看"), choices=WHAT)
    reason = forms.CharField(label=_("查看原因"), max_length=300)
