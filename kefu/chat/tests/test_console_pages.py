"""The agent's console and the supervisor's live view as pages: who may open them, what
they show about a chat (the customer's other tickets, the forms), and what the live view's
table holds."""

from __future__ import annotations

import json
import re

import pytest

from kefu.accounts.models import PresenceState, User
from kefu.accounts.services import presence_set
from kefu.chat import routing
from kefu.chat.models import ChatWidget, Conversation
from kefu.chat.services import conversation_start, widget_create
from kefu.conftest import Tenant, login
from kefu.tickets import services as tickets

SITE = "https://www.shop-a.example"


def widget_for(t: Tenant) -> ChatWidget:
    return widget_create(client=t.client, origins=[SITE], name="官网")


def chat_waiting(t: Tenant, name: str = "李女士", widget: ChatWidget | None = None) -> Conversation:
    widget = widget or widget_for(t)
    started = conversation_start(
        widget=widget, name=name, consent=True, notice_version=widget.notice_version
    )
    return started.conversation


def chat_in_progress(t: Tenant, agent: User | None = None, name: str = "李女士") -> Conversation:
    """A chat the agent (``t.agent`` by default) has accepted."""
    agent = agent or t.agent
    conversation = chat_waiting(t, name)
    presence_set(user=agent, state=PresenceState.ONLINE)
    routing.chat_route(conversation_id=conversation.pk)
    conversation.refresh_from_db()
    assert conversation.offered_to == agent
    return routing.offer_accept(conversation=conversation, agent=agent)


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_console_opens_for_provider_staff_with_its_stable_parts(
    tenant_a: Tenant, role: str
) -> None:
    r = login(getattr(tenant_a, role)).get("/chat/console/")
    assert r.status_code == 200
    body = r.content.decode()
    presence = re.search(r'<select data-kefu-console="presence".*?</select>', body, re.S)
    assert presence is not None
    values = re.findall(r'<option value="(\w+)"', presence.group(0))
    assert values == ["online", "away", "offline"]
    assert 'data-live="/ws/chat/agent/"' in body
    assert "kefu/chat-console.js" in body
    assert "<script>" not in body  # kefu's CSP runs no inline script
    names = re.search(r'<script id="chat-clients" type="application/json">(.*?)</script>', body)
    assert names is not None  # offers name their client
    assert json.loads(names.group(1)) == {str(tenant_a.client.pk): tenant_a.client.name}


@pytest.mark.parametrize("role", ["auditor", "department_user"])
def test_console_and_live_view_are_refused_to_clients_users(tenant_a: Tenant, role: str) -> None:
    http = login(getattr(tenant_a, role))
    for url in ("/chat/console/", "/chat/live/", f"/chat/clients/{tenant_a.client.code}/live/"):
        assert http.get(url).status_code == 403, url
    assert "/chat/console/" not in http.get("/tickets/escalations/").content.decode()


def test_console_needs_a_login(db: None) -> None:
    from django.test import Client as HttpClient

    r = HttpClient().get("/chat/console/")
    assert r.status_code == 302 and "/login/" in r["Location"]


def test_the_nav_links_the_console_for_provider_staff_only(tenant_a: Tenant) -> None:
    assert 'href="/chat/console/"' in login(tenant_a.agent).get("/tickets/").content.decode()
    assert 'href="/chat/console/"' not in login(tenant_a.auditor).get("/tickets/").content.decode()


def test_beside_the_chat_the_console_shows_the_customers_tickets_from_every_channel(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    conversation = chat_in_progress(tenant_a)
    assert conversation.customer is not None
    earlier = tickets.ticket_create(
        client=tenant_a.client,
        subject="上周电话报修",
        body="空调漏水",
        channel="phone",
        customer=conversation.customer,
    )
    http = login(tenant_a.agent)
    r = http.get(f"/chat/console/conversations/{conversation.pk}/")
    assert r.status_code == 200
    body = r.content.decode()
    assert earlier.number in body and "上周电话报修" in body
    assert f'href="/tickets/{earlier.pk}/"' in body
    assert "李女士" not in body and "李*" in body  # the customer's name masked, as elsewhere
    assert 'data-kefu-console="wrapup"' in body and 'data-kefu-console="transfer"' in body
    # Other agents serving the client and its teams are the transfer targets.
    assert f'value="agent:{tenant_a.supervisor.pk}"' in body
    assert f'value="agent:{tenant_a.agent.pk}"' not in body  # not to oneself
    assert f'value="agent:{tenant_b.agent.pk}"' not in body

    other = chat_in_progress(tenant_b, tenant_b.agent)
    assert http.get(f"/chat/console/conversations/{other.pk}/").status_code == 404


def test_live_view_shows_waiting_chats_chats_per_agent_and_agents_by_presence(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    talking = chat_in_progress(tenant_a, name="李女士")
    presence_set(user=tenant_a.agent, state=PresenceState.AWAY)  # keeps its chat
    waiting = chat_waiting(tenant_a, name="赵先生")
    chat_in_progress(tenant_b, tenant_b.agent, name="钱先生")
    http = login(tenant_a.supervisor)
    r = http.get("/chat/live/")
    assert r.status_code == 200
    body = r.content.decode()
    assert 'data-live="/ws/chat/live/"' in body and "kefu/chat-live.js" in body
    board = body[body.index('id="chat-board"') :]
    waiting_part = board[: board.index("会话中 / In progress</h3>")]
    assert f'data-conversation="{waiting.pk}"' in waiting_part and "赵*" in waiting_part
    progress = board[board.index("会话中 / In progress</h3>") : board.index("坐席 / Agents</h3>")]
    assert str(tenant_a.agent) in progress and f'data-conversation="{talking.pk}"' in progress
    assert f"/chat/console/?listen={talking.pk}" in progress
    assert f"/chat/live/conversations/{talking.pk}/take-over/" in progress
    agents = board[board.index("坐席 / Agents</h3>") :]
    assert "presence-away" in agents and "1/3" in agents
    assert tenant_b.client.name not in body and "钱*" not in body

    part = http.get("/chat/live/", headers={"HX-Target": "chat-board"})
    assert part.status_code == 200 and "<html" not in part.content.decode()
    assert f'data-conversation="{waiting.pk}"' in part.content.decode()


def test_live_view_of_one_client(tenant_a: Tenant, tenant_b: Tenant) -> None:
    http = login(tenant_a.supervisor)
    r = http.get(f"/chat/clients/{tenant_a.client.code}/live/")
    assert r.status_code == 200
    assert f'data-live="/ws/chat/clients/{tenant_a.client.code}/live/"' in r.content.decode()
    assert http.get(f"/chat/clients/{tenant_b.client.code}/live/").status_code == 404
    assert login(tenant_a.agent).get(f"/chat/clients/{tenant_a.client.code}/live/").status_code == (
        403
    )
    assert login(tenant_a.agent).get("/chat/live/").status_code == 403
