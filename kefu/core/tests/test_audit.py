from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from kefu.accounts.models import User
from kefu.conftest import Tenant, login
from kefu.contracts.models import Department
from kefu.core.audit import audit_record
from kefu.core.models import AppendOnlyError, AuditAction, AuditEvent
from kefu.tickets.models import Customer


def test_record_names_actor_client_and_object_without_personal_data(tenant_a: Tenant) -> None:
    customer = Customer.objects.create(client=tenant_a.client, name="王小明")
    event = audit_record(
        actor=tenant_a.agent, action=AuditAction.REVEAL, obj=customer, field="phones", reason="回拨"
    )
    event.refresh_from_db()
    assert event.client_id == tenant_a.client.pk
    assert event.actor_name == tenant_a.agent.username
    assert event.object_type == "tickets.customer" and event.object_id == str(customer.pk)
    assert "王小明" not in event.object_repr


def test_audit_events_cannot_be_changed_or_removed(tenant_a: Tenant) -> None:
    event = audit_record(actor=None, action=AuditAction.EXPORT, client_id=tenant_a.client.pk)
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    # Past the ORM, the database itself refuses.
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET reason = 'x' WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).reason == ""


def test_auditor_sees_only_own_client_events(tenant_a: Tenant, tenant_b: Tenant) -> None:
    audit_record(actor=None, action=AuditAction.EXPORT, client_id=tenant_a.client.pk)
    audit_record(actor=None, action=AuditAction.EXPORT, client_id=tenant_b.client.pk)
    audit_record(actor=None, action=AuditAction.KEY_ROTATE)
    seen = set(AuditEvent.objects.visible_to(tenant_a.auditor).values_list("client_id", flat=True))
    assert seen == {tenant_a.client.pk}


def test_changes_in_the_admin_are_audited(tenant_a: Tenant, admin_user: User) -> None:
    http = login(admin_user)
    r = http.post(
        "/admin/contracts/department/add/",
        {"client": tenant_a.client.pk, "name": "投诉处理部", "email": "ts@acme.example"},
    )
    assert r.status_code == 302
    department = Department.objects.get(name="投诉处理部")
    r = http.post(
        f"/admin/contracts/department/{department.pk}/change/",
        {"client": tenant_a.client.pk, "name": "投诉处理部", "email": "complaints@acme.example"},
    )
    assert r.status_code == 302
    events = AuditEvent.objects.filter(object_type="contracts.department").order_by("id")
    assert [(e.action, e.actor, e.client_id) for e in events] == [
        ("create", admin_user, tenant_a.client.pk),
        ("update", admin_user, tenant_a.client.pk),
    ]
    assert events[1].data == {"fields": ["邮箱"], "via": "admin"}
    assert "complaints@acme.example" not in str(events[1].data)
