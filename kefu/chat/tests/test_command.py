"""``kefu chat widget create|list|revoke``: the key it prints opens the chat from the
allowed website; a bad origin, an unknown client or team is one clear line and nothing is
made."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.core.management import CommandError, call_command

from kefu.accounts.models import Team
from kefu.chat.models import ChatWidget
from kefu.conftest import Tenant
from kefu.core.tests.sockets import open_socket


def _run(*args: str) -> list[dict[str, Any]]:
    out = io.StringIO()
    call_command("chat", *args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.mark.django_db(transaction=True)
def test_create_prints_a_key_that_opens_the_chat_from_the_allowed_site(tenant_a: Tenant) -> None:
    (printed,) = _run(
        "widget",
        "create",
        "--client",
        tenant_a.client.code,
        "--origin",
        "https://www.shop-a.example",
        "--origin",
        "https://m.shop-a.example:8443/",
        "--name",
        "官网",
    )
    key = printed["key"]
    assert printed["origins"] == ["https://m.shop-a.example:8443", "https://www.shop-a.example"]

    async def scenario() -> None:
        socket, accepted, _ = await open_socket(
            f"/ws/chat/widget/{key}/", origin=b"https://m.shop-a.example:8443"
        )
        assert accepted
        hello = await socket.receive_json_from()
        assert hello["type"] == "hello" and hello["client"] == tenant_a.client.name
        await socket.disconnect()
        socket, _, _ = await open_socket(f"/ws/chat/widget/{key}/", origin=b"https://evil.example")
        assert (await socket.receive_json_from())["code"] == "origin"

    async_to_sync(scenario)()


def test_create_with_a_team_of_the_client(tenant_a: Tenant) -> None:
    Team.objects.create(client=tenant_a.client, name="在线组")
    (printed,) = _run(
        "widget",
        "create",
        "--client",
        tenant_a.client.code,
        "--origin",
        "https://www.shop-a.example",
        "--team",
        "在线组",
    )
    assert printed["team"] == "在线组"
    assert ChatWidget.objects.get(key=printed["key"]).team is not None


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--client", "ACME", "--origin", "www.shop-a.example"], "origin"),
        (["--client", "ACME", "--origin", "https://www.shop-a.example/contact"], "no path"),
        (["--client", "ACME", "--origin", "ftp://shop-a.example"], "origin"),
        (["--client", "NOPE", "--origin", "https://www.shop-a.example"], "no client"),
        (
            ["--client", "ACME", "--origin", "https://www.shop-a.example", "--team", "无此组"],
            "no team",
        ),
        (["--client", "ACME"], "--origin"),
    ],
)
def test_bad_arguments_are_one_clear_line_and_nothing_is_made(
    tenant_a: Tenant, args: list[str], says: str
) -> None:
    with pytest.raises(CommandError, match=says) as caught:
        _run("widget", "create", *args)
    assert "\n" not in str(caught.value)
    assert not ChatWidget.objects.exists()


def test_list_and_revoke(tenant_a: Tenant, tenant_b: Tenant) -> None:
    (first,) = _run(
        "widget", "create", "--client", "ACME", "--origin", "https://www.shop-a.example"
    )
    _run("widget", "create", "--client", "BETA", "--origin", "https://www.shop-b.example")
    listed = _run("widget", "list", "--client", "ACME")
    assert [w["key"] for w in listed] == [first["key"]]
    (revoked,) = _run("widget", "revoke", first["key"])
    assert revoked["revoked_at"] is not None
    assert ChatWidget.objects.get(key=first["key"]).revoked_at is not None
    with pytest.raises(CommandError, match="no widget"):
        _run("widget", "revoke", "not-a-key")
