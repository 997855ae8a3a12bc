"""Reveal with a reason: who may, what it returns, what the audit log keeps."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kefu.accounts.models import User
from kefu.conftest import Tenant, api_client, login
from kefu.core.models import AuditAction, AuditEvent
from kefu.privacy.reveal import customer_reveal, message_reveal
from kefu.tickets import services
from kefu.tickets.models import Message

# role → the customer fields it may reveal (roles.py documents why).
MAY_REVEAL = {
    "admin": {"name", "phones", "emails", "message"},
    "supervisor": {"name", "phones", "emails", "message"},
    "agent": {"phones"},
    "auditor": set(),
    "department_user": set(),
}
FIELDS = ("name", "phones", "emails", "message")
RAW = {"name": ["王小明"], "phones": ["13800138000"], "emails": ["wang@acme.cn"]}


def _user(tenant: Tenant, admin: User, role: str) -> User:
    return admin if role == "admin" else getattr(tenant, role)


def _pii_message(tenant: Tenant) -> Message:
    return services.ticket_add_customer_message(
        ticket=tenant.ticket, body="身份证 11010519491231002X，卡号 6222021234567894"
    )


@pytest.mark.parametrize("role", sorted(MAY_REVEAL))
@pytest.mark.parametrize("field", FIELDS)
def test_who_may_reveal_what(tenant_a: Tenant, admin_user: User, role: str, field: str) -> None:
    user = _user(tenant_a, admin_user, role)
    message = _pii_message(tenant_a)
    allowed = field in MAY_REVEAL[role]

    def go() -> object:
        if field == "message":
            return message_reveal(user=user, message=message, reason="核实身份")
        return customer_reveal(user=user, customer=tenant_a.customer, field=field, reason="回拨")

    if allowed:
        expected = [message.body_text] if field == "message" else RAW[field]
        assert (go() if field != "message" else [go()]) == expected
        assert AuditEvent.objects.filter(action=AuditAction.REVEAL, actor=user).count() == 1
    else:
        with pytest.raises(PermissionDenied):
            go()
        assert not AuditEvent.objects.filter(action=AuditAction.REVEAL).exists()


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reason_is_required(tenant_a: Tenant, reason: str) -> None:
    with pytest.raises(ValidationError) as exc:
        customer_reveal(
            user=tenant_a.agent, customer=tenant_a.customer, field="phones", reason=reason
        )
    assert exc.value.message_dict == {"reason": ["请填写查看明文的事由。"]}
    assert not AuditEvent.objects.filter(action=AuditAction.REVEAL).exists()


def test_unknown_field_is_refused(tenant_a: Tenant) -> None:
    with pytest.raises(ValidationError):
        customer_reveal(
            user=tenant_a.supervisor, customer=tenant_a.customer, field="external_ids", reason="x"
        )


def test_the_audit_record_names_field_and_reason_but_not_the_value(tenant_a: Tenant) -> None:
    customer_reveal(
        user=tenant_a.agent, customer=tenant_a.customer, field="phones", reason=" 客户要求回电 "
    )
    message_reveal(user=tenant_a.supervisor, message=_pii_message(tenant_a), reason="核实身份")
    phone, msg = AuditEvent.objects.filter(action=AuditAction.REVEAL).order_by("id")
    assert (phone.actor, phone.field, phone.reason) == (tenant_a.agent, "phones", "客户要求回电")
    assert phone.client_id == tenant_a.client.pk
    assert phone.data == {"count": 1, "masked": ["138****8000"]}
    assert (msg.field, msg.data["kinds"]) == ("body_text", {"id_number": 1, "card": 1})
    stored = json.dumps([phone.data, msg.data, phone.object_repr, msg.object_repr])
    for raw in ("13800138000", "11010519491231002X", "6222021234567894", "王小明"):
        assert raw not in stored


def test_another_clients_customer_cannot_be_revealed(tenant_a: Tenant, tenant_b: Tenant) -> None:
    with pytest.raises(PermissionDenied):
        customer_reveal(
            user=tenant_a.supervisor, customer=tenant_b.customer, field="phones", reason="x"
        )
    http = api_client(tenant_a.supervisor)
    r = http.post(
        f"/api/v1/customers/{tenant_b.customer.pk}/reveal",
        {"field": "phones", "reason": "x"},
        content_type="application/json",
    )
    assert r.status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.REVEAL).exists()


def test_api_reveal(tenant_a: Tenant) -> None:
    url = f"/api/v1/customers/{tenant_a.customer.pk}/reveal"
    agent = api_client(tenant_a.agent)
    r = agent.post(url, {"field": "phones", "reason": "回拨"}, content_type="application/json")
    assert r.status_code == 200
    assert r.json() == {"field": "phones", "values": ["13800138000"]}
    assert "no-store" in r["Cache-Control"]
    r = agent.post(url, {"field": "emails", "reason": "回拨"}, content_type="application/json")
    assert r.status_code == 403
    r = agent.post(url, {"field": "phones", "reason": " "}, content_type="application/json")
    assert r.status_code == 422 and r.json()["detail"] == {"reason": ["请填写查看明文的事由。"]}
    auditor = api_client(tenant_a.auditor)
    r = auditor.post(url, {"field": "phones", "reason": "抽查"}, content_type="application/json")
    assert r.status_code == 403
    assert AuditEvent.objects.filter(action=AuditAction.REVEAL).count() == 1


def test_api_message_reveal(tenant_a: Tenant) -> None:
    message = _pii_message(tenant_a)
    url = f"/api/v1/tickets/{tenant_a.ticket.pk}/messages/{message.pk}/reveal"
    r = api_client(tenant_a.supervisor).post(
        url, {"reason": "核实身份"}, content_type="application/json"
    )
    assert r.status_code == 200 and r.json()["values"] == [message.body_text]
    r = api_client(tenant_a.agent).post(url, {"reason": "x"}, content_type="application/json")
    assert r.status_code == 403
    other = services.ticket_create(
        client=tenant_a.client, subject="另一张", body="x", channel="chat"
    )
    wrong = f"/api/v1/tickets/{other.pk}/messages/{message.pk}/reveal"
    r = api_client(tenant_a.supervisor).post(
        wrong, {"reason": "x"}, content_type="application/json"
    )
    assert r.status_code == 404


def test_ticket_page_offers_only_the_reveals_the_role_has(tenant_a: Tenant) -> None:
    _pii_message(tenant_a)
    url = f"/tickets/{tenant_a.ticket.pk}/"
    agent = login(tenant_a.agent).get(url).content.decode()
    assert 'name="field" value="phones"' in agent
    assert 'name="field" value="emails"' not in agent
    assert 'name="field" value="message"' not in agent
    sup = login(tenant_a.supervisor).get(url).content.decode()
    for field in ("name", "phones", "emails", "message"):
        assert f'name="field" value="{field}"' in sup
    auditor = login(tenant_a.auditor).get(url).content.decode()
    assert 'name="reason"' not in auditor and "138****8000" in auditor


def test_htmx_reveal_shows_the_value_in_place(tenant_a: Tenant) -> None:
    http = login(tenant_a.agent)
    url = f"/tickets/{tenant_a.ticket.pk}/reveal/"
    r = http.post(url, {"field": "phones", "reason": "回拨"}, headers={"HX-Request": "true"})
    assert r.status_code == 200
    body = r.content.decode()
    assert "13800138000" in body and "<html" not in body
    assert "no-store" in r["Cache-Control"]
    # No reason: the masked value stays, with the error and the form again; nothing logged.
    r = http.post(url, {"field": "phones", "reason": ""}, headers={"HX-Request": "true"})
    body = r.content.decode()
    assert "请填写查看明文的事由" in body and "138****8000" in body
    assert "13800138000" not in body and 'name="reason"' in body
    assert AuditEvent.objects.filter(action=AuditAction.REVEAL).count() == 1
    # Without HTMX the same form gives a page.
    r = http.post(url, {"field": "phones", "reason": "回拨"})
    assert "13800138000" in r.content.decode() and "<html" in r.content.decode()
    assert http.post(url, {"field": "emails", "reason": "x"}).status_code == 403


def test_htmx_message_reveal(tenant_a: Tenant) -> None:
    message = _pii_message(tenant_a)
    http = login(tenant_a.supervisor)
    r = http.post(
        f"/tickets/{tenant_a.ticket.pk}/reveal/",
        {"field": "message", "message": message.pk, "reason": "核实身份"},
        headers={"HX-Request": "true"},
    )
    assert "11010519491231002X" in r.content.decode()
    event = AuditEvent.objects.get(action=AuditAction.REVEAL)
    assert event.object_type == "tickets.message" and event.object_id == str(message.pk)
