from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from wenming.core.forms import StyledFormMixin
from wenming.core.roles import Role
from wenming.network.models import Unit, UnitKind


class UnitEditForm(StyledFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Unit
        fields = ["name", "address", "phone", "description", "latitude", "longitude", "is_active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}


class UnitCreateForm(StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=UnitKind.choices, initial=UnitKind.POINT)
    name = forms.CharField(label=_("名称"), max_length=100)
    region = forms.ChoiceField(label=_("所在区划"))
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=30, required=False)
    description = forms.CharField(
        label=_("简介"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, region_choices: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["region"]).choices = region_choices


class GrantForm(StyledFormMixin, forms.Form):
    phone = forms.CharField(
        label=_("手机号码"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    name = forms.CharField(label=_("姓名"), max_length=50)
    role = forms.ChoiceField(label=_("角色"))
    password = forms.CharField(
        label=_("初始密码"),
        required=False,
        help_text=_("仅当该手机号码尚未注册时需要；请对方登录后修改。"),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, roles: list[str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["role"]).choices = [(r, Role(r).label) for r in roles]


class RevokeForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("撤销原因"), max_length=300)
