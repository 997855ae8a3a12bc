"""/healthz and /readyz as a load balancer or monitoring sees them: no login, JSON, no
caching, 503 exactly when something kefu needs is missing, nothing personal or secret."""

from __future__ import annotations

import json
import socket
from datetime import timedelta
from unittest import mock

import pytest
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.test import Client as HttpClient
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from kefu.calendars.models import HolidayYear
from kefu.conftest import Tenant
from kefu.core.tasks import job_run
from kefu.core.tests.sockets import REDIS_URL, redis_answers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_healthz_answers_without_login_or_database() -> None:
    # No database fixture: any query here would raise ("Database access not allowed").
    r = HttpClient().get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    assert "no-store" in r["Cache-Control"]
    assert "Set-Cookie" not in r and not r.cookies


def test_healthz_with_a_stale_session_cookie_is_still_ok(db: None) -> None:
    http = HttpClient()
    http.cookies["sessionid"] = "not-a-session"
    r = http.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_readyz_is_ready_on_a_fresh_database(db: None, settings: object) -> None:
    settings.REDIS_URL = ""  # type: ignore[attr-defined]
    r = HttpClient().get("/readyz")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["status"] in ("ok", "warning")
    checks = body["checks"]
    assert list(checks)[:3] == ["database", "redis", "task_queue"]
    assert {"holidays", "mail"} <= set(checks)
    for name, check in checks.items():
        assert set(check) == {"ok", "required", "detail", "ms"}, name
        assert isinstance(check["ms"], float)
    for name in ("database", "redis", "task_queue", "mail"):
        assert checks[name]["ok"], (name, checks[name])
    assert checks["redis"]["detail"].startswith("skipped")
    assert checks["holidays"]["required"] is False
    assert "no-store" in r["Cache-Control"]


def test_missing_holidays_warn_but_stay_ready(db: None, settings: object) -> None:
    settings.REDIS_URL = ""  # type: ignore[attr-defined]
    next_year = timezone.localdate().year + 1
    HolidayYear.objects.filter(year=next_year).delete()
    r = HttpClient().get("/readyz")
    assert r.status_code == 200
    assert r.json()["status"] == "warning"
    assert r.json()["checks"]["holidays"]["ok"] is False
    assert str(next_year) in r.json()["checks"]["holidays"]["detail"]
    HolidayYear.objects.create(year=next_year)
    holidays = HttpClient().get("/readyz").json()["checks"]["holidays"]
    assert holidays["ok"] is True


def test_readyz_is_503_when_the_database_fails(db: None, settings: object) -> None:
    settings.REDIS_URL = ""  # type: ignore[attr-defined]
    conn = connections[DEFAULT_DB_ALIAS]
    failure = OperationalError("connection to server failed: postgres://kefu:s3cret@db/kefu")
    with mock.patch.object(conn, "cursor", side_effect=failure):
        r = HttpClient().get("/readyz")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "unready"
    database = body["checks"]["database"]
    assert database["ok"] is False
    assert database["detail"].startswith("OperationalError:")
    assert "s3cret" not in r.content.decode() and "postgres://" not in r.content.decode()


def test_readyz_is_503_when_a_task_waited_too_long(db: None, settings: object) -> None:
    settings.REDIS_URL = ""  # type: ignore[attr-defined]
    settings.KEFU_READY_MAX_TASK_AGE = 300  # type: ignore[attr-defined]
    result = job_run.enqueue(name="core.prune_job_results", token="t")
    row = DBTaskResult.objects.filter(id=result.id)
    row.update(enqueued_at=timezone.now() - timedelta(seconds=60))
    fresh = HttpClient().get("/readyz")
    assert fresh.status_code == 200, fresh.content
    assert fresh.json()["checks"]["task_queue"]["ok"] is True

    row.update(enqueued_at=timezone.now() - timedelta(seconds=900))
    r = HttpClient().get("/readyz")
    assert r.status_code == 503
    task_queue = r.json()["checks"]["task_queue"]
    assert task_queue["ok"] is False
    assert "(limit 300 s)" in task_queue["detail"]

    # Scheduled for later, it is not waiting yet; done, it waits no more.
    row.update(run_after=timezone.now() + timedelta(hours=1))
    assert HttpClient().get("/readyz").status_code == 200
    row.update(run_after=timezone.now() - timedelta(hours=1), status="SUCCESSFUL")
    assert HttpClient().get("/readyz").status_code == 200


def test_redis_ready_when_it_answers(db: None, settings: object) -> None:
    if not redis_answers():
        pytest.skip(f"no Redis answers at KEFU_TEST_REDIS_URL ({REDIS_URL})")
    settings.REDIS_URL = REDIS_URL  # type: ignore[attr-defined]
    r = HttpClient().get("/readyz")
    assert r.status_code == 200, r.content
    redis = r.json()["checks"]["redis"]
    assert redis["ok"] is True and redis["detail"] == "PING"


def test_redis_unready_when_its_port_is_closed(db: None, settings: object) -> None:
    settings.REDIS_URL = f"redis://:pw-secret@127.0.0.1:{_free_port()}/0"  # type: ignore[attr-defined]
    r = HttpClient().get("/readyz")
    assert r.status_code == 503
    redis = r.json()["checks"]["redis"]
    assert redis["ok"] is False and redis["required"] is True
    assert "Error" in redis["detail"]
    assert "pw-secret" not in r.content.decode() and "redis://" not in r.content.decode()


def test_readyz_holds_no_personal_data_or_secrets(
    tenant_a: Tenant, settings: object
) -> None:
    from kefu.mail.models import Mailbox

    settings.REDIS_URL = ""  # type: ignore[attr-defined]
    Mailbox.objects.create(client=tenant_a.client, address="kefu@a.example", smtp_host="")
    r = HttpClient().get("/readyz")
    body = r.content.decode()
    assert r.json()["checks"]["mail"]["detail"].startswith("1 of ")
    assert r.json()["checks"]["mail"]["ok"] is False
    assert r.status_code == 200  # mail is information, not readiness
    db = connections[DEFAULT_DB_ALIAS].settings_dict
    for secret in (
        tenant_a.client.name,
        tenant_a.client.code,
        tenant_a.customer.name,
        *tenant_a.customer.emails,
        tenant_a.agent.username,
        "kefu@a.example",
        settings.SECRET_KEY,  # type: ignore[attr-defined]
        db["PASSWORD"] or "\0",
        str(db["NAME"]),
    ):
        assert secret not in body, secret
    json.loads(body)
