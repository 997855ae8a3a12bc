"""A clock about to breach rings the bell of the ticket's assignee and the client's
supervisors, beside the mail."""

from __future__ import annotations

from django_tasks_db.models import DBTaskResult

from kefu.accounts.models import Notification
from kefu.conftest import Tenant
from kefu.sla.services import sla_sweep
from kefu.sla.tasks import sla_notify
from kefu.sla.tests.conftest import frozen, sh
from kefu.tickets import services


def test_sla_warning_and_breach_notify_in_the_app(sla_tenant: Tenant) -> None:
    t = sla_tenant
    with frozen(sh(2026, 11, 23, 9, 0)):
        ticket = services.ticket_create(
            client=t.client,
            subject="热水器漏水",
            body="漏水",
            channel="chat",
            actor=t.agent,
            created_at=sh(2026, 11, 23, 9, 0),
        )
    services.ticket_assign(ticket=ticket, actor=t.supervisor, assignee=t.agent)
    sla_sweep(now=sh(2026, 11, 23, 9, 5))
    for result in DBTaskResult.objects.filter(task_path__endswith="sla_notify"):
        assert sla_notify.call(*result.args_kwargs["args"]) == 2  # mails: agent, supervisor
    kinds = sorted((n.user_id, n.kind) for n in Notification.objects.filter(client=t.client))
    assert kinds == sorted(
        [
            (t.agent.pk, "sla_warning"),
            (t.agent.pk, "sla_breach"),
            (t.supervisor.pk, "sla_warning"),
            (t.supervisor.pk, "sla_breach"),
        ]
    )
    warning = Notification.objects.get(user=t.supervisor, kind="sla_warning")
    assert "时效预警" in warning.text and ticket.number in warning.text
    assert warning.url == f"/tickets/{ticket.pk}/"
