"""A server killed in the middle of a chat loses no acknowledged message: the widget's
acknowledgement leaves only after the message is committed, and what was not acknowledged
is sent again with the same client ids after the restart, stored once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from kefu.chat.models import Conversation
from kefu.chat.services import widget_create
from kefu.conftest import Tenant
from kefu.core.tests.servers import free_port, shared_env
from kefu.tickets.models import Message

pytestmark = [
    pytest.mark.skipif(
        "postgres" not in os.environ.get("DATABASE_URL", ""),
        reason="a killed server process and the test share the database: PostgreSQL",
    ),
    pytest.mark.django_db(transaction=True),
]

SITE = "https://www.shop-a.example"


def _start_server(env: dict[str, str], port: int) -> subprocess.Popen[str]:
    server = subprocess.Popen(
        [sys.executable, "-m", "kefu", "serve", "--port", str(port), "--worker", "no"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return server
        except OSError:
            assert server.poll() is None and time.monotonic() < deadline, "no server"
            time.sleep(0.2)


def test_kill_9_mid_chat_loses_no_acknowledged_message(tenant_a: Tenant) -> None:
    widget = widget_create(client=tenant_a.client, origins=[SITE])
    env = shared_env()
    env.pop("REDIS_URL")
    port = free_port()
    url = f"ws://127.0.0.1:{port}/ws/chat/widget/{widget.key}/"
    server = _start_server(env, port)
    acked: dict[str, int] = {}
    try:
        with connect(url, additional_headers={"Origin": SITE}, open_timeout=10) as chat:
            json.loads(chat.recv(timeout=10))  # hello
            chat.send(
                json.dumps(
                    {
                        "type": "start",
                        "name": "孙先生",
                        "consent": True,
                        "notice_version": widget.notice_version,
                    }
                )
            )
            started = json.loads(chat.recv(timeout=10))
            for n in range(60):
                chat.send(json.dumps({"type": "message", "cid": f"k{n}", "text": f"第{n}句"}))
            try:
                while len(acked) < 15:
                    frame = json.loads(chat.recv(timeout=10))
                    if frame["type"] == "ack":
                        acked[frame["cid"]] = frame["id"]
                server.send_signal(signal.SIGKILL)
                server.wait(timeout=10)
                while True:  # what was already on its way before the kill
                    frame = json.loads(chat.recv(timeout=5))
                    if frame["type"] == "ack":
                        acked[frame["cid"]] = frame["id"]
            except (ConnectionClosed, TimeoutError):
                pass
        stored = dict(
            Message.objects.filter(ticket__conversations=started["conversation"]).values_list(
                "channel_ids__cid", "pk"
            )
        )
        assert {cid: stored.get(cid) for cid in acked} == acked  # every ack is a stored row

        server = _start_server(env, port)
        with connect(url, additional_headers={"Origin": SITE}, open_timeout=10) as chat:
            json.loads(chat.recv(timeout=10))
            chat.send(
                json.dumps(
                    {
                        "type": "resume",
                        "conversation": started["conversation"],
                        "token": started["token"],
                    }
                )
            )
            resumed = json.loads(chat.recv(timeout=10))
            assert resumed["type"] == "resumed"
            seen = {m["cid"] for m in resumed["messages"] if "cid" in m}
            # The widget sends again what it has no ack for, one at a time, and again after
            # a pause when the socket's message budget refuses one.
            for n in range(60):
                if f"k{n}" in acked:
                    continue
                frame_out = json.dumps({"type": "message", "cid": f"k{n}", "text": f"第{n}句"})
                chat.send(frame_out)
                while f"k{n}" not in acked:
                    frame = json.loads(chat.recv(timeout=10))
                    if frame["type"] == "ack":
                        acked[frame["cid"]] = frame["id"]
                    elif frame.get("code") == "rate_limited":  # over budget: wait, resend
                        time.sleep(0.5)
                        chat.send(frame_out)
        assert seen <= set(acked) | set(stored)
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
    chat_messages = Message.objects.filter(ticket=Conversation.objects.get().ticket)
    texts = sorted(chat_messages.values_list("body_text", flat=True))
    assert texts == sorted(f"第{n}句" for n in range(60))  # each once, none lost
