"""Key rotation: after ``kefu encryption rotate`` every record decrypts under the new key,
nothing is left under the old one, lookups still work, and the old key can go."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from kefu.conftest import Tenant, api_client, make_tenant
from kefu.core.models import AuditAction, AuditEvent
from kefu.privacy.crypto import KeyRing, generate_index_key, generate_key_line
from kefu.privacy.rotation import encryption_pending, encryption_rotate
from kefu.tickets import services
from kefu.tickets.models import Customer, CustomerIdentifier

KEY_A = generate_key_line("ka")
KEY_B = generate_key_line("kb")

PEOPLE = [
    ("李雷", "+86 139-1111-0001", "LiLei@example.cn"),
    ("韩梅梅", "13911110002", ""),
    ("", "0086 13911110003", "anon@example.cn"),
    ("Jim Green", "", "jim@example.cn"),
    ("林涛", "010-65528888", ""),
]


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("encryption", *args, stdout=out)
    return out.getvalue()


def _stored_values() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, phones, emails FROM tickets_customer")
        return [value for row in cursor.fetchall() for value in row if value]


@pytest.fixture
def under_key_a(settings: Any, db: None) -> tuple[Tenant, list[Customer]]:
    settings.KEFU_FIELD_KEYS = KEY_A
    tenant = make_tenant("ACME", "甲方A")
    customers = [
        services.customer_create(
            client=tenant.client,
            data=services.CustomerData(name=name, phone=phone, email=email),
        )
        for name, phone, email in PEOPLE
    ]
    assert all(v.startswith("v1:ka:") for v in _stored_values())
    return tenant, customers


def _assert_everything_readable(tenant: Tenant, customers: list[Customer]) -> None:
    for (name, phone, email), before in zip(PEOPLE, customers, strict=True):
        now = Customer.objects.get(pk=before.pk)
        assert now.name == name
        assert (now.phones, now.emails) == (before.phones, before.emails)
        if phone:
            found = services.customer_find_or_create(
                client=tenant.client, data=services.CustomerData(phone=phone)
            )
            assert found.pk == before.pk
        if email:
            found = services.customer_find_or_create(
                client=tenant.client, data=services.CustomerData(email=email.upper())
            )
            assert found.pk == before.pk
    assert Customer.objects.count() == len(PEOPLE) + 1


def test_rotation_moves_every_value_to_the_new_key_and_the_old_key_can_go(
    settings: Any, under_key_a: tuple[Tenant, list[Customer]]
) -> None:
    tenant, customers = under_key_a
    settings.KEFU_FIELD_KEYS = f"{KEY_B},{KEY_A}"
    assert "tickets.customer.name: empty=1, ka=5 (to rotate)" in _run("status")

    out = _run("rotate", "--batch-size", "2")

    # Six customers (name, phones, emails) and the nine identifiers they are found by.
    assert CustomerIdentifier.objects.count() == 9
    assert "now under key kb: 15 rows re-encrypted" in out
    stored = _stored_values()
    assert stored and all(v.startswith("v1:kb:") for v in stored)
    assert not any(":ka:" in v for v in stored)
    status = _run("status")
    assert "ka=" not in status and "tickets.customer.name: empty=1, kb=5" in status
    _assert_everything_readable(tenant, customers)

    settings.KEFU_FIELD_KEYS = KEY_B
    _assert_everything_readable(tenant, customers)
    agent_view = api_client(tenant.agent).get("/api/v1/customers", {"phone": "13911110002"})
    assert [c["id"] for c in agent_view.json()["items"]] == [customers[1].pk]

    event = AuditEvent.objects.get(action=AuditAction.KEY_ROTATE)
    assert event.data == {"current_key": "kb", "rows": 15, "values_from": {"ka": 23}}
    assert "李雷" not in str(event.data) and event.actor_name == "kefu"


def test_rotation_is_idempotent_and_resumes_after_an_interruption(
    settings: Any, under_key_a: tuple[Tenant, list[Customer]]
) -> None:
    tenant, customers = under_key_a
    settings.KEFU_FIELD_KEYS = f"{KEY_B},{KEY_A}"

    def stop_after_first_batch(done: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        encryption_rotate(batch_size=2, progress=stop_after_first_batch)
    stored = _stored_values()
    assert any(v.startswith("v1:kb:") for v in stored)
    assert any(v.startswith("v1:ka:") for v in stored)

    assert encryption_pending() == 15 - 2
    assert encryption_rotate(batch_size=2).rows == 15 - 2
    # Nothing is left to do, and nothing is counted as left (each value under the new key).
    assert encryption_pending() == 0
    assert encryption_rotate(batch_size=2).rows == 0
    assert all(v.startswith("v1:kb:") for v in _stored_values())
    _assert_everything_readable(tenant, customers)


def test_dropping_a_key_before_rotating_fails_clearly(
    settings: Any, under_key_a: tuple[Tenant, list[Customer]]
) -> None:
    settings.KEFU_FIELD_KEYS = KEY_B
    with pytest.raises(CommandError, match="not configured: ka"):
        _run("status")
    with pytest.raises(CommandError, match="key 'ka', which is not configured"):
        _run("rotate")
    assert all(v.startswith("v1:ka:") for v in _stored_values())


def test_reindex_after_the_index_key_changes(
    settings: Any, under_key_a: tuple[Tenant, list[Customer]]
) -> None:
    tenant, customers = under_key_a
    settings.KEFU_INDEX_KEY = generate_index_key()
    http = api_client(tenant.agent)
    assert http.get("/api/v1/customers", {"phone": "13911110002"}).json()["items"] == []

    # Six customers and the nine identifiers they are found by.
    assert "15 rows changed" in _run("reindex")

    found = http.get("/api/v1/customers", {"phone": "13911110002"}).json()["items"]
    assert [c["id"] for c in found] == [customers[1].pk]
    _assert_everything_readable(tenant, customers)


def test_generate_key_prints_usable_lines() -> None:
    line = _run("generate-key", "--id", "k2027").strip()
    index = _run("generate-key", "--index").strip()
    assert KeyRing.parse(f"{line},{KEY_A}", index).current_id == "k2027"
    with pytest.raises(CommandError, match="lower-case"):
        _run("generate-key", "--id", "Bad Id")


def _settings_in_subprocess(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    clean.pop("DATABASE_URL", None)
    clean.update({"KEFU_VAR_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "-c", "from kefu import settings as s; print(s.KEFU_FIELD_KEYS)"],
        env=clean,
        capture_output=True,
        text=True,
        check=False,
    )


def test_embedded_mode_generates_keys_once_under_the_var_dir(tmp_path: Path) -> None:
    first = _settings_in_subprocess(tmp_path)
    second = _settings_in_subprocess(tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert (tmp_path / "field_keys").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "index_key").read_text().strip()


def test_production_refuses_to_start_without_explicit_keys(tmp_path: Path) -> None:
    production = {"KEFU_PRODUCTION": "1", "SECRET_KEY": "x" * 50}
    result = _settings_in_subprocess(tmp_path, **production)
    assert result.returncode != 0
    assert "KEFU_FIELD_KEYS" in result.stderr
    assert not (tmp_path / "field_keys").exists()
    ok = _settings_in_subprocess(
        tmp_path, **production, KEFU_FIELD_KEYS=KEY_A, KEFU_INDEX_KEY=generate_index_key()
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == KEY_A
    bad = _settings_in_subprocess(
        tmp_path, **production, KEFU_FIELD_KEYS="ka:tooshort", KEFU_INDEX_KEY=generate_index_key()
    )
    assert "must be 32 bytes" in bad.stderr
