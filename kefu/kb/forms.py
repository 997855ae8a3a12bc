from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Team, User
from kefu.accounts.roles import Role
from kefu.contracts.models import Client
from kefu.kb.models import ArticleStatus, Category, Lang

SHARED = "shared"


def client_choices(user: User, *, with_shared: bool) -> list[tuple[str, str]]:
    ids = user.visible_client_ids()
    clients = Client.objects.all() if ids is None else Client.objects.filter(pk__in=ids)
    choices = [(str(c.pk), f"{c.name} ({c.code})") for c in clients.order_by("code")]
    if with_shared and user.role == Role.ADMIN:
        choices.append((SHARED, str(_("所有甲方共用 / Shared by every client"))))
    return choices


def client_of(value: str) -> Client | None:
    return None if value == SHARED else Client.objects.get(pk=int(value))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class ArticleForm(forms.Form):
    client = forms.ChoiceField(label=_("甲方 / Client"))
    title = forms.CharField(label=_("标题 / Title"), max_length=200)
    body = forms.CharField(
        label=_("正文（HTML，可含图片） / Body (HTML, pictures allowed)"),
        widget=forms.Textarea(attrs={"rows": 14}),
        required=False,
    )
    category = forms.ModelChoiceField(
        label=_("分类 / Category"), queryset=Category.objects.none(), required=False
    )
    tags = forms.CharField(label=_("标签（逗号分隔） / Tags"), required=False)
    lang = forms.ChoiceField(label=_("语言 / Language"), choices=Lang.choices)
    status = forms.ChoiceField(label=_("状态 / Status"), choices=ArticleStatus.choices)
    note = forms.CharField(label=_("修改说明 / What changed"), max_length=200, required=False)
    attachments = forms.FileField(
        label=_("附件或图片 / Files or pictures"),
        required=False,
        widget=MultipleFileInput(),
    )

    def __init__(self, *args: Any, user: User, client_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].choices = client_choices(user, with_shared=True)  # type: ignore[attr-defined]
        categories = Category.objects.visible_to(user)
        if client_id is not None:
            categories = categories.for_client(client_id)
        self.fields["category"].queryset = categories  # type: ignore[attr-defined]

    def tag_list(self) -> list[str]:
        raw = self.cleaned_data.get("tags") or ""
        return [t.strip() for t in raw.replace("，", ",").split(",") if t.strip()]


class CategoryForm(forms.Form):
    client = forms.ChoiceField(label=_("甲方 / Client"))
    name = forms.CharField(label=_("名称 / Name"), max_length=100)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].choices = client_choices(user, with_shared=True)  # type: ignore[attr-defined]


class SynonymForm(forms.Form):
    client = forms.ChoiceField(label=_("甲方 / Client"))
    terms = forms.CharField(
        label=_("同义词（用 = 或逗号分隔） / Synonyms (separated by = or commas)"), max_length=500
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].choices = client_choices(user, with_shared=True)  # type: ignore[attr-defined]

    def term_list(self) -> list[str]:
        raw = self.cleaned_data["terms"]
        for sep in ("＝", "，", "、", ","):
            raw = raw.replace(sep, "=")
        return [t.strip() for t in raw.split("=") if t.strip()]


class CannedReplyForm(forms.Form):
    client = forms.ChoiceField(label=_("甲方 / Client"))
    team = forms.ModelChoiceField(
        label=_("坐席组（留空 = 全部坐席） / Team (empty: every agent)"),
        queryset=Team.objects.none(),
        required=False,
    )
    shortcut = forms.CharField(label=_("快捷词 / Shortcut"), max_length=40)
    title = forms.CharField(label=_("标题 / Title"), max_length=100)
    body = forms.CharField(
        label=_("内容 / Text"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "占位符 / Placeholders: {客户} 客户称呼（脱敏） customer's masked name · "
            "{工单号} ticket number · {坐席} agent's name"
        ),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].choices = client_choices(user, with_shared=False)  # type: ignore[attr-defined]
        self.fields["team"].queryset = Team.objects.visible_to(user)  # type: ignore[attr-defined]
