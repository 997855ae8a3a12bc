"""kefu/core/realtime.py: events from a process that serves no sockets (``kefu worker``, a
command) still reach the pages of the server processes through Redis."""

from __future__ import annotations

import secrets
import time
from unittest import mock

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from kefu.conftest import Tenant
from kefu.core import realtime
from kefu.core.tests.sockets import REDIS_URL, redis_answers
from kefu.tickets import services
from kefu.tickets.models import Ticket


@pytest.mark.skipif(not redis_answers(), reason=f"no Redis at {REDIS_URL}")
def test_a_worker_process_event_reaches_redis(settings: object) -> None:
    settings.CHANNEL_LAYERS = {  # type: ignore[attr-defined]
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": f"kefu-test-{secrets.token_hex(4)}"},
        }
    }
    group = realtime.group_name("user", 7)

    async def scenario() -> dict[str, object]:
        layer = get_channel_layer()
        page = await layer.new_channel()
        await layer.group_add(group, page)
        realtime.send(group, "notification", {"id": 1})  # no server loop in this process
        return await layer.receive(page)

    assert async_to_sync(scenario)() == {
        "type": realtime.EVENT,
        "event": {"type": "notification", "id": 1},
    }


@pytest.mark.django_db(transaction=True)
def test_a_redis_outage_never_fails_the_change(settings: object, tenant_a: Tenant) -> None:
    settings.CHANNEL_LAYERS = {  # type: ignore[attr-defined]
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:9/0"]},  # nothing listens there
        }
    }
    with mock.patch.object(realtime.log, "error") as logged:
        ticket = services.ticket_set_status(
            ticket=tenant_a.ticket, actor=tenant_a.agent, status="pending"
        )
        for _ in range(100):
            if logged.called:
                break
            time.sleep(0.05)
    assert Ticket.objects.get(pk=ticket.pk).status == "pending"
    assert logged.called  # the lost event is on record
