"""One customer across channels: identifiers, verification, merging."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from kefu.conftest import Tenant
from kefu.core.models import AuditEvent
from kefu.privacy.services import customer_anonymise
from kefu.tickets import customers, services
from kefu.tickets.models import Customer, CustomerIdentifier, EventType, TicketEvent
from kefu.tickets.services import CustomerData


def _ticket(tenant: Tenant, channel: str, data: CustomerData, subject: str = "问题") -> int:
    t = services.ticket_create(
        client=tenant.client, subject=subject, body="x", channel=channel, customer=data
    )
    assert t.customer_id is not None
    return t.customer_id


def test_a_second_phone_finds_the_customer(tenant_a: Tenant) -> None:
    customer = tenant_a.customer
    # The customer calls from another number and gives their email, which is known.
    got = _ticket(tenant_a, "phone", CustomerData(phone="139 1234 5678", email="wang@ACME.cn"))
    assert got == customer.pk
    found = services.customer_find(client=tenant_a.client, data=CustomerData(phone="13912345678"))
    assert found == customer
    customer.refresh_from_db()
    assert customer.phones == ["13800138000", "139 1234 5678"]
    # And by the first number still.
    found = services.customer_find(client=tenant_a.client, data=CustomerData(phone="13800138000"))
    assert found == customer


def test_wechat_openid_and_unionid_find_the_customer(tenant_a: Tenant) -> None:
    first = _ticket(tenant_a, "wechat", CustomerData(name="赵六", wechat_openid="oAbc-123"))
    again = _ticket(tenant_a, "wechat", CustomerData(wechat_openid="oAbc-123"))
    assert first == again
    # Ids are compared exactly: another case is another person.
    assert (
        services.customer_find(client=tenant_a.client, data=CustomerData(wechat_openid="OABC-123"))
        is None
    )
    # The unionid arrives with a later message; the client's other official account (a new
    # openid) then finds the same person by it.
    assert (
        _ticket(tenant_a, "wechat", CustomerData(wechat_openid="oAbc-123", wechat_unionid="uXyz"))
        == first
    )
    other_account = _ticket(
        tenant_a, "wechat", CustomerData(wechat_openid="oOther-9", wechat_unionid="uXyz")
    )
    assert other_account == first
    kinds = sorted(
        CustomerIdentifier.objects.filter(customer_id=first).values_list("kind", flat=True)
    )
    assert kinds == ["wechat_openid", "wechat_openid", "wechat_unionid"]


def test_portal_account_finds_the_customer_only_in_its_client(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    a = _ticket(tenant_a, "portal", CustomerData(portal_account="li.lei"))
    b = _ticket(tenant_b, "portal", CustomerData(portal_account="li.lei"))
    assert a != b
    found = services.customer_find(
        client=tenant_a.client, data=CustomerData(portal_account="li.lei")
    )
    assert found is not None and found.pk == a


def test_an_unverified_identifier_finds_nobody_until_confirmed(tenant_a: Tenant) -> None:
    typed = services.customer_create(
        client=tenant_a.client,
        data=CustomerData(name="钱七", phone="13700001111", verified=False),
    )
    row = CustomerIdentifier.objects.get(customer=typed, kind="phone")
    assert row.verified is False
    data = CustomerData(phone="13700001111")
    assert services.customer_find(client=tenant_a.client, data=data) is None
    customers.customer_identifier_verify(identifier=row, actor=tenant_a.agent)
    assert services.customer_find(client=tenant_a.client, data=data) == typed
    event = AuditEvent.objects.get(field="identifier.phone")
    assert event.object_id == str(typed.pk) and event.actor == tenant_a.agent


def test_confirming_a_number_another_customer_holds_asks_for_a_merge(tenant_a: Tenant) -> None:
    typed = services.customer_create(
        client=tenant_a.client, data=CustomerData(phone="13800138000", verified=False)
    )
    row = CustomerIdentifier.objects.get(customer=typed, kind="phone")
    with pytest.raises(ValidationError, match=f"#{tenant_a.customer.pk}"):
        customers.customer_identifier_verify(identifier=row, actor=tenant_a.agent)
    row.refresh_from_db()
    assert row.verified is False


def test_a_channel_vouches_only_for_the_kinds_it_says(tenant_a: Tenant) -> None:
    # A mail's sender address is vouched for; a phone number read from its signature is not.
    customer_id = _ticket(
        tenant_a,
        "email",
        CustomerData(email="sun@example.cn", phone="13600002222", verified=frozenset({"email"})),
    )
    verified = dict(
        CustomerIdentifier.objects.filter(customer_id=customer_id).values_list("kind", "verified")
    )
    assert verified == {"email": True, "phone": False}
    client = tenant_a.client
    assert services.customer_find(client=client, data=CustomerData(phone="13600002222")) is None
    # The customer later calls from that number: the phone channel vouches for it.
    assert _ticket(
        tenant_a, "phone", CustomerData(phone="13600002222", email="sun@example.cn")
    ) == (customer_id)
    found = services.customer_find(client=client, data=CustomerData(phone="13600002222"))
    assert found is not None and found.pk == customer_id


def test_a_known_customer_costs_one_query_to_find(tenant_a: Tenant) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    data = CustomerData(name="王小明", email="wang@acme.cn", phone="13800138000")
    services.customer_find_or_create(client=tenant_a.client, data=data)
    with CaptureQueriesContext(connection) as ctx:
        found = services.customer_find_or_create(client=tenant_a.client, data=data)
    assert found == tenant_a.customer
    assert len(ctx.captured_queries) == 1


def _merge_pair(tenant: Tenant) -> tuple[Customer, Customer]:
    """The fixture's customer (email ticket) and a second record of them from a call."""
    target = tenant.customer
    services.ticket_create(
        client=tenant.client, subject="再次咨询", body="x", channel="phone", customer=target
    )
    source = services.customer_create(
        client=tenant.client,
        data=CustomerData(name="王小明", phone="+86 138 0013 8000", external_id="crm-42"),
    )
    for channel in ("phone", "wechat"):
        services.ticket_create(
            client=tenant.client,
            subject=f"{channel}来的",
            body="x",
            channel=channel,
            customer=source,
        )
    services.ticket_create(
        client=tenant.client,
        subject="微信",
        body="x",
        channel="wechat",
        customer=CustomerData(wechat_openid="oWang"),
    )
    wechat = Customer.objects.get(identifiers__kind="wechat_openid")
    customers.customer_merge(source=wechat, target=source, actor=tenant.supervisor)
    return source, target


