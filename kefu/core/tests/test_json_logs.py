"""Logs as an operator's log collector reads them (KEFU_LOG_FORMAT=json): one line per
request with its request id, user, client, route, status and duration; one per task run
with its outcome; every line of a request or task carrying its id; personal data masked
as on the pages."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils.module_loading import import_string

from kefu.conftest import Tenant, login, run_tasks
from kefu.core.jobs import job_claim, job_register, job_unregister
from kefu.core.tasks import job_run
from kefu.privacy import masking

PHONE = "13800138000"
EMAIL = "wang.xiaoming@example.com"


@contextmanager
def console(fmt: str = "json") -> Iterator[list[str]]:
    """What kefu's console handler (settings.LOGGING) writes inside the block, in ``fmt``
    as KEFU_LOG_FORMAT would choose it; the lines are there once the block ends."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    assert isinstance(handler, logging.StreamHandler)
    formatters: dict[str, dict[str, Any]] = settings.LOGGING["formatters"]  # type: ignore[assignment]
    spec = dict(formatters[fmt])
    factory = spec.pop("()", None)
    formatter = import_string(factory)(**spec) if factory else logging.Formatter(spec["format"])
    stream = io.StringIO()
    old_formatter, old_stream = handler.formatter, handler.stream
    handler.setFormatter(formatter)
    handler.setStream(stream)
    lines: list[str] = []
    try:
        yield lines
    finally:
        handler.setFormatter(old_formatter)
        handler.setStream(old_stream)
        lines.extend(stream.getvalue().splitlines())


