"""Malformed requests from outside: a body over the limit, too many fields or files, ids and
dates out of range, on pages and API alike. Each is the sender's mistake, answered 400 (413
for an API body over the limit) — never a 500, and never an ERROR or a stack trace in the
log."""

from __future__ import annotations

import json
import logging

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from kefu.accounts.models import User
from kefu.asgi import KefuASGIHandler
from kefu.conftest import Tenant, api_client, login
from kefu.core.tests.test_asgi import Asgi, bearer

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"  # beyond a 64-bit integer


@pytest.fixture(autouse=True)
def _no_traceback_logged(caplog: pytest.LogCaptureFixture) -> object:
    yield
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [(r.name, r.levelname, r.getMessage()) for r in bad]


def test_api_json_body_over_the_limit_is_413(tenant_a: Tenant) -> None:
    body = json.dumps({"direction": "note", "body": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
    response = api_client(tenant_a.agent).post(
        f"/api/v1/tickets/{tenant_a.ticket.pk}/messages", body, content_type="application/json"
    )
    assert response.status_code == 413
    assert "detail" in response.json()


@pytest.mark.django_db(transaction=True)
def test_api_body_over_the_limit_through_the_server_handler(tenant_a: Tenant) -> None:
    """The same through kefu's ASGI handler (what ``kefu serve`` runs), which reads the body
    before Django's request handling starts."""
    note = {"direction": "note", "body": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
    path = f"/api/v1/tickets/{tenant_a.ticket.pk}/messages"
    app = KefuASGIHandler(keep_idle_threads=1)
    try:
        answer = Asgi(app).run("POST", path, note, **bearer(tenant_a.agent))
    finally:
        app.close()
    assert answer.status == 413 and "detail" in answer.json()


def test_api_upload_with_too_many_files_is_400(tenant_a: Tenant) -> None:
    files = [
        SimpleUploadedFile(f"f{i}.txt", b"hello", content_type="text/plain")
        for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)
    ]
    response = api_client(tenant_a.agent).post(
        f"/api/v1/tickets/{tenant_a.ticket.pk}/attachments",
        {"files": files, "body": "附件", "direction": "note"},
    )
    assert response.status_code == 400
    assert "detail" in response.json()


def test_api_form_with_too_many_fields_is_400(tenant_a: Tenant) -> None:
    fields = {f"f{i}": "x" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = api_client(tenant_a.agent).post(
        f"/api/v1/tickets/{tenant_a.ticket.pk}/attachments", {**fields, "body": "x"}
    )
    assert response.status_code == 400


def test_page_form_over_the_limit_is_400(tenant_a: Tenant) -> None:
    response = login(tenant_a.agent).post(
        f"/tickets/{tenant_a.ticket.pk}/note/",
        {"body": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)},
    )
    assert response.status_code == 400


def test_page_form_with_too_many_fields_or_files_is_400(tenant_a: Tenant) -> None:
    http = login(tenant_a.agent)
    fields = {f"f{i}": "x" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    assert http.post(f"/tickets/{tenant_a.ticket.pk}/note/", fields).status_code == 400
    files = [
        SimpleUploadedFile(f"f{i}.txt", b"hello", content_type="text/plain")
        for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)
    ]
    response = http.post(f"/tickets/{tenant_a.ticket.pk}/note/", {"body": "x", "files": files})
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("url", "status"),
    [
        (f"/tickets/?assignee={HUGE}", 400),
        (f"/tickets/?status=&assignee={HUGE}&sort=due", 400),
        (f"/tickets/?sort=due&after=2026-01-01T00:00:00%2B08:00|{HUGE}", 200),  # bad cursor
        (f"/tickets/?before={HUGE}", 200),
        ("/tickets/?status=&period=9999-12", 400),
        ("/tickets/?status=&resolved=9999-12-31", 400),
        ("/tickets/?status=&period=0000-01", 400),
        ("/tickets/?status=&period=0001-01", 400),
        ("/tickets/?status=&period=2026-13", 400),
        ("/tickets/?status=&period=2026-10", 200),
        (f"/tickets/{HUGE}/", 404),
        (f"/api/v1/tickets?assignee={HUGE}", 400),
        (f"/api/v1/tickets?before={HUGE}", 422),
        (f"/api/v1/tickets/{HUGE}", 404),
        (f"/api/v1/customers/{HUGE}", 404),
    ],
)
def test_out_of_range_ids_and_dates_in_ticket_urls(url: str, status: int, tenant_a: Tenant) -> None:
    http = api_client(tenant_a.agent) if url.startswith("/api/") else login(tenant_a.agent)
    response = http.get(url)
    assert response.status_code == status


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/reports/monthly/ACME/9999-99/", 400),
        ("/reports/monthly/ACME/9999-12/", 400),
        ("/reports/monthly/ACME/0000-01/", 400),
        ("/reports/monthly/ACME/0001-01/", 400),
        ("/reports/monthly/ACME/2026-1x/", 400),
        ("/reports/calls/ACME/9999-12/", 400),
        ("/reports/surveys/ACME/0000-12/", 400),
        ("/reports/calls/ACME/2026-10/", 200),
        (f"/reports/issued/{HUGE}/", 404),
        (f"/reports/issued/{HUGE}/file.xlsx", 404),
        ("/privacy/audit/?until=9999-12-31", 400),
        ("/privacy/audit/?since=0001-01-01", 400),
        ("/privacy/audit/?since=2026-02-30", 400),
        ("/privacy/audit/?since=2026-10-01&until=2026-10-31", 200),
        ("/privacy/audit/export.csv?until=9999-12-31", 400),
        (f"/privacy/audit/?before={HUGE}", 200),
        (f"/privacy/customers/{HUGE}/", 404),
    ],
)
def test_out_of_range_dates_in_report_and_audit_urls(
    url: str, status: int, tenant_a: Tenant, admin_user: User
) -> None:
    response = login(admin_user).get(url)
    assert response.status_code == status
    if status == 200 and response.streaming:
        b"".join(response.streaming_content)  # type: ignore[attr-defined]


def test_out_of_range_ids_in_forms(tenant_a: Tenant) -> None:
    http = login(tenant_a.agent)
    response = http.post(f"/tickets/{tenant_a.ticket.pk}/assign/", {"assignee": HUGE})
    assert response.status_code in (200, 302)  # the form again, with its error
    tenant_a.ticket.refresh_from_db()
    assert tenant_a.ticket.assignee_id is None or tenant_a.ticket.assignee_id < 2**63
    api = api_client(tenant_a.agent).post(
        "/api/v1/tickets",
        {"client": "ACME", "subject": "x", "body": "x", "customer_id": int(HUGE)},
        content_type="application/json",
    )
    assert api.status_code in (404, 422)


def test_out_of_range_message_id_in_a_reveal_is_400(tenant_a: Tenant) -> None:
    http = login(tenant_a.supervisor)
    url = f"/tickets/{tenant_a.ticket.pk}/reveal/"
    form = {"field": "message", "reason": "核实"}
    assert http.post(url, {**form, "message": HUGE}).status_code == 400
    assert http.post(url, {**form, "message": "abc"}).status_code == 400


def test_token_expiry_far_in_the_future_is_a_form_error(tenant_a: Tenant) -> None:
    http = login(tenant_a.agent)
    response = http.post(
        "/account/tokens/", {"name": "x", "scope": "read", "expires_on": "9999-12-31"}
    )
    assert response.status_code == 200
    assert "到期日期" in response.content.decode()
    assert not tenant_a.agent.api_tokens.exists()