def test_merge_moves_everything_and_is_audited(tenant_a: Tenant) -> None:
    source, target = _merge_pair(tenant_a)
    source_tickets = set(source.tickets.values_list("pk", flat=True))
    target_tickets = set(target.tickets.values_list("pk", flat=True))
    assert len(source_tickets) == 3

    kept = customers.customer_merge(
        source=source, target=target, actor=tenant_a.supervisor, reason="同一人"
    )

    assert kept == target
    assert set(target.tickets.values_list("pk", flat=True)) == source_tickets | target_tickets
    source.refresh_from_db()
    target.refresh_from_db()
    # The tombstone stays, names nobody, and points at the customer kept.
    assert source.merged_into == target and source.merged_at is not None
    assert (source.name, source.phones, source.emails, source.tickets.count()) == ("", [], [], 0)
    # Contacts deduplicated (+86 138 0013 8000 is the same number), external ids kept.
    assert target.phones == ["13800138000"]
    assert target.emails == ["wang@acme.cn"]
    assert target.external_ids == {"source": "crm-42"} and target.external_key == "crm-42"
    # Every identifier now finds the customer kept.
    client = tenant_a.client
    for data in (
        CustomerData(wechat_openid="oWang"),
        CustomerData(external_id="crm-42"),
        CustomerData(phone="13800138000"),
    ):
        assert services.customer_find(client=client, data=data) == target
    assert not CustomerIdentifier.objects.filter(customer=source).exists()
    # Audited, and each moved ticket's history says so.
    event = AuditEvent.objects.get(object_id=str(source.pk), field="merged_into")
    assert event.actor == tenant_a.supervisor and event.reason == "同一人"
    assert event.data["into"] == target.pk and set(event.data["tickets"]) == source_tickets
    moved = TicketEvent.objects.filter(type=EventType.CUSTOMER_MERGED, data__into=target.pk)
    assert set(moved.values_list("ticket_id", flat=True)) >= source_tickets
    # A record merged into the source earlier now points at the target directly.
    assert Customer.objects.filter(merged_into=target).count() == 2