def _records(lines: list[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines]


def test_a_request_is_one_json_line_with_its_fields(tenant_a: Tenant) -> None:
    http = login(tenant_a.supervisor)
    with console() as lines:
        r = http.get("/reports/dashboard/ACME/")
    assert r.status_code == 200
    assert len(lines) == 1, lines
    line = json.loads(lines[0])
    assert line["logger"] == "kefu.request" and line["level"] == "INFO"
    assert line["request_id"] == r["X-Request-ID"]
    assert len(line["request_id"]) == 32
    assert line["user_id"] == tenant_a.supervisor.pk
    assert line["client"] == "ACME"
    assert line["route"] == "/reports/dashboard/<slug:code>/"
    assert line["view"] == "reports:dashboard"
    assert line["method"] == "GET" and line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["time"].endswith("+00:00")


def test_the_route_is_the_url_pattern_never_the_path_with_ids(tenant_a: Tenant) -> None:
    http = login(tenant_a.agent)
    path = f"/tickets/{tenant_a.ticket.pk}/"
    with console() as lines:
        assert http.get(path).status_code == 200
    (line,) = _records(lines)
    assert line["route"] == "/tickets/<int:pk>/"
    assert path not in lines[0]
    assert line["client"] is None  # the URL names no client


def test_anonymous_requests_and_the_api_query_client(tenant_a: Tenant) -> None:
    from django.test import Client as HttpClient

    http = login(tenant_a.agent)
    with console() as lines:
        assert http.get("/api/v1/tickets?client=ACME&limit=1").status_code == 200
        assert HttpClient().get("/healthz").status_code == 200
    api, health = _records(lines)
    assert api["client"] == "ACME" and api["user_id"] == tenant_a.agent.pk
    assert api["route"].startswith("/api/v1/")
    assert health["user_id"] is None and health["route"] == "/healthz"


def test_every_line_of_a_request_carries_its_id(tenant_a: Tenant) -> None:
    http = login(tenant_a.agent)
    with console() as lines:
        r = http.get("/tickets/99999999/")
    assert r.status_code == 404
    records = _records(lines)
    assert {rec["logger"] for rec in records} == {"django.request", "kefu.request"}
    assert {rec["request_id"] for rec in records} == {r["X-Request-ID"]}
    (line,) = [rec for rec in records if rec["logger"] == "kefu.request"]
    assert line["status"] == 404


def test_the_proxys_request_id_is_kept_only_from_a_trusted_proxy(
    db: None, settings: object
) -> None:
    from django.test import Client as HttpClient

    sent = "0f3c2a9e8b7d4c6a9e1f2b3c4d5e6f70"
    settings.KEFU_TRUSTED_PROXIES = []  # type: ignore[attr-defined]
    r = HttpClient().get("/healthz", HTTP_X_REQUEST_ID=sent)
    assert r["X-Request-ID"] != sent

    settings.KEFU_TRUSTED_PROXIES = ["127.0.0.1"]  # type: ignore[attr-defined]
    with console() as lines:
        r = HttpClient().get("/healthz", HTTP_X_REQUEST_ID=sent)
    assert r["X-Request-ID"] == sent
    assert json.loads(lines[0])["request_id"] == sent
    # Forwarded by the trusted proxy on behalf of a client: uvicorn has put the client's
    # address in its place.
    forwarded = HttpClient(REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR="198.51.100.4")
    assert forwarded.get("/healthz", HTTP_X_REQUEST_ID=sent)["X-Request-ID"] == sent
    # Straight from elsewhere, or not a plain id: a new one.
    direct = HttpClient(REMOTE_ADDR="198.51.100.4")
    assert direct.get("/healthz", HTTP_X_REQUEST_ID=sent)["X-Request-ID"] != sent
    forged = HttpClient().get("/healthz", HTTP_X_REQUEST_ID='abc", "status": 200')
    assert forged["X-Request-ID"] != 'abc", "status": 200'


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_personal_data_in_a_line_is_masked_as_on_pages(fmt: str) -> None:
    log = logging.getLogger("kefu.tests.masking")
    message = f"客户 {EMAIL} 来电 {PHONE}，请回电"
    with console(fmt) as lines:
        log.warning("客户 %s 来电 %s，请回电", EMAIL, PHONE)
        log.info("回访", extra={"contact": f"电话 {PHONE}"})
        try:
            raise ValueError(f"cannot parse {PHONE} / {EMAIL}")
        except ValueError:
            log.exception("导入失败")
    text = "\n".join(lines)
    assert PHONE not in text and EMAIL not in text
    assert masking.text(message) in text
    assert masking.text(PHONE) in text
    if fmt == "json":
        warning, info, failure = _records(lines)
        assert warning["message"] == masking.text(message)
        assert info["contact"] == masking.text(f"电话 {PHONE}")
        assert "ValueError: cannot parse" in failure["exc_info"]
    else:
        assert "Traceback" in text and "ValueError: cannot parse" in text


def test_a_task_run_logs_its_outcome(db: None) -> None:
    result = job_run.enqueue(name="core.prune_job_results", token="not-claimed")
    with console() as lines:
        assert run_tasks() == 1
    runs = [rec for rec in _records(lines) if rec["logger"] == "kefu.task"]
    assert len(runs) == 1, lines
    run = runs[0]
    assert run["task"] == "kefu.core.tasks.job_run"
    assert run["task_id"] == str(result.id)
    assert run["status"] == "successful" and run["level"] == "INFO"
    assert isinstance(run["duration_ms"], float)
    assert run["job"] == "core.prune_job_results"
    assert run["outcome"] == "superseded"  # its claim was not this task's


@pytest.fixture
def failing_job() -> Iterator[str]:
    def fail(now: object) -> None:
        logging.getLogger("kefu.tests.job").warning("回访客户 %s 失败", PHONE)
        raise RuntimeError("the job failed")

    job_register(name="tests.failing", every=timedelta(minutes=1), func=fail)
    yield "tests.failing"
    job_unregister("tests.failing")


def test_a_failed_task_logs_its_failure_and_its_lines_carry_its_id(
    db: None, failing_job: str
) -> None:
    from django.utils import timezone

    from kefu.core.jobs import job_get

    job = job_get(failing_job)
    assert job is not None
    token = job_claim(job=job, now=timezone.now())
    assert token is not None
    result = job_run.enqueue(name=failing_job, token=token)
    with console() as lines:
        run_tasks()
    records = _records(lines)
    (inside,) = [rec for rec in records if rec["logger"] == "kefu.tests.job"]
    assert inside["task_id"] == str(result.id)
    assert PHONE not in lines[records.index(inside)]
    (run,) = [rec for rec in records if rec["logger"] == "kefu.task"]
    assert run["status"] == "failed" and run["level"] == "WARNING"
    assert run["error"] == "builtins.RuntimeError"
    assert run["job"] == failing_job and "outcome" not in run


def test_uvicorns_lines_are_json_without_terminal_colours() -> None:
    """``kefu serve`` hands uvicorn's loggers to settings.LOGGING (kefu/core/log.py)."""
    with console() as lines:
        logging.getLogger("uvicorn.error").info(
            "Uvicorn running on %s", "http://127.0.0.1:8000", extra={"color_message": "\x1b[1m"}
        )
    (line,) = _records(lines)
    assert line["message"] == "Uvicorn running on http://127.0.0.1:8000"
    assert "color_message" not in line


def test_personal_data_in_the_request_lines_own_fields_is_masked(
    db: None, settings: object
) -> None:
    """The request line leaves its route, view and method unscanned (kefu's own text), but
    what a sender chose is masked: the client code of the URL and a proxy's request id."""
    from django.test import Client as HttpClient

    settings.KEFU_TRUSTED_PROXIES = ["127.0.0.1"]  # type: ignore[attr-defined]
    with console() as lines:
        HttpClient().get(f"/api/v1/tickets?client={PHONE}", HTTP_X_REQUEST_ID=f"id-{PHONE}")
        HttpClient().generic("BREW", "/healthz")
    text = "\n".join(lines)
    assert PHONE not in text
    api, brew = [rec for rec in _records(lines) if rec["logger"] == "kefu.request"]
    assert api["client"] == masking.text(PHONE)
    assert api["request_id"] == masking.text(f"id-{PHONE}")
    assert "pii_free" not in api  # the filter's hint is not a field of the line
    # A method nobody uses is one value, never the sender's text.
    assert brew["method"] == "<invalid method>" and "BREW" not in brew["message"]


@pytest.mark.parametrize(
    "value",
    [
        "010-234 5678",  # the shortest landline: 3-digit code, 7 digits
        "0755 876 5432",
        "13800138000",
        "4111 1111 1111 1111",
        "11010519491231002X",
        "a@qq.com",
        "w＠example.com",
    ],
)
def test_the_shortest_of_each_kind_is_masked_in_a_line(value: str) -> None:
    """The filter skips text with fewer than ten digits and no at sign: each kind the
    detector knows, at its shortest, still reaches it."""
    log = logging.getLogger("kefu.tests.masking")
    assert masking.text(value) != value
    with console() as lines:
        log.warning("回电 %s", value)
        log.info("x", extra={"contact": value})
    warning, info = _records(lines)
    assert warning["message"] == f"回电 {masking.text(value)}"
    assert info["contact"] == masking.text(value)
