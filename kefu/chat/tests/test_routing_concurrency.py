"""Several server processes route at once: an agent is never given more chats than their
maximum, and every chat is offered to one agent at a time (PostgreSQL row locks)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection, connections

from kefu.accounts.models import Role
from kefu.accounts.services import presence_set
from kefu.chat import routing
from kefu.chat.models import Conversation
from kefu.chat.services import conversation_start, widget_create
from kefu.chat.tests.test_routing import T0
from kefu.conftest import Tenant, _user


def _at_once(work: Callable[[int], object], n: int) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def run(k: int) -> None:
        try:
            barrier.wait()
            work(k)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.mark.django_db(transaction=True)
def test_routers_racing_never_exceed_an_agents_maximum(tenant_a: Tenant) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent routers with row locks (CI runs it)")
    widget = widget_create(client=tenant_a.client, origins=["https://shop.example"])
    agents = []
    for name, slots in (("solo_one", 1), ("solo_two", 2)):
        agent = _user(name, Role.AGENT)
        agent.clients.add(tenant_a.client)
        presence_set(user=agent, state="online", max_chats=slots, at=T0)
        agents.append(agent)
    chats = [
        conversation_start(
            widget=widget,
            name=f"访客{k}",
            consent=True,
            notice_version=widget.notice_version,
            at=T0 + timedelta(seconds=k),
        ).conversation.pk
        for k in range(8)
    ]
    errors = _at_once(
        lambda k: routing.chat_route(conversation_id=chats[k], at=T0 + timedelta(seconds=9)), 8
    )
    assert errors == []
    offered = list(
        Conversation.objects.filter(offered_to__isnull=False).values_list("offered_to", flat=True)
    )
    assert sorted(offered) == sorted([agents[0].pk, agents[1].pk, agents[1].pk])
