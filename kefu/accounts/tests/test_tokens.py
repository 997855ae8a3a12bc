from __future__ import annotations

import json
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client as HttpClient
from django.utils import timezone

from kefu.accounts.models import ApiToken, TokenScope
from kefu.accounts.services import api_token_create
from kefu.conftest import Tenant, login
from kefu.core.models import AuditEvent


def _bearer(raw: str) -> HttpClient:
    return HttpClient(headers={"Authorization": f"Bearer {raw}"})


def _new_ticket(http: HttpClient) -> int:
    r = http.post(
        "/api/v1/tickets",
        data=json.dumps({"client": "ACME", "subject": "发票开错了"}),
        content_type="application/json",
    )
    return r.status_code


def test_read_token_reads_but_every_write_is_403(tenant_a: Tenant) -> None:
    _t, raw = api_token_create(user=tenant_a.agent, name="报表", scope=TokenScope.READ)
    http = _bearer(raw)
    assert http.get("/api/v1/tickets").status_code == 200
    assert http.get(f"/api/v1/tickets/{tenant_a.ticket.pk}").status_code == 200
    r = http.post(
        "/api/v1/tickets",
        data=json.dumps({"client": "ACME", "subject": "发票开错了"}),
        content_type="application/json",
    )
    assert r.status_code == 403 and "只读" in r.json()["detail"]
    r = http.patch(
        f"/api/v1/tickets/{tenant_a.ticket.pk}",
        data=json.dumps({"priority": "urgent"}),
        content_type="application/json",
    )
    assert r.status_code == 403
    tenant_a.ticket.refresh_from_db()
    assert tenant_a.ticket.priority != "urgent"


def test_a_token_is_read_only_unless_write_is_asked_for(tenant_a: Tenant) -> None:
    # The page and the command default to read; so does the service under them.
    _t, raw = api_token_create(user=tenant_a.agent, name="默认")
    assert _new_ticket(_bearer(raw)) == 403


def test_write_token_may_create(tenant_a: Tenant) -> None:
    _t, raw = api_token_create(user=tenant_a.agent, name="CRM", scope=TokenScope.WRITE)
    assert _new_ticket(_bearer(raw)) == 201


def test_expired_token_is_refused(tenant_a: Tenant) -> None:
    token, raw = api_token_create(
        user=tenant_a.agent,
        name="临时",
        scope=TokenScope.WRITE,
        expires_at=timezone.now() + timedelta(hours=1),
    )
    assert _bearer(raw).get("/api/v1/tickets").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _bearer(raw).get("/api/v1/tickets").status_code == 401


def test_tokens_page_creates_a_read_only_token_by_default(tenant_a: Tenant) -> None:
    http = login(tenant_a.agent)
    page = http.get("/account/tokens/").content.decode()
    assert 'name="scope"' in page and 'name="expires_on"' in page
    last_day = (timezone.localdate() + timedelta(days=30)).isoformat()
    r = http.post("/account/tokens/", {"name": "看板", "expires_on": last_day})
    raw = r.context["raw_token"]
    token = ApiToken.objects.get(user=tenant_a.agent, name="看板")
    assert token.scope == TokenScope.READ
    assert timezone.localtime(token.expires_at).date() == date.fromisoformat(last_day) + timedelta(
        days=1
    )
    assert "只读" in r.content.decode()
    assert _new_ticket(_bearer(raw)) == 403
    assert AuditEvent.objects.filter(object_type="accounts.apitoken", action="create").exists()


def test_tokens_page_refuses_a_past_expiry(tenant_a: Tenant) -> None:
    http = login(tenant_a.agent)
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    r = http.post("/account/tokens/", {"name": "x", "scope": "write", "expires_on": yesterday})
    assert "到期时间必须晚于现在" in r.content.decode()
    assert not ApiToken.objects.filter(user=tenant_a.agent).exists()


def test_command_creates_scoped_tokens(tenant_a: Tenant) -> None:
    out = StringIO()
    call_command("token", "create", "--user", tenant_a.agent.username, "--name", "ro", stdout=out)
    assert ApiToken.objects.get(name="ro").scope == TokenScope.READ
    assert _new_ticket(_bearer(out.getvalue().strip())) == 403
    out = StringIO()
    call_command(
        "token",
        "create",
        "--user",
        tenant_a.agent.username,
        "--name",
        "rw",
        "--scope",
        "write",
        "--expires",
        "2099-12-31",
        stdout=out,
    )
    assert _new_ticket(_bearer(out.getvalue().strip())) == 201
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command(
            "token", "create", "--user", tenant_a.agent.username, "--name", "x", "--expires", "明天"
        )
