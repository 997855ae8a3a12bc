"""Chat in the Django admin: widgets with their origins one per line and a read-only key,
revoked by an action; conversations and presence as read-only lists."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from kefu.accounts.models import Presence, PresenceState, Team, User
from kefu.accounts.services import presence_set
from kefu.chat.models import ChatWidget
from kefu.chat.selectors import widget_by_key
from kefu.chat.tests.test_console_pages import chat_in_progress, widget_for
from kefu.conftest import Tenant, login
from kefu.core.models import AuditEvent

ADD = "/admin/chat/chatwidget/add/"


@pytest.fixture
def admin_http(admin_user: User) -> HttpClient:
    return login(admin_user)


def _form(t: Tenant, **fields: str) -> dict[str, str]:
    data = {
        "client": str(t.client.pk),
        "name": "官网",
        "origins_text": "https://www.shop-a.example\r\nhttps://m.shop-a.example:8443/\r\n",
        "team": "",
        "privacy_notice": "",
        "notice_version": "1",
        "offer_seconds": "30",
        "max_wait_seconds": "180",
    }
    data.update(fields)
    return data


def test_adding_a_widget_takes_origins_one_per_line(
    admin_http: HttpClient, tenant_a: Tenant
) -> None:
    r = admin_http.post(ADD, _form(tenant_a))
    assert r.status_code == 302, r.content.decode()[:2000]
    widget = ChatWidget.objects.get()
    assert widget.origins == ["https://m.shop-a.example:8443", "https://www.shop-a.example"]
    assert widget.privacy_notice  # the default notice when none is written
    assert widget_by_key(widget.key) == widget
    assert AuditEvent.objects.filter(object_type="chat.chatwidget").exists()
    page = admin_http.get(f"/admin/chat/chatwidget/{widget.pk}/change/").content.decode()
    assert "https://m.shop-a.example:8443\nhttps://www.shop-a.example</textarea>" in page
    assert widget.key in page and 'name="key"' not in page  # shown, never edited


@pytest.mark.parametrize(
    "origins", ["www.shop-a.example", "https://www.shop-a.example/path", "   \r\n  "]
)
def test_a_bad_origin_line_is_refused_on_its_field(
    admin_http: HttpClient, tenant_a: Tenant, origins: str
) -> None:
    r = admin_http.post(ADD, _form(tenant_a, origins_text=origins))
    assert r.status_code == 200
    assert "errorlist" in r.content.decode()
    assert not ChatWidget.objects.exists()


def test_a_team_of_another_client_is_refused(
    admin_http: HttpClient, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    team = Team.objects.create(client=tenant_b.client, name="B组")
    r = admin_http.post(ADD, _form(tenant_a, team=str(team.pk)))
    assert r.status_code == 200 and "坐席组不属于该甲方" in r.content.decode()
    assert not ChatWidget.objects.exists()


def test_editing_origins_keeps_the_key(admin_http: HttpClient, tenant_a: Tenant) -> None:
    widget = widget_for(tenant_a)
    data = _form(tenant_a, origins_text="https://new.shop-a.example", key="forged")
    r = admin_http.post(f"/admin/chat/chatwidget/{widget.pk}/change/", data)
    assert r.status_code == 302
    fresh = ChatWidget.objects.get(pk=widget.pk)
    assert fresh.origins == ["https://new.shop-a.example"] and fresh.key == widget.key


def test_the_revoke_action_stops_the_key(admin_http: HttpClient, tenant_a: Tenant) -> None:
    widget = widget_for(tenant_a)
    r = admin_http.post(
        "/admin/chat/chatwidget/", {"action": "revoke", "_selected_action": [str(widget.pk)]}
    )
    assert r.status_code == 302
    assert widget_by_key(widget.key) is None
    assert ChatWidget.objects.get(pk=widget.pk).revoked_at is not None


def test_conversations_are_a_read_only_list_with_filters(
    admin_http: HttpClient, tenant_a: Tenant
) -> None:
    conversation = chat_in_progress(tenant_a)
    page = admin_http.get("/admin/chat/conversation/?status__exact=active")
    assert page.status_code == 200
    body = page.content.decode()
    assert f"/admin/chat/conversation/{conversation.pk}/change/" in body
    assert "李*" in body and "李女士" not in body
    assert (
        admin_http.get("/admin/chat/conversation/?status__exact=ended")
        .content.decode()
        .count(f"/admin/chat/conversation/{conversation.pk}/change/")
        == 0
    )
    detail = admin_http.get(f"/admin/chat/conversation/{conversation.pk}/change/")
    assert detail.status_code == 200 and 'name="status"' not in detail.content.decode()
    assert admin_http.get("/admin/chat/conversation/add/").status_code == 403


def test_presence_list_and_setting_an_agent_offline(
    admin_http: HttpClient, tenant_a: Tenant
) -> None:
    presence_set(user=tenant_a.agent, state=PresenceState.ONLINE)
    page = admin_http.get("/admin/accounts/presence/?state__exact=online")
    assert page.status_code == 200 and str(tenant_a.agent) in page.content.decode()
    r = admin_http.post(
        "/admin/accounts/presence/",
        {"action": "set_offline", "_selected_action": [str(tenant_a.agent.pk)]},
    )
    assert r.status_code == 302
    assert Presence.objects.get(user=tenant_a.agent).state == PresenceState.OFFLINE
