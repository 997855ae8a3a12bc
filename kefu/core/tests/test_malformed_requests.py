"""Malformed requests from outside: too big, too many parts, numbers and dates out of range.
Each is the client's mistake, answered 400 (or 413 for a body over the limit) — never a 500,
and never an ERROR with a stack trace in the log."""

from __future__ import annotations

import json
import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient
from django.conf import settings

from kefu.conftest import Tenant, api_client, login

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"


def _no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [(r.name, r.levelname, r.getMessage()) for r in bad]


@pytest.fixture
def agent(tenant_a: Tenant) -> HttpClient:
    return login(tenant_a.agent)


@pytest.fixture
def supervisor(tenant_a: Tenant) -> HttpClient:
    return login(tenant_a.supervisor)


def test_api_json_body_over_the_limit_is_413(
    tenant_a: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    body = json.dumps({"direction": "note", "body": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    response = api_client(tenant_a.agent).post(
        f"/api/v1/tickets/{tenant_a.ticket.pk}/messages", body, content_type="application/json"
    )
    assert response.status_code == 413, response.content
    assert "detail" in response.json()
    _no_traceback(caplog)


def test_api_too_many_files_is_400(tenant_a: Tenant, caplog: pytest.LogCaptureFixture) -> None:
    files = [
        SimpleUploadedFile(f"f{i}.txt", b"hello", content_type="text/plain")
        for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)
    ]
    response = api_client(tenant_a.agent).post(
        f"/api/v1/tickets/{tenant_a.ticket.pk}/attachments",
        {"files": files, "body": "附件", "direction": "note"},
    )
    assert response.status_code == 400, response.content
    _no_traceback(caplog)


def test_api_too_many_fields_is_400(tenant_a: Tenant, caplog: pytest.LogCaptureFixture) -> None:
    fields = {f"f{i}": "x" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = api_client(tenant_a.agent).post(
        f"/api/v1/tickets/{tenant_a.ticket.pk}/attachments", {**fields, "body": "x"}
    )
    assert response.status_code == 400, response.content
    _no_traceback(caplog)


def test_page_form_over_the_limit_is_400(agent: HttpClient, tenant_a: Tenant, caplog: pytest.LogCaptureFixture) -> None:
    response = agent.post(
        f"/tickets/{tenant_a.ticket.pk}/note/",
        {"body": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)},
    )
    assert response.status_code in (400, 413)
    _no_traceback(caplog)


def test_page_form_with_too_many_fields_is_400(agent: HttpClient, tenant_a: Tenant, caplog: pytest.LogCaptureFixture) -> None:
    fields = {f"f{i}": "x" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = agent.post(f"/tickets/{tenant_a.ticket.pk}/note/", fields)
    assert response.status_code == 400
    _no_traceback(caplog)


@pytest.mark.parametrize(
    "url",
    [
        f"/tickets/?assignee={HUGE}",
        f"/tickets/?before={HUGE}",
        f"/tickets/?status=&assignee={HUGE}&sort=due&after=2026-01-01T00:00:00%2B08:00|{HUGE}",
        "/tickets/?status=&period=9999-12",
        "/tickets/?status=&resolved=9999-12-31",
        "/tickets/?status=&period=0000-01",
        f"/api/v1/tickets?assignee={HUGE}",
        f"/api/v1/tickets?before={HUGE}",
        f"/tickets/{HUGE}/",
        f"/api/v1/tickets/{HUGE}",
    ],
)
def test_out_of_range_numbers_and_dates_in_ticket_urls(
    url: str, tenant_a: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    http = api_client(tenant_a.agent) if url.startswith("/api/") else login(tenant_a.agent)
    response = http.get(url)
    assert response.status_code in (200, 400, 404, 422), (url, response.status_code)
    _no_traceback(caplog)


@pytest.mark.parametrize(
    "url",
    [
        "/reports/monthly/ACME/9999-99/",
        "/reports/monthly/ACME/9999-12/",
        "/reports/monthly/ACME/0000-01/",
        "/reports/monthly/ACME/0-1/",
        "/reports/calls/ACME/9999-12/",
        "/reports/surveys/ACME/0000-12/",
        f"/reports/issued/{HUGE}/",
        f"/reports/issued/{HUGE}/file.xlsx",
        "/privacy/audit/?until=9999-12-31",
        "/privacy/audit/?since=0001-01-01&until=9999-12-31",
        "/privacy/audit/export.csv?until=9999-12-31",
        f"/privacy/audit/?before={HUGE}",
        f"/privacy/customers/{HUGE}/",
    ],
)
def test_out_of_range_dates_in_report_and_audit_urls(
    url: str, tenant_a: Tenant, admin_user: object, caplog: pytest.LogCaptureFixture
) -> None:
    response = login(admin_user).get(url)  # type: ignore[arg-type]
    assert response.status_code in (200, 400, 404), (url, response.status_code)
    if response.status_code == 200 and hasattr(response, "streaming_content"):
        b"".join(response.streaming_content)
    _no_traceback(caplog)


def test_out_of_range_assignee_in_a_form(agent: HttpClient, tenant_a: Tenant, caplog: pytest.LogCaptureFixture) -> None:
    response = agent.post(f"/tickets/{tenant_a.ticket.pk}/assign/", {"assignee": HUGE})
    assert response.status_code in (200, 302, 400)
    _no_traceback(caplog)


def test_token_expiry_far_in_the_future(agent: HttpClient, caplog: pytest.LogCaptureFixture) -> None:
    response = agent.post("/account/tokens/", {"name": "x", "scope": "read", "expires_on": "9999-12-31"})
    assert response.status_code in (200, 302, 400)
    _no_traceback(caplog)
