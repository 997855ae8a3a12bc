"""/metrics as Prometheus and an outsider see it: only a token or an allowed address gets
the page; it counts requests by view, tickets, replies by delivery state, the task queue,
SLA clocks at risk, chats waiting and open WebSockets."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.test import Client as HttpClient
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from prometheus_client import REGISTRY
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from kefu.chat.models import ChatWidget, Conversation, ConversationStatus
from kefu.conftest import Tenant, deliver_queued, login
from kefu.core.metrics import metrics_register, metrics_unregister
from kefu.core.tasks import job_run
from kefu.core.tests.sockets import open_socket, session_cookie
from kefu.sla.models import ClockStatus, SlaClock
from kefu.sla.tests.conftest import sla_tenant
from kefu.tickets import services

__all__ = ["sla_tenant"]

TOKEN = "metrics-token-for-tests-0123456789"


def _scrape(http: HttpClient | None = None) -> dict[str, dict[tuple, float]]:
    """The page parsed: sample name → {sorted label items: value}."""
    r = (http or HttpClient()).get("/metrics")
    assert r.status_code == 200, r.status_code
    assert r["Content-Type"].startswith("text/plain")
    found: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(r.content.decode()):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def _value(page: dict[str, dict[tuple, float]], name: str, **labels: str) -> float | None:
    return page.get(name, {}).get(tuple(sorted(labels.items())))


# Who may read the page


def test_the_page_is_404_to_an_address_not_allowed(db: None) -> None:
    r = HttpClient(REMOTE_ADDR="203.0.113.7").get("/metrics")
    assert r.status_code == 404
    assert b"kefu_" not in r.content


def test_a_local_scraper_reads_it_by_default(db: None) -> None:
    page = _scrape(HttpClient(REMOTE_ADDR="127.0.0.1"))
    assert _value(page, "kefu_metrics_source_up", source="tasks") == 1.0
    assert _value(page, "kefu_task_queue_oldest_seconds") == 0.0
    assert _value(page, "process_resident_memory_bytes")  # the process's own figures too
    assert HttpClient(REMOTE_ADDR="::1").get("/metrics").status_code == 200


def test_the_token_opens_it_from_anywhere_and_a_wrong_one_does_not(
    db: None, settings: object
) -> None:
    settings.KEFU_METRICS_TOKEN = TOKEN  # type: ignore[attr-defined]
    outside = HttpClient(REMOTE_ADDR="203.0.113.7")
    assert outside.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    assert outside.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}x").status_code == 404
    assert outside.get("/metrics", HTTP_AUTHORIZATION=TOKEN).status_code == 404


def test_no_token_configured_means_no_token_works(db: None, settings: object) -> None:
    settings.KEFU_METRICS_TOKEN = ""  # type: ignore[attr-defined]
    outside = HttpClient(REMOTE_ADDR="203.0.113.7")
    assert outside.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_allowed_networks_come_from_the_setting(db: None, settings: object) -> None:
    settings.KEFU_METRICS_ALLOW = ["10.20.0.0/16"]  # type: ignore[attr-defined]
    assert HttpClient(REMOTE_ADDR="10.20.3.4").get("/metrics").status_code == 200
    assert HttpClient(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 404


def test_a_request_forwarded_by_an_untrusted_proxy_is_not_let_in_by_its_address(
    db: None, settings: object
) -> None:
    """nginx on the same host forwards everyone's requests from 127.0.0.1: without
    KEFU_TRUSTED_PROXIES the peer address says nothing about who asks."""
    settings.KEFU_TRUSTED_PROXIES = []  # type: ignore[attr-defined]
    forwarded = HttpClient(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert forwarded.get("/metrics").status_code == 404
    settings.KEFU_METRICS_TOKEN = TOKEN  # type: ignore[attr-defined]
    assert forwarded.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


def test_a_post_is_refused(db: None) -> None:
    assert HttpClient().post("/metrics").status_code == 405


# What it counts


def test_request_latency_is_counted_by_route_not_by_path(tenant_a: Tenant) -> None:
    name = "django_http_requests_latency_seconds_by_view_method_count"
    before = _value(_scrape(), name, view="tickets:detail", method="GET") or 0.0
    http = login(tenant_a.agent)
    assert http.get(f"/tickets/{tenant_a.ticket.pk}/").status_code == 200
    page = _scrape()
    assert _value(page, name, view="tickets:detail", method="GET") == before + 1
    assert not any(str(tenant_a.ticket.pk) in dict(labels).get("view", "") for labels in page[name])


def test_responses_and_exceptions_by_view(tenant_a: Tenant) -> None:
    """Answers by status, view and method; a view that raises counts its exception."""
    responses = "django_http_responses_total_by_status_view_method_total"
    raised = "django_http_exceptions_total_by_type_total"
    page = _scrape()
    missing = _value(page, responses, status="404", view="tickets:detail", method="GET") or 0.0
    errors = _value(page, raised, type="Http404") or 0.0
    http = login(tenant_a.agent)
    assert http.get("/tickets/99999999/").status_code == 404
    page = _scrape()
    assert _value(page, responses, status="404", view="tickets:detail", method="GET") == missing + 1
    assert _value(page, raised, type="Http404") == errors + 1


def test_tickets_and_replies_by_channel_and_delivery_state(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    services.ticket_create(
        client=tenant_a.client,
        subject="电话咨询",
        body="发票",
        channel="phone",
        actor=tenant_a.agent,
    )
    page = _scrape()
    assert _value(page, "kefu_tickets_created_total", client="ACME", channel="email") == 1
    assert _value(page, "kefu_tickets_created_total", client="ACME", channel="phone") == 1
    assert _value(page, "kefu_tickets_created_total", client="BETA", channel="email") == 1
    assert _value(page, "kefu_tickets_open", client="ACME", status="open") == 1  # replied to
    assert _value(page, "kefu_tickets_open", client="ACME", status="new") == 1
    # Each tenant's ticket has one reply (and an escalation notice) queued.
    queued = _value(page, "kefu_outbound_messages", channel="email", state="queued")
    assert queued is not None and queued >= 2
    assert _value(page, "kefu_outbound_oldest_undelivered_seconds", channel="email") is not None

    deliver_queued()
    page = _scrape()
    assert _value(page, "kefu_outbound_messages", channel="email", state="queued") is None
    assert _value(page, "kefu_outbound_messages", channel="email", state="sent") == queued
    assert _value(page, "kefu_outbound_oldest_undelivered_seconds", channel="email") is None


def test_task_queue_depth_and_age(db: None) -> None:
    assert _value(_scrape(), "kefu_task_queue_oldest_seconds") == 0.0
    result = job_run.enqueue(name="core.prune_job_results", token="t")
    DBTaskResult.objects.filter(id=result.id).update(
        enqueued_at=timezone.now() - timedelta(seconds=900)
    )
    page = _scrape()
    assert _value(page, "kefu_task_queue_depth", queue="default") == 1
    oldest = _value(page, "kefu_task_queue_oldest_seconds")
    assert oldest is not None and oldest >= 900


def test_sla_clocks_at_risk_and_overdue(sla_tenant: Tenant) -> None:
    t = sla_tenant
    services.ticket_create(
        client=t.client, subject="很急", body="马上处理", channel="email", actor=t.agent
    )
    running = SlaClock.objects.filter(status=ClockStatus.RUNNING)
    metric = running.first().metric  # type: ignore[union-attr]
    now = timezone.now()
    running.update(warn_at=now + timedelta(days=3), due_at=now + timedelta(days=5))
    page = _scrape()
    assert _value(page, "kefu_sla_clocks_running", client="ACME", metric=metric)
    assert _value(page, "kefu_sla_clocks_at_risk", client="ACME", metric=metric) == 0

    running.filter(metric=metric).update(warn_at=now - timedelta(minutes=1))
    page = _scrape()
    at_risk = _value(page, "kefu_sla_clocks_at_risk", client="ACME", metric=metric)
    assert at_risk == running.filter(metric=metric).count() > 0
    assert _value(page, "kefu_sla_clocks_overdue", client="ACME", metric=metric) == 0

    running.filter(metric=metric).update(due_at=now - timedelta(minutes=1))
    page = _scrape()
    assert _value(page, "kefu_sla_clocks_overdue", client="ACME", metric=metric) == at_risk


def test_chats_waiting_and_how_long(tenant_a: Tenant) -> None:
    widget = ChatWidget.objects.create(
        client=tenant_a.client, origins=["https://www.acme.cn"], privacy_notice="隐私告知"
    )
    now = timezone.now()
    for minutes in (1, 4):
        Conversation.objects.create(
            client=tenant_a.client,
            widget=widget,
            token_hash=f"h{minutes}",
            started_at=now - timedelta(minutes=minutes),
            queued_at=now - timedelta(minutes=minutes),
        )
    Conversation.objects.create(
        client=tenant_a.client,
        widget=widget,
        token_hash="h-active",
        status=ConversationStatus.ACTIVE,
        started_at=now,
        queued_at=now,
        accepted_at=now,
    )
    page = _scrape()
    assert _value(page, "kefu_chats_waiting", client="ACME") == 2
    oldest = _value(page, "kefu_chats_waiting_oldest_seconds", client="ACME")
    assert oldest is not None and 4 * 60 <= oldest < 5 * 60
    assert _value(page, "kefu_chats_active", client="ACME") == 1


@pytest.fixture
def failing_source() -> Iterator[None]:
    def broken() -> list[Metric]:
        raise RuntimeError("the source failed")

    metrics_register(name="broken", collect=broken)
    yield
    metrics_unregister("broken")


def test_a_failing_source_is_reported_and_the_rest_still_served(
    db: None, failing_source: None
) -> None:
    page = _scrape()
    assert _value(page, "kefu_metrics_source_up", source="broken") == 0.0
    assert _value(page, "kefu_metrics_source_up", source="tickets") == 1.0
    assert _value(page, "kefu_task_queue_oldest_seconds") == 0.0


def _sockets(consumer: str) -> float:
    return REGISTRY.get_sample_value("kefu_websocket_connections", {"consumer": consumer}) or 0.0


@pytest.mark.django_db(transaction=True)
def test_open_websockets_are_counted_while_open(tenant_a: Tenant) -> None:
    cookie = session_cookie(tenant_a.agent)
    before = _sockets("QueueConsumer")

    async def scenario() -> None:
        queue, accepted, _code = await open_socket("/ws/queue/", cookie)
        assert accepted
        assert _sockets("QueueConsumer") == before + 1
        await queue.disconnect()
        assert _sockets("QueueConsumer") == before
        # A socket refused before it was accepted was never counted.
        _s, accepted, _code = await open_socket("/ws/queue/")
        assert not accepted
        assert _sockets("QueueConsumer") == before

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_chat_widget_sockets_are_counted(db: None) -> None:
    before = _sockets("WidgetConsumer")

    async def scenario() -> None:
        widget, accepted, _code = await open_socket("/ws/chat/widget/no-such-key/")
        assert accepted  # accepted to say why, then closed
        assert _sockets("WidgetConsumer") == before + 1
        await widget.disconnect()
        assert _sockets("WidgetConsumer") == before

    async_to_sync(scenario)()
