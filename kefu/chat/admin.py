"""Chat widgets, conversations and agents' presence in the Django admin.

A widget's allowed origins are edited one per line and checked as the command line checks
them; its key is never edited (a new key is a new widget) and a widget is stopped with the
revoke action, which keeps its conversations. Conversations are a read-only record (the
console and the routing change them); presence is set by agents, and an admin can only
set someone offline (their chats stop being offered to them)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Presence, PresenceState, User
from kefu.accounts.services import presence_set
from kefu.chat.models import ChatWidget, Conversation
from kefu.chat.services import DEFAULT_NOTICE, widget_revoke
from kefu.chat.services import origin_clean as origin_check
from kefu.core.admin import AuditedAdmin
from kefu.privacy.masking import customer_label


class ChatWidgetForm(forms.ModelForm[ChatWidget]):
    origins_text = forms.CharField(
        label=_("允许的网站来源 / Allowed origins"),
        help_text=_(
            "每行一个，如 https://www.example.com 或 https://shop.example.com:8443 / "
            "One per line: scheme://host[:port], no path"
        ),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
    )

    class Meta:
        model = ChatWidget
        fields = (
            "client",
            "name",
            "team",
            "privacy_notice",
            "notice_version",
            "offer_seconds",
            "max_wait_seconds",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["origins_text"].initial = "\n".join(self.instance.origins or [])
        self.fields["privacy_notice"].required = False
        if self.instance.pk:
            self.fields["client"].disabled = True  # its conversations belong to the client

    def clean_origins_text(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["origins_text"].splitlines()]
        errors, origins = [], []
        for line in filter(None, lines):
            try:
                origins.append(origin_check(line))
            except ValidationError as exc:
                errors += exc.messages
        if errors:
            raise ValidationError(errors)
        if not origins:
            raise ValidationError(_("至少需要一个网站来源 / At least one origin is needed"))
        return sorted(set(origins))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        team, client = data.get("team"), data.get("client") or self.instance.client_id
        client_id = getattr(client, "pk", client)
        if team is not None and client_id is not None and team.client_id != client_id:
            self.add_error("team", _("坐席组不属于该甲方 / The team belongs to another client"))
        return data


@admin.register(ChatWidget)
class ChatWidgetAdmin(AuditedAdmin[ChatWidget]):
    form = ChatWidgetForm
    list_display = ("__str__", "client", "origin_list", "team", "created_at", "revoked_at")
    list_filter = ("client", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "key")
    readonly_fields = ("key", "created_at", "revoked_at")
    actions = ("revoke",)
    fieldsets = (
        (None, {"fields": ("client", "name", "key", "origins_text", "team")}),
        (
            _("隐私告知与排队 / Notice and queue"),
            {"fields": ("privacy_notice", "notice_version", "offer_seconds", "max_wait_seconds")},
        ),
        (None, {"fields": ("created_at", "revoked_at")}),
    )

    @admin.display(description=_("允许的网站来源 / Allowed origins"))
    def origin_list(self, widget: ChatWidget) -> str:
        return ", ".join(widget.origins or [])

    def save_model(self, request: HttpRequest, obj: ChatWidget, form: Any, change: bool) -> None:
        obj.origins = form.cleaned_data["origins_text"]
        obj.privacy_notice = obj.privacy_notice.strip() or DEFAULT_NOTICE
        super().save_model(request, obj, form, change)

    @admin.action(description=_("停用所选窗口（密钥失效） / Revoke the selected widgets"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ChatWidget]) -> None:
        count = 0
        for widget in queryset.filter(revoked_at__isnull=True):
            widget_revoke(widget=widget, actor=_actor(request))
            count += 1
        self.message_user(
            request, _("已停用 %(n)d 个窗口 / %(n)d revoked") % {"n": count}, messages.SUCCESS
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # conversations keep their widget: revoke instead


def _actor(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


@admin.register(Conversation)
class ConversationAdmin(AuditedAdmin[Conversation]):
    list_display = (
        "pk",
        "client",
        "widget",
        "status",
        "customer_masked",
        "agent",
        "started_at",
        "accepted_at",
        "answered_at",
        "ended_at",
        "ended_by",
        "wrapped_up_at",
    )
    list_filter = ("status", "client", "ended_by", "widget", "started_at")
    list_select_related = ("client", "widget", "customer", "agent")
    date_hierarchy = "started_at"
    exclude = ("token_hash",)
    ordering = ("-started_at",)

    @admin.display(description=_("客户 / Customer"))
    def customer_masked(self, conversation: Conversation) -> str:
        return customer_label(conversation.customer)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Conversation._meta.fields if f.name != "token_hash"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Presence)
class PresenceAdmin(AuditedAdmin[Presence]):
    list_display = ("user", "state", "max_chats", "sockets", "changed_at", "last_offered_at")
    list_filter = ("state",)
    list_select_related = ("user",)
    search_fields = ("user__username", "user__display_name")
    actions = ("set_offline",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Presence._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("设为离线 / Set offline"), permissions=["view"])
    def set_offline(self, request: HttpRequest, queryset: QuerySet[Presence]) -> None:
        for presence in queryset.exclude(state=PresenceState.OFFLINE).select_related("user"):
            presence_set(user=presence.user, state=PresenceState.OFFLINE)
        self.message_user(request, _("已设为离线 / Set offline"), messages.SUCCESS)
