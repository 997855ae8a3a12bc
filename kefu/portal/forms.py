from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.tickets.models import Kind


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("手机号 / Mobile number"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )


class EmailForm(forms.Form):
    email = forms.CharField(
        label=_("邮箱 / Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=_("验证码 / Code"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("请输入 6 位数字验证码 / Enter the 6-digit code")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": "6"}
        ),
    )


class RequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型 / Kind"), choices=Kind.choices, initial=Kind.INQUIRY)
    description = forms.CharField(
        label=_("问题描述 / Description"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    urgent = forms.BooleanField(label=_("紧急 / Urgent"), required=False)
    urgent_reason = forms.CharField(
        label=_("紧急原因 / Why it is urgent"), required=False, max_length=500
    )
    submission = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("回复 / Reply"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    submission = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
