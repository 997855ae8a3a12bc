from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from kefu.conftest import Tenant
from kefu.tickets import services, tasks
from kefu.tickets.models import EventType, Status, Ticket, TicketEvent


def test_numbers_are_per_client_and_sequential(tenant_a: Tenant, tenant_b: Tenant) -> None:
    year = timezone.localtime().year
    assert tenant_a.ticket.number == f"KF-{year}-000001"
    assert tenant_b.ticket.number == f"KF-{year}-000001"
    second = services.ticket_create(
        client=tenant_a.client,
        subject="第二张",
        body="内容",
        channel="chat",
        actor=tenant_a.agent,
    )
    assert second.number == f"KF-{year}-000002"


def test_history_records_each_change_with_actor(tenant_a: Tenant) -> None:
    t = tenant_a.ticket
    services.ticket_set_status(ticket=t, actor=tenant_a.agent, status=Status.RESOLVED)
    services.ticket_add_customer_message(ticket=t, body="还是不行")
    t.refresh_from_db()
    assert t.status == Status.OPEN
    types = list(TicketEvent.objects.filter(ticket=t).values_list("type", flat=True))
    assert types == [
        EventType.CREATED,
        EventType.REPLIED,
        EventType.STATUS,
        EventType.NOTED,
        EventType.ESCALATED,
        EventType.STATUS,
        EventType.CUSTOMER_MESSAGE,
        EventType.REOPENED,
    ]
    resolved = TicketEvent.objects.get(ticket=t, type=EventType.STATUS, data__new="resolved")
    assert resolved.actor == tenant_a.agent
    assert t.first_resolved_at is not None


def test_pending_resumes_on_customer_reply(tenant_a: Tenant) -> None:
    t = tenant_a.ticket
    services.ticket_reply(ticket=t, actor=tenant_a.agent, body="请提供照片", new_status="pending")
    assert Ticket.objects.get(pk=t.pk).status == Status.PENDING
    services.ticket_add_customer_message(ticket=t, body="照片见附件")
    assert Ticket.objects.get(pk=t.pk).status == Status.OPEN


def test_invalid_transition_is_refused(tenant_a: Tenant) -> None:
    t = tenant_a.ticket
    services.ticket_set_status(ticket=t, actor=tenant_a.agent, status=Status.CLOSED)
    with pytest.raises(ValidationError):
        services.ticket_set_status(ticket=t, actor=tenant_a.agent, status=Status.PENDING)


def test_a_failed_change_leaves_no_event(tenant_a: Tenant) -> None:
    before = TicketEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.ticket_add_note(ticket=tenant_a.ticket, actor=tenant_a.agent, body="x")
        raise RuntimeError("boom")
    assert TicketEvent.objects.count() == before


def test_escalation_round_trip(tenant_a: Tenant) -> None:
    t = Ticket.objects.get(pk=tenant_a.ticket.pk)
    assert t.escalated
    # The customer was told the expected completion time.
    notice = t.messages.filter(direction="out").last()
    assert notice is not None and tenant_a.department.name in notice.body_text
    expected = timezone.localtime(tenant_a.escalation.expected_by).strftime("%Y-%m-%d %H:%M")
    assert expected in notice.body_text
    # The department was notified through a background task in the same transaction.
    assert DBTaskResult.objects.filter(task_path__endswith="notify_department").exists()

    services.ticket_assign(ticket=t, actor=tenant_a.supervisor, assignee=tenant_a.agent)
    services.escalation_answer(
        escalation=tenant_a.escalation, actor=tenant_a.department_user, answer="已安排师傅明天上门"
    )
    t.refresh_from_db()
    assert not t.escalated
    assert t.messages.filter(direction="note", body_text="已安排师傅明天上门").exists()
    assert t.events.filter(type=EventType.ESCALATION_ANSWERED).exists()
    queued = [
        r.args_kwargs["args"]
        for r in DBTaskResult.objects.filter(task_path__endswith="notify_user")
    ]
    assert [tenant_a.agent.pk, "escalation_answered", t.pk] in queued
    # Running the queued task mails the agent.
    sent = tasks.notify_user.call(tenant_a.agent.pk, "escalation_answered", t.pk)
    assert sent == 1
    assert mail.outbox[-1].to == [tenant_a.agent.email]
    assert t.number in mail.outbox[-1].subject
    with pytest.raises(ValidationError):
        services.escalation_answer(
            escalation=tenant_a.escalation, actor=tenant_a.department_user, answer="再次"
        )


def test_roles_are_enforced_in_services(tenant_a: Tenant) -> None:
    with pytest.raises(PermissionDenied):
        services.ticket_reply(ticket=tenant_a.ticket, actor=tenant_a.auditor, body="不该发")
    with pytest.raises(PermissionDenied):
        services.ticket_reply(ticket=tenant_a.ticket, actor=tenant_a.department_user, body="x")
    with pytest.raises(PermissionDenied):
        services.escalation_answer(
            escalation=tenant_a.escalation, actor=tenant_a.agent, answer="代答"
        )


def test_cannot_assign_agent_of_other_client(tenant_a: Tenant, tenant_b: Tenant) -> None:
    with pytest.raises(ValidationError):
        services.ticket_assign(
            ticket=tenant_a.ticket, actor=tenant_a.supervisor, assignee=tenant_b.agent
        )


def test_escalation_must_be_to_own_client_and_in_future(tenant_a: Tenant, tenant_b: Tenant) -> None:
    with pytest.raises(ValidationError):
        services.ticket_escalate(
            ticket=tenant_a.ticket,
            actor=tenant_a.agent,
            department=tenant_b.department,
            reason="x",
            expected_by=timezone.now() + timedelta(days=1),
        )
    with pytest.raises(ValidationError):
        services.ticket_escalate(
            ticket=tenant_a.ticket,
            actor=tenant_a.agent,
            department=tenant_a.department,
            reason="x",
            expected_by=timezone.now() - timedelta(hours=1),
        )


def test_customer_lookup_by_phone_prefix_and_email_case(tenant_a: Tenant) -> None:
    found = services.customer_find_or_create(
        client=tenant_a.client, data=services.CustomerData(phone="+86 138-0013-8000")
    )
    assert found == tenant_a.customer
    found = services.customer_find_or_create(
        client=tenant_a.client, data=services.CustomerData(email="WANG@acme.cn")
    )
    assert found == tenant_a.customer


def test_html_is_sanitised(tenant_a: Tenant) -> None:
    t = services.ticket_create(
        client=tenant_a.client,
        subject="HTML",
        body="hi",
        channel="email",
        body_html='<p onclick="x()">你好<script>alert(1)</script></p>',
    )
    html = t.messages.get().body_html
    assert "<script" not in html and "onclick" not in html and "你好" in html
