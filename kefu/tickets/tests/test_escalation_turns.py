"""The department's turns on an escalation besides answering: answer with files, ask the
provider for information (the promise keeps running), or return it with a reason."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tasks_db.models import DBTaskResult

from kefu.conftest import Tenant, login
from kefu.tickets import services
from kefu.tickets.models import Escalation, EscalationStatus, EventType, Message, Ticket

pytestmark = pytest.mark.django_db


def _queued_notices(reason: str) -> list[object]:
    return [
        r.args_kwargs["args"]
        for r in DBTaskResult.objects.filter(task_path__endswith="notify_user")
        if r.args_kwargs["args"][1] == reason
    ]


def _assigned(t: Tenant) -> Ticket:
    return services.ticket_assign(ticket=t.ticket, actor=t.supervisor, assignee=t.agent)


def test_department_asks_for_information_and_the_agent_gives_it(tenant_a: Tenant) -> None:
    ticket = _assigned(tenant_a)
    services.escalation_ask_info(
        escalation=tenant_a.escalation,
        actor=tenant_a.department_user,
        question="请提供空调型号和购买日期",
    )
    escalation = Escalation.objects.get(pk=tenant_a.escalation.pk)
    assert escalation.status == EscalationStatus.OPEN and escalation.info_requested_at
    assert escalation.next_check_at is not None  # the promise to the customer still runs
    assert Ticket.objects.get(pk=ticket.pk).escalated
    assert [tenant_a.agent.pk, "escalation_info_asked", ticket.pk] in _queued_notices(
        "escalation_info_asked"
    )
    with pytest.raises(PermissionDenied):
        services.escalation_give_info(escalation=escalation, actor=tenant_a.auditor, info="x")
    services.escalation_give_info(
        escalation=escalation,
        actor=tenant_a.agent,
        info="型号 KFR-35GW，2025 年 6 月购买",
        attachments=[SimpleUploadedFile("发票.txt", "发票".encode())],
    )
    escalation.refresh_from_db()
    assert escalation.info_requested_at is None and escalation.status == EscalationStatus.OPEN
    note = Message.objects.get(ticket=ticket, body_text="型号 KFR-35GW，2025 年 6 月购买")
    assert note.attachments.get().filename == "发票.txt"
    with pytest.raises(ValidationError):  # nothing is asked any more
        services.escalation_give_info(escalation=escalation, actor=tenant_a.agent, info="再补充")
    types = set(ticket.events.values_list("type", flat=True))
    assert {EventType.ESCALATION_INFO_REQUESTED, EventType.ESCALATION_INFO_GIVEN} <= types


def test_department_returns_the_escalation_with_a_reason(tenant_a: Tenant) -> None:
    ticket = _assigned(tenant_a)
    with pytest.raises(ValidationError):
        services.escalation_return(
            escalation=tenant_a.escalation, actor=tenant_a.department_user, reason=" "
        )
    services.escalation_return(
        escalation=tenant_a.escalation,
        actor=tenant_a.department_user,
        reason="属于安装部门，不是售后",
    )
    escalation = Escalation.objects.get(pk=tenant_a.escalation.pk)
    assert escalation.status == EscalationStatus.RETURNED
    assert escalation.next_check_at is None
    assert not Ticket.objects.get(pk=ticket.pk).escalated
    assert ticket.events.filter(type=EventType.ESCALATION_RETURNED).exists()
    assert _queued_notices("escalation_returned")
    with pytest.raises(ValidationError):  # returned: no answer after it
        services.escalation_answer(
            escalation=escalation, actor=tenant_a.department_user, answer="改主意了"
        )


def test_department_answers_with_a_file_signed_once(tenant_a: Tenant) -> None:
    services.escalation_answer(
        escalation=tenant_a.escalation,
        actor=tenant_a.department_user,
        answer="检测报告见附件",
        attachments=[SimpleUploadedFile("检测报告.txt", "压缩机正常".encode())],
    )
    note = Message.objects.get(body_text="检测报告见附件")
    assert note.attachments.get().filename == "检测报告.txt"
    department = tenant_a.escalation.department.name
    assert note.author_name.count(department) == 1


def test_a_refused_file_refuses_the_answer(tenant_a: Tenant) -> None:
    with pytest.raises(ValidationError):
        services.escalation_answer(
            escalation=tenant_a.escalation,
            actor=tenant_a.department_user,
            answer="见附件",
            attachments=[SimpleUploadedFile("x.exe", b"MZ\x90\x00" + b"\x00" * 100)],
        )
    escalation = Escalation.objects.get(pk=tenant_a.escalation.pk)
    assert escalation.status == EscalationStatus.OPEN and not escalation.answer


def test_the_department_page_offers_its_three_turns(tenant_a: Tenant) -> None:
    http = login(tenant_a.department_user)
    page = http.get(f"/tickets/{tenant_a.ticket.pk}/").content.decode()
    assert 'value="ask"' in page and 'value="return"' in page
    assert 'id="department-view"' in page and "只读：" not in page  # says what it can do
    http.post(
        f"/tickets/escalations/{tenant_a.escalation.pk}/answer/",
        {"answer": "请提供购买凭证", "action": "ask"},
    )
    page = http.get("/tickets/escalations/").content.decode()
    assert "待补充信息" in page
    agent = login(tenant_a.agent).get(f"/tickets/{tenant_a.ticket.pk}/").content.decode()
    assert 'id="info-form"' in agent and "请提供购买凭证" in agent