def test_merge_is_refused_across_clients_twice_and_to_agents(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    with pytest.raises(ValidationError, match="同一甲方"):
        customers.customer_merge(source=tenant_a.customer, target=tenant_b.customer, actor=None)
    other = services.customer_create(client=tenant_a.client, data=CustomerData(name="另一人"))
    with pytest.raises(PermissionDenied):
        customers.customer_merge(source=other, target=tenant_a.customer, actor=tenant_a.agent)
    customers.customer_merge(source=other, target=tenant_a.customer, actor=tenant_a.supervisor)
    with pytest.raises(ValidationError, match="已合并"):
        customers.customer_merge(source=other, target=tenant_a.customer, actor=None)
    with pytest.raises(ValidationError, match="已合并"):
        customers.customer_merge(source=tenant_a.customer, target=other, actor=None)
    assert tenant_b.customer.tickets.count() == 1


def test_anonymising_a_customer_clears_their_identifiers(
    tenant_a: Tenant, admin_user: object
) -> None:
    _ticket(tenant_a, "wechat", CustomerData(wechat_openid="oWang", email="wang@acme.cn"))
    assert CustomerIdentifier.objects.filter(customer=tenant_a.customer).count() == 3
    customer_anonymise(actor=admin_user, customer=tenant_a.customer, reason="本人要求")  # type: ignore[arg-type]
    assert not CustomerIdentifier.objects.filter(customer=tenant_a.customer).exists()
    for data in (CustomerData(wechat_openid="oWang"), CustomerData(email="wang@acme.cn")):
        assert services.customer_find(client=tenant_a.client, data=data) is None


def _history(tmp_path: Path, name: str, ticket_id: str, customer_id: str = "crm-9") -> Path:
    record = {
        "type": "ticket",
        "id": ticket_id,
        "channel": "phone",
        "subject": "历史工单",
        "customer": {"id": customer_id, "name": "孙九", "phone": "13311112222", "email": "s@x.cn"},
        "created_at": "2026-10-08T09:00:00+08:00",
        "messages": [
            {
                "at": "2026-10-08T09:00:00+08:00",
                "direction": "in",
                "author": "customer",
                "body": "x",
            }
        ],
    }
    path = tmp_path / name
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def test_imported_customers_are_found_by_their_identifiers(
    tenant_a: Tenant, tmp_path: Path
) -> None:
    call_command(
        "import",
        "--client",
        "ACME",
        str(_history(tmp_path, "a.jsonl", "T-1")),
        stdout=io.StringIO(),
    )
    imported = services.customer_find(
        client=tenant_a.client, data=CustomerData(phone="13311112222")
    )
    assert imported is not None and imported.external_key == "crm-9"
    for data in (CustomerData(email="S@x.cn"), CustomerData(external_id="crm-9")):
        assert services.customer_find(client=tenant_a.client, data=data) == imported
    # Merged since into a record with an external id of its own (the tombstone keeps
    # crm-9): the next import's tickets of crm-9 go to the customer kept.
    kept = services.customer_create(client=tenant_a.client, data=CustomerData(external_id="crm-1"))
    customers.customer_merge(source=imported, target=kept, actor=None)
    assert Customer.objects.get(pk=imported.pk).external_key == "crm-9"
    call_command(
        "import",
        "--client",
        "ACME",
        str(_history(tmp_path, "b.jsonl", "T-2")),
        stdout=io.StringIO(),
    )
    assert kept.tickets.filter(external_id="T-2").exists()
    kept.refresh_from_db()
    assert kept.external_ids == {"source": "crm-1", f"source@{imported.pk}": "crm-9"}


def test_a_second_imported_record_of_one_person_holds_its_number_unverified(
    tenant_a: Tenant, tmp_path: Path
) -> None:
    for n, source_id in enumerate(("crm-9", "crm-10")):
        path = _history(tmp_path, f"{n}.jsonl", f"T-{n}", customer_id=source_id)
        call_command("import", "--client", "ACME", str(path), stdout=io.StringIO())
    first = Customer.objects.get(external_key="crm-9")
    second = Customer.objects.get(external_key="crm-10")
    found = services.customer_find(client=tenant_a.client, data=CustomerData(phone="13311112222"))
    assert found == first
    phone = CustomerIdentifier.objects.get(customer=second, kind="phone")
    assert phone.verified is False
    with pytest.raises(ValidationError, match=f"#{first.pk}"):
        customers.customer_identifier_verify(identifier=phone, actor=None)
