"""The in-memory channel layer kefu runs on the embedded default (``CHANNEL_LAYERS``).

It is Channels' own :class:`channels.layers.InMemoryChannelLayer` with one change: its
expiry sweep (``_clean_expired``, a walk over every channel's queue and every group's
members) runs at most once every ``clean_every`` seconds instead of on every ``receive``
and ``group_send``. Each open page's socket receives on its own channel, so upstream one
event to a queue watched by 200 pages makes 200 walks of 200-odd entries — O(pages²): three
quarters of the CPU of the fan-out, 162 µs per delivery against 40 µs
(``bench/realtime.py``, 200 pages; figures in bench/README.md).

What it keeps: messages still expire after ``expiry`` (60 s) and group members after
``group_expiry`` (a day), at most ``clean_every`` later — nothing a page can notice, as its
events are hints to fetch again. ``kefu/core/tests/test_channel_layer.py`` breaks if a
Channels upgrade renames the sweep or stops expiring through it.
"""

from __future__ import annotations

import time
from typing import Any

from channels.layers import InMemoryChannelLayer as ChannelsInMemoryChannelLayer


class InMemoryChannelLayer(ChannelsInMemoryChannelLayer):
    clean_every = 1.0  # seconds between expiry sweeps

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._swept_at = 0.0

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self._swept_at < self.clean_every:
            return
        self._swept_at = now
        super()._clean_expired()
