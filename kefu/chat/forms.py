"""The console's two forms: the wrap-up after a chat, and a transfer."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.chat.board import TransferTargets
from kefu.tickets.models import Kind


class WrapUpForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型 / Kind"), choices=Kind.choices)
    tags = forms.CharField(
        label=_("标签（逗号分隔） / Tags (comma-separated)"), required=False, max_length=500
    )
    resolve = forms.TypedChoiceField(
        label=_("工单 / Ticket"),
        choices=[("1", _("已解决 / Resolved")), ("0", _("保持打开，继续跟进 / Keep open"))],
        coerce=lambda v: v == "1",
        initial="1",
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("内部备注 / Internal note"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def tag_list(self) -> list[str]:
        raw = self.cleaned_data.get("tags", "").replace("，", ",")
        return [t.strip() for t in raw.split(",") if t.strip()]


class TransferForm(forms.Form):
    to = forms.ChoiceField(label=_("转接给 / Transfer to"))
    note = forms.CharField(
        label=_("转接说明 / Note"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, targets: TransferTargets, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        agents = [
            (f"agent:{a.user.pk}", f"{a.user} · {a.state_label} {a.load}/{a.max_chats}")
            for a in targets.agents
        ]
        teams = [(f"team:{t.pk}", str(t)) for t in targets.teams]
        choices: list[Any] = [("", "—")]
        if agents:
            choices.append((_("坐席 / Agents"), agents))
        if teams:
            choices.append((_("坐席组 / Teams"), teams))
        to = self.fields["to"]
        assert isinstance(to, forms.ChoiceField)
        to.choices = choices
        self.targets = targets

    def target(self) -> tuple[str, int]:
        """``("agent" | "team", id)`` of the chosen target (after validation)."""
        kind, _sep, pk = self.cleaned_data["to"].partition(":")
        return kind, int(pk)
