"""The agent's side of a chat over the agent socket (``ws/chat/agent/``), for browser tests
that drive the customer's widget in Chromium while the agent speaks the protocol directly."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from websockets.sync.client import ClientConnection, connect


class AgentSocket:
    """One console socket of a logged-in agent (its session cookie), reading frames into
    a list so that a test can wait for the one it expects.

    ``idle`` runs between reads while waiting. A browser test passes a short wait of its
    page: Playwright's synchronous API only works (runs the page's event handlers, such as
    a WebSocket route passing frames on) while the test's thread is inside one of its calls,
    and a blocking read of this socket is not one."""

    def __init__(self, base: str, cookie: bytes, idle: Callable[[], None] | None = None) -> None:
        self.idle = idle
        url = base.replace("http://", "ws://", 1) + "/ws/chat/agent/"
        self.stack = ExitStack()
        self.socket: ClientConnection = self.stack.enter_context(
            connect(
                url,
                additional_headers={"Cookie": cookie.decode(), "Origin": base},
                open_timeout=10,
            )
        )
        self.seen: list[dict[str, Any]] = []

    def send(self, **frame: Any) -> None:
        self.socket.send(json.dumps(frame, ensure_ascii=False))

    def until(
        self,
        kind: str,
        where: Callable[[dict[str, Any]], bool] = lambda f: True,
        timeout: float = 10,
    ) -> dict[str, Any]:
        """The first frame of type ``kind`` (that ``where`` accepts) not taken before."""
        deadline = time.monotonic() + timeout
        index = 0
        while True:
            while index < len(self.seen):
                frame = self.seen[index]
                if frame.get("type") == kind and where(frame):
                    del self.seen[index]
                    return frame
                index += 1
            left = deadline - time.monotonic()
            assert left > 0, f"no {kind} frame within {timeout} s; saw {self.seen}"
            try:
                read = self.socket.recv(timeout=min(left, 0.05) if self.idle else left)
            except TimeoutError:
                if self.idle:
                    self.idle()
                continue
            self.seen.append(json.loads(read))

    def close(self) -> None:
        self.stack.close()
