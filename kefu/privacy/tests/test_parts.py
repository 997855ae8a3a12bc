"""Export and anonymisation ask each app for its part (kefu.privacy.parts): the phone
channel's calls come from its own part, and an app that registers a part is covered
without any change in privacy."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import pytest

from kefu.accounts.models import User
from kefu.conftest import Tenant, login
from kefu.privacy import parts
from kefu.privacy.parts import Export, Part, Subject, Tally
from kefu.privacy.services import customer_anonymise, customer_export, retention_run_due
from kefu.privacy.tests.test_dsr import _media, month_of_work
from kefu.privacy.tests.test_retention import ended

__all__ = ["_media", "ended"]


def _export(archive_bytes: bytes) -> dict:
    return json.loads(zipfile.ZipFile(io.BytesIO(archive_bytes)).read("customer.json"))


def test_the_apps_register_their_parts() -> None:
    assert {"tickets", "phone", "surveys", "mail"} <= {p.name for p in parts.parts()}


def test_a_customers_calls_come_from_the_phone_apps_part(
    tenant_a: Tenant, admin_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket = month_of_work(tenant_a)
    data = _export(customer_export(actor=admin_user, customer=tenant_a.customer))
    [call] = data["calls"]
    assert (call["ticket"], call["talk_s"], call["wait_s"]) == (ticket.number, 345, 15)
    page = login(admin_user).get(f"/privacy/customers/{tenant_a.customer.pk}/")
    assert "关联通话 1" in page.content.decode()
    # Without the phone app's part, privacy knows nothing of calls.
    monkeypatch.setattr(parts, "_registry", dict(parts._registry))
    parts.part_unregister("phone")
    data = _export(customer_export(actor=admin_user, customer=tenant_a.customer))
    assert "calls" not in data and data["tickets"]


@dataclass
class ChatRows:
    """A stand-in for a new channel app's table: row id → (ticket id or None, text)."""

    rows: dict[int, tuple[int | None, str]] = field(default_factory=dict)

    def part(self) -> Part:
        def export(subject: Subject, with_files: bool) -> Export:
            mine = [
                text for t, text in self.rows.values() if t is not None and t in subject.ticket_ids
            ]
            files = {"chat/transcript.txt": "\n".join(mine).encode()} if with_files else {}
            return Export(data={"chats": mine}, files=files)

        def anonymise(subject: Subject, tally: Tally, write: bool) -> None:
            for pk, (t, text) in self.rows.items():
                if t is not None and t in subject.ticket_ids and text:
                    tally.add("chat", pk)
                    if write:
                        self.rows[pk] = (t, "")

        def orphans(client_id: int, after: int, limit: int) -> list[int]:
            ids = [pk for pk, (t, text) in self.rows.items() if t is None and text and pk > after]
            return sorted(ids)[:limit]

        def anonymise_orphans(
            client_id: int, ids: Sequence[int], tally: Tally, write: bool
        ) -> None:
            for pk in ids:
                tally.add("chat", pk)
                if write:
                    self.rows[pk] = (None, "")

        return Part(
            name="chat",
            export=export,
            anonymise=anonymise,
            count=lambda subject: {"在线会话": len(export(subject, False).data["chats"])},
            orphans=orphans,
            anonymise_orphans=anonymise_orphans,
            kinds={"chat": "在线会话"},
        )


@pytest.fixture
def chat(monkeypatch: pytest.MonkeyPatch) -> Iterator[ChatRows]:
    monkeypatch.setattr(parts, "_registry", dict(parts._registry))
    rows = ChatRows()
    parts.part_register(rows.part())
    yield rows


def test_a_registered_part_is_exported_and_anonymised(
    tenant_a: Tenant, admin_user: User, chat: ChatRows
) -> None:
    chat.rows[1] = (tenant_a.ticket.pk, "我是王小明，手机 13800138000")
    chat.rows[2] = (None, "路过的访客")
    body = customer_export(actor=admin_user, customer=tenant_a.customer)
    assert _export(body)["chats"] == ["我是王小明，手机 13800138000"]
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert archive.read("chat/transcript.txt").decode() == "我是王小明，手机 13800138000"
    page = login(admin_user).get(f"/privacy/customers/{tenant_a.customer.pk}/")
    assert "在线会话 1" in page.content.decode()

    counts = customer_anonymise(actor=admin_user, customer=tenant_a.customer, reason="客户要求")
    assert counts["chat"] == 1
    assert chat.rows == {1: (tenant_a.ticket.pk, ""), 2: (None, "路过的访客")}


def test_the_retention_job_walks_a_registered_parts_orphans(
    ended: tuple[Tenant, Tenant], chat: ChatRows
) -> None:
    chat.rows[7] = (None, "访客留言：回电 13912345678")
    [run] = retention_run_due()
    assert run.is_finished and run.counts["chat"] == 1
    assert chat.rows[7] == (None, "")
    assert "在线会话 1 条" in run.certificate
