from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import User
from kefu.contracts.models import Client, Department
from kefu.tickets.models import Channel, Kind, Priority, Status


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("回复客户"), widget=forms.Textarea(attrs={"rows": 4}))
    new_status = forms.ChoiceField(
        label=_("回复后状态"),
        required=False,
        choices=[("", _("不变")), (Status.PENDING, _("等待客户")), (Status.RESOLVED, _("已解决"))],
    )


class NoteForm(forms.Form):
    body = forms.CharField(label=_("内部备注"), widget=forms.Textarea(attrs={"rows": 3}))


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("状态"), choices=Status.choices)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("处理人"), queryset=User.objects.none(), required=False
    )

    def __init__(self, *args: Any, agents: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if agents is not None:
            self.fields["assignee"].queryset = agents  # type: ignore[attr-defined]


class UpdateForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=Kind.choices)
    priority = forms.ChoiceField(label=_("优先级"), choices=Priority.choices)
    tags = forms.CharField(label=_("分类（逗号分隔）"), required=False)


class EscalateForm(forms.Form):
    department = forms.ModelChoiceField(label=_("甲方部门"), queryset=Department.objects.none())
    reason = forms.CharField(label=_("升级原因"), widget=forms.Textarea(attrs={"rows": 2}))
    expected_by = forms.DateTimeField(
        label=_("预计完成时间"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )

    def __init__(self, *args: Any, client_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if client_id is not None:
            self.fields["department"].queryset = Department.objects.filter(  # type: ignore[attr-defined]
                client_id=client_id
            )


class AnswerForm(forms.Form):
    answer = forms.CharField(label=_("部门答复"), widget=forms.Textarea(attrs={"rows": 3}))


class NewTicketForm(forms.Form):
    client = forms.ModelChoiceField(label=_("甲方"), queryset=Client.objects.none())
    channel = forms.ChoiceField(label=_("来源渠道"), choices=Channel.choices, initial="phone")
    kind = forms.ChoiceField(label=_("类型"), choices=Kind.choices)
    priority = forms.ChoiceField(label=_("优先级"), choices=Priority.choices, initial="normal")
    subject = forms.CharField(label=_("主题"), max_length=300)
    body = forms.CharField(label=_("问题描述"), widget=forms.Textarea(attrs={"rows": 4}))
    customer_name = forms.CharField(label=_("客户姓名"), required=False, max_length=200)
    customer_phone = forms.CharField(label=_("客户电话"), required=False, max_length=40)
    customer_email = forms.EmailField(label=_("客户邮箱"), required=False)

    def __init__(self, *args: Any, clients: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if clients is not None:
            self.fields["client"].queryset = clients  # type: ignore[attr-defined]
