"""What the console's forms do: the wrap-up settles the chat's ticket, a transfer hands the
chat to another agent or a team, and a supervisor takes a chat over."""

from __future__ import annotations

from kefu.accounts.models import PresenceState, Team, User
from kefu.accounts.roles import Role
from kefu.accounts.services import presence_set
from kefu.chat.models import ConversationStatus
from kefu.chat.tests.test_console_pages import chat_in_progress, chat_waiting
from kefu.conftest import PASSWORD, Tenant, login
from kefu.tickets.models import Direction, Message, Status

FRAGMENT = {"HX-Request": "true"}


def _agent(t: Tenant, username: str) -> User:
    user = User(username=username, role=Role.AGENT, display_name="孙坐席")
    user.set_password(PASSWORD)
    user.save()
    user.clients.add(t.client)
    return user


def test_wrap_up_sets_kind_tags_and_resolves_the_ticket(tenant_a: Tenant) -> None:
    conversation = chat_in_progress(tenant_a)
    r = login(tenant_a.agent).post(
        f"/chat/console/conversations/{conversation.pk}/wrapup/",
        {"kind": "fault", "tags": "空调，漏水, 上门", "resolve": "1", "note": "已预约周五上门"},
        headers=FRAGMENT,
    )
    assert r.status_code == 200
    assert 'data-kefu-console="wrapped"' in r.content.decode()
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.ENDED  # ended by the wrap-up
    assert conversation.wrapped_up_at is not None
    ticket = conversation.ticket
    assert ticket is not None
    ticket.refresh_from_db()
    assert ticket.kind == "fault"
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["上门", "漏水", "空调"]
    assert ticket.status == Status.RESOLVED
    note = Message.objects.get(ticket=ticket, direction=Direction.NOTE)
    assert note.body_text == "已预约周五上门"


def test_wrap_up_can_keep_the_ticket_open(tenant_a: Tenant) -> None:
    conversation = chat_in_progress(tenant_a)
    r = login(tenant_a.agent).post(
        f"/chat/console/conversations/{conversation.pk}/wrapup/",
        {"kind": "request", "tags": "", "resolve": "0", "note": ""},
    )
    assert r.status_code == 302 and r["Location"] == "/chat/console/"
    assert conversation.ticket is not None
    conversation.ticket.refresh_from_db()
    assert conversation.ticket.kind == "request"
    assert conversation.ticket.status not in (Status.RESOLVED, Status.CLOSED)
    assert not Message.objects.filter(ticket=conversation.ticket, direction=Direction.NOTE).exists()


def test_a_wrap_up_without_a_kind_is_refused_and_changes_nothing(tenant_a: Tenant) -> None:
    conversation = chat_in_progress(tenant_a)
    r = login(tenant_a.agent).post(
        f"/chat/console/conversations/{conversation.pk}/wrapup/",
        {"kind": "", "tags": "x", "resolve": "1"},
        headers=FRAGMENT,
    )
    assert r.status_code == 400
    assert 'data-kefu-console="wrapup"' in r.content.decode()
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.ACTIVE
    assert conversation.wrapped_up_at is None


def test_client_users_cannot_wrap_up(tenant_a: Tenant) -> None:
    conversation = chat_in_progress(tenant_a)
    r = login(tenant_a.auditor).post(
        f"/chat/console/conversations/{conversation.pk}/wrapup/", {"kind": "fault", "resolve": "1"}
    )
    assert r.status_code == 403
    conversation.refresh_from_db()
    assert conversation.wrapped_up_at is None


