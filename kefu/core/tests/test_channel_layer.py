"""kefu's in-memory channel layer (kefu/core/channel_layer.py): Channels' own, sweeping
expired messages at most once a second. Breaks if a Channels upgrade renames the sweep
(``_clean_expired``) or stops expiring through it."""

from __future__ import annotations

import time
from unittest import mock

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer as ChannelsLayer

from kefu.core.channel_layer import InMemoryChannelLayer


def test_fan_out_to_many_pages_sweeps_once() -> None:
    async def scenario() -> int:
        layer = InMemoryChannelLayer()
        channels = [await layer.new_channel() for _ in range(50)]
        for channel in channels:
            await layer.group_add("kefu.queue.1", channel)
        with mock.patch.object(
            ChannelsLayer, "_clean_expired", autospec=True, side_effect=ChannelsLayer._clean_expired
        ) as sweep:
            await layer.group_send("kefu.queue.1", {"type": "kefu.event", "event": {}})
            got = [await layer.receive(channel) for channel in channels]
        assert got == [{"type": "kefu.event", "event": {}}] * 50
        return sweep.call_count

    assert async_to_sync(scenario)() == 1


def test_expired_messages_and_their_channels_still_go() -> None:
    async def scenario() -> None:
        layer = InMemoryChannelLayer(expiry=0.05)
        layer.clean_every = 0.05
        stale, fresh = await layer.new_channel(), await layer.new_channel()
        for channel in (stale, fresh):
            await layer.group_add("kefu.ticket.1", channel)
        await layer.send(stale, {"type": "old"})
        time.sleep(0.1)
        await layer.group_send("kefu.ticket.1", {"type": "new"})
        assert await layer.receive(fresh) == {"type": "new"}
        # The stale page's expired message was swept and it left its group with it.
        assert stale not in layer.groups.get("kefu.ticket.1", {})

    async_to_sync(scenario)()


def test_a_full_page_loses_its_copy_and_the_others_still_get_theirs() -> None:
    async def scenario() -> None:
        layer = InMemoryChannelLayer(capacity=1)
        slow, quick = await layer.new_channel(), await layer.new_channel()
        for channel in (slow, quick):
            await layer.group_add("kefu.queue.1", channel)
        await layer.group_send("kefu.queue.1", {"type": "first"})
        assert await layer.receive(quick) == {"type": "first"}
        await layer.group_send("kefu.queue.1", {"type": "second"})  # slow is full
        assert await layer.receive(quick) == {"type": "second"}
        assert await layer.receive(slow) == {"type": "first"}

    async_to_sync(scenario)()