def test_transfer_to_an_agent_offers_them_the_chat_with_the_note(tenant_a: Tenant) -> None:
    conversation = chat_in_progress(tenant_a)
    colleague = _agent(tenant_a, "acme_agent2")
    r = login(tenant_a.agent).post(
        f"/chat/console/conversations/{conversation.pk}/transfer/",
        {"to": f"agent:{colleague.pk}", "note": "客户要办理退货，请跟进"},
        headers=FRAGMENT,
    )
    assert r.status_code == 200
    assert "孙坐席" in r.content.decode()
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.WAITING
    assert conversation.agent is None and conversation.offered_to == colleague
    note = Message.objects.get(ticket=conversation.ticket, direction=Direction.NOTE)
    assert "客户要办理退货，请跟进" in note.body_text and "孙坐席" in note.body_text
    # Whoever is offered it reads the note beside the chat.
    side = login(colleague).get(f"/chat/console/conversations/{conversation.pk}/")
    assert "客户要办理退货，请跟进" in side.content.decode()


def test_transfer_to_a_team_routes_the_chat_among_its_members(tenant_a: Tenant) -> None:
    conversation = chat_in_progress(tenant_a)
    member = _agent(tenant_a, "acme_online")
    team = Team.objects.create(client=tenant_a.client, name="在线组")
    team.members.add(member)
    presence_set(user=member, state=PresenceState.ONLINE)
    presence_set(user=tenant_a.supervisor, state=PresenceState.ONLINE)  # online, not a member
    r = login(tenant_a.agent).post(
        f"/chat/console/conversations/{conversation.pk}/transfer/",
        {"to": f"team:{team.pk}", "note": ""},
    )
    assert r.status_code == 302
    conversation.refresh_from_db()
    assert conversation.team == team and conversation.status == ConversationStatus.WAITING
    # Routing runs when the transfer commits; run it as the commit would.
    from kefu.chat.routing import chat_route

    chat_route(conversation_id=conversation.pk)
    conversation.refresh_from_db()
    assert conversation.offered_to == member


def test_transfer_to_someone_who_does_not_serve_the_client_is_refused(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    conversation = chat_in_progress(tenant_a)
    http = login(tenant_a.agent)
    for target in (f"agent:{tenant_b.agent.pk}", "team:999999", f"agent:{tenant_a.agent.pk}"):
        r = http.post(
            f"/chat/console/conversations/{conversation.pk}/transfer/",
            {"to": target, "note": "x"},
            headers=FRAGMENT,
        )
        assert r.status_code == 400, target
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.ACTIVE
    assert conversation.agent == tenant_a.agent


def test_a_supervisor_takes_a_chat_over_and_their_console_opens(tenant_a: Tenant) -> None:
    conversation = chat_in_progress(tenant_a)
    r = login(tenant_a.supervisor).post(f"/chat/live/conversations/{conversation.pk}/take-over/")
    assert r.status_code == 302 and r["Location"] == "/chat/console/"
    conversation.refresh_from_db()
    assert conversation.agent == tenant_a.supervisor
    assert conversation.status == ConversationStatus.ACTIVE


def test_a_supervisor_takes_a_waiting_chat_from_the_queue(tenant_a: Tenant) -> None:
    conversation = chat_waiting(tenant_a)
    login(tenant_a.supervisor).post(f"/chat/live/conversations/{conversation.pk}/take-over/")
    conversation.refresh_from_db()
    assert conversation.agent == tenant_a.supervisor
    assert conversation.accepted_at is not None


def test_an_agent_cannot_take_a_colleagues_chat_over_from_the_live_view(tenant_a: Tenant) -> None:
    conversation = chat_in_progress(tenant_a, tenant_a.supervisor)
    r = login(tenant_a.agent).post(f"/chat/live/conversations/{conversation.pk}/take-over/")
    assert r.status_code == 403
    conversation.refresh_from_db()
    assert conversation.agent == tenant_a.supervisor


def test_taking_over_an_ended_chat_says_why(tenant_a: Tenant) -> None:
    conversation = chat_in_progress(tenant_a)
    login(tenant_a.agent).post(
        f"/chat/console/conversations/{conversation.pk}/wrapup/",
        {"kind": "inquiry", "resolve": "1"},
    )
    http = login(tenant_a.supervisor)
    r = http.post(f"/chat/live/conversations/{conversation.pk}/take-over/", follow=True)
    assert "会话已结束" in r.content.decode()
    conversation.refresh_from_db()
    assert conversation.agent == tenant_a.agent
