"""kefu/core/prepared.py: a queryset's SQL written once, then run with other values, must
give what the queryset itself gives."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import DatabaseError, connection
from django.db.models import QuerySet, signals
from django.db.models.functions import Now
from django.test.utils import CaptureQueriesContext

from kefu.accounts.models import ApiToken, User
from kefu.accounts.services import api_token_authenticate, api_token_create
from kefu.conftest import Tenant
from kefu.contracts.models import Client
from kefu.contracts.selectors import client_visible_by_code
from kefu.core.prepared import PreparedInsert, PreparedQuery, PreparedQueryError, PreparedUpdate
from kefu.tickets import services
from kefu.tickets.models import Customer, CustomerIdentifier, Message, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def _fields(obj: Any) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_rows_are_the_querysets_own_for_each_new_value(tenant_a: Tenant, tenant_b: Tenant) -> None:
    built: list[object] = []

    def build(client_id: int, direction: str) -> QuerySet[Message]:
        built.append(client_id)
        return Message.objects.filter(client_id=client_id, direction=direction).order_by("id")

    prepared = PreparedQuery(build)
    for tenant in (tenant_a, tenant_b, tenant_a):
        for direction in ("in", "out", "note"):
            expected = list(
                Message.objects.filter(client=tenant.client, direction=direction).order_by("id")
            )
            got = prepared.all(tenant.client.pk, direction)
            assert got, direction
            assert [_fields(m) for m in got] == [_fields(m) for m in expected]
            # Datetimes come back as the ORM gives them: aware.
            assert all(m.created_at.tzinfo is not None for m in got)
    # The queryset was built (and its SQL written) once, for the first call.
    assert len(built) == 1


def test_select_related_objects_come_with_the_row(tenant_a: Tenant) -> None:
    prepared = PreparedQuery(
        lambda pk: Ticket.objects.select_related("customer", "client").filter(pk=pk)
    )
    ticket = prepared.first(tenant_a.ticket.pk)
    assert ticket is not None
    with CaptureQueriesContext(connection) as ctx:
        assert ticket.customer == tenant_a.customer
        assert ticket.client.code == "ACME"
        assert ticket.customer.phones == ["13800138000"]  # decrypted, as the ORM gives it
    assert len(ctx.captured_queries) == 0
    assert prepared.first(10**9) is None


def test_one_sql_text_per_shape(tenant_a: Tenant) -> None:
    shapes: list[tuple[str, ...]] = []

    def build(client_id: int, *values: str, shape: tuple[str, ...]) -> QuerySet[Customer]:
        shapes.append(shape)
        return Customer.objects.filter(
            client_id=client_id, **dict(zip(shape, values, strict=True))
        ).order_by()

    prepared = PreparedQuery(build)
    customer = tenant_a.customer
    by_email = prepared.all(tenant_a.client.pk, customer.email_key, shape=("email_key",))
    by_both = prepared.all(
        tenant_a.client.pk, customer.email_key, customer.phone_key, shape=("email_key", "phone_key")
    )
    assert by_email == by_both == [customer]
    assert prepared.all(tenant_a.client.pk, "0" * 64, shape=("email_key",)) == []
    # Built once per shape, not per call.
    assert shapes == [("email_key",), ("email_key", "phone_key")]


def test_the_customer_look_up_prefers_external_id_then_email_then_phone(tenant_a: Tenant) -> None:
    client = tenant_a.client
    by_phone = services.customer_create(
        client=client, data=services.CustomerData(name="甲", phone="13900000001")
    )
    by_email = services.customer_create(
        client=client, data=services.CustomerData(name="乙", email="yi@example.com")
    )
    by_id = services.customer_create(
        client=client, data=services.CustomerData(name="丙", external_id="crm-7")
    )
    find = services.customer_find
    data = services.CustomerData
    assert find(client=client, data=data(phone="13900000001", email="yi@example.com")) == by_email
    assert (
        find(
            client=client,
            data=data(external_id="crm-7", phone="13900000001", email="yi@example.com"),
        )
        == by_id
    )
    assert find(client=client, data=data(phone="139 0000 0001")) == by_phone
    assert find(client=client, data=data(email="nobody@example.com")) is None


def test_tokens_and_clients_are_judged_per_call(
    tenant_a: Tenant, tenant_b: Tenant, admin_user: User
) -> None:
    _token, raw_a = api_token_create(user=tenant_a.agent, name="a")
    _token, raw_b = api_token_create(user=tenant_b.agent, name="b")
    token_a, token_b = api_token_authenticate(raw_a), api_token_authenticate(raw_b)
    assert token_a is not None and token_a.user == tenant_a.agent
    assert token_b is not None and token_b.user == tenant_b.agent
    assert api_token_authenticate(raw_a + "x") is None
    ApiToken.objects.filter(user=tenant_a.agent).update(revoked_at=token_a.created_at)
    assert api_token_authenticate(raw_a) is None

    assert client_visible_by_code(tenant_a.agent, "ACME") == tenant_a.client
    assert client_visible_by_code(tenant_a.agent, "BETA") is None
    assert client_visible_by_code(tenant_b.auditor, "BETA") == tenant_b.client
    assert client_visible_by_code(tenant_b.auditor, "ACME") is None
    assert client_visible_by_code(admin_user, "BETA") == tenant_b.client
    assert client_visible_by_code(admin_user, "NOPE") is None
    Client.objects.filter(pk=tenant_b.client.pk).update(is_active=False)
    assert client_visible_by_code(admin_user, "BETA") is None
    assert client_visible_by_code(tenant_b.auditor, "BETA") is None


def test_a_query_that_changes_its_argument_is_refused(tenant_a: Tenant) -> None:
    contains = PreparedQuery(lambda text: Ticket.objects.filter(subject__icontains=text))
    with pytest.raises(PreparedQueryError, match="unchanged"):
        contains.all("空调")


@pytest.mark.parametrize("value", [None, True, 1.5])
def test_only_strings_and_integers_are_arguments(tenant_a: Tenant, value: object) -> None:
    prepared = PreparedQuery(lambda pk: Ticket.objects.filter(pk=pk))
    with pytest.raises(PreparedQueryError, match="only str and int"):
        prepared.all(value)  # type: ignore[arg-type]


def test_values_and_prefetching_querysets_are_refused(tenant_a: Tenant) -> None:
    values = PreparedQuery(lambda pk: Ticket.objects.filter(pk=pk).values("id"))
    with pytest.raises(PreparedQueryError, match="plain model"):
        values.all(tenant_a.ticket.pk)
    prefetch = PreparedQuery(lambda pk: Ticket.objects.filter(pk=pk).prefetch_related("tags"))
    with pytest.raises(PreparedQueryError, match="plain model"):
        prefetch.all(tenant_a.ticket.pk)


def _row(model: Any, pk: int) -> dict[str, Any]:
    return _fields(model.objects.get(pk=pk))


def test_an_insert_saves_what_objects_create_saves(tenant_a: Tenant) -> None:
    ticket = tenant_a.ticket
    at = ticket.created_at
    values = {
        "client": tenant_a.client,
        "ticket": ticket,
        "direction": "out",
        "author": tenant_a.agent,
        "author_name": "坐席",
        "body_text": "您好，已为您登记。",
        "created_at": at,
    }
    prepared = PreparedInsert(Message)
    ours = [prepared.create(**values), prepared.create(**values)]
    theirs = Message.objects.create(**values)
    assert ours[0].pk < ours[1].pk < theirs.pk
    for message in ours:
        assert not message._state.adding and message._state.db == "default"
        row, expected = _row(Message, message.pk), _row(Message, theirs.pk)
        assert {**row, "id": None} == {**expected, "id": None}
        assert row["created_at"] == at and row["created_at"].tzinfo is not None
    # A saved instance: save() updates its row.
    ours[0].body_text = "改过"
    ours[0].save()
    assert Message.objects.filter(body_text="改过").count() == 1


def test_json_and_encrypted_fields_are_prepared_as_save_prepares_them(tenant_a: Tenant) -> None:
    event = PreparedInsert(TicketEvent).create(
        client_id=tenant_a.client.pk,
        ticket=tenant_a.ticket,
        type="note",
        actor=None,
        at=tenant_a.ticket.created_at,
        data={"渠道": "email", "n": [1, 2]},
    )
    assert TicketEvent.objects.get(pk=event.pk).data == {"渠道": "email", "n": [1, 2]}

    built = services.customer_build(
        client=tenant_a.client, data=services.CustomerData(name="李四", phone="13700000000")
    )
    values = {f.attname: getattr(built, f.attname) for f in Customer._meta.concrete_fields}
    values.pop("id")
    customer = PreparedInsert(Customer).create(**values)
    stored = Customer.objects.get(pk=customer.pk)
    assert stored.name == "李四" and stored.phones == ["13700000000"]
    raw = Customer.objects.filter(pk=customer.pk).values_list("name", flat=True).get()
    assert "李四" not in str(raw)  # sealed in the row, as save() seals it


def test_a_model_with_receivers_goes_through_save(tenant_a: Tenant) -> None:
    seen: list[object] = []

    def receiver(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
        seen.append((instance.pk, created))

    prepared = PreparedInsert(TicketEvent)
    values = {
        "client_id": tenant_a.client.pk,
        "ticket": tenant_a.ticket,
        "type": "note",
        "actor": None,
        "data": {},
    }
    signals.post_save.connect(receiver, sender=TicketEvent)
    try:
        event = prepared.create(**values, at=tenant_a.ticket.created_at)
    finally:
        signals.post_save.disconnect(receiver, sender=TicketEvent)
    assert seen == [(event.pk, True)]


def test_an_expression_goes_through_save_and_the_next_insert_does_not(
    tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved: list[object] = []
    original = TicketEvent.save

    def counting_save(self: TicketEvent, *args: Any, **kwargs: Any) -> None:
        saved.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(TicketEvent, "save", counting_save)
    prepared = PreparedInsert(TicketEvent)
    values = {"client_id": tenant_a.client.pk, "ticket": tenant_a.ticket, "type": "note"}
    first = prepared.create(**values, at=Now())
    assert saved == [first]
    second = prepared.create(**values, at=tenant_a.ticket.created_at)
    assert saved == [first]  # one prepared INSERT, no save()
    assert TicketEvent.objects.get(pk=second.pk).at == tenant_a.ticket.created_at


@pytest.mark.parametrize("n", [1, 3, PreparedInsert.MAX_ROWS + 1])
def test_several_rows_are_inserted_as_bulk_create_inserts_them(tenant_a: Tenant, n: int) -> None:
    def events(tag: str) -> list[TicketEvent]:
        return [
            TicketEvent(
                client_id=tenant_a.client.pk,
                ticket=tenant_a.ticket,
                type="note",
                at=tenant_a.ticket.created_at,
                data={"tag": tag, "i": i},
            )
            for i in range(n)
        ]

    prepared = PreparedInsert(TicketEvent)
    ours = prepared.insert_many(events("ours"))
    again = prepared.insert_many(events("again"))  # the SQL written for n rows, reused
    theirs = TicketEvent.objects.bulk_create(events("theirs"))
    for batch, tag in ((ours, "ours"), (again, "again")):
        assert all(e.pk and not e._state.adding for e in batch)
        stored = TicketEvent.objects.filter(pk__in=[e.pk for e in batch]).order_by("pk")
        assert [e.data for e in stored] == [{"tag": tag, "i": i} for i in range(n)]
        assert [e.pk for e in stored] == [e.pk for e in batch]  # ids in the given order
        assert [{**_fields(e), "id": None, "data": None} for e in stored] == [
            {**_fields(e), "id": None, "data": None} for e in theirs
        ]
    assert prepared.insert_many([]) == []
    # SQL is kept for the few rows of one request, not for every batch size ever seen.
    assert len(prepared._compiled) == (1 if n <= PreparedInsert.MAX_ROWS else 0)


def test_rows_breaking_a_unique_constraint_are_skipped_as_bulk_create_skips_them(
    tenant_a: Tenant,
) -> None:
    customer = tenant_a.customer

    def identifiers(*keys: str) -> list[CustomerIdentifier]:
        return [
            CustomerIdentifier(
                client_id=customer.client_id,
                customer=customer,
                kind="email",
                key=key,
                value=f"{key}@example.com",
                verified=True,
            )
            for key in keys
        ]

    prepared = PreparedInsert(CustomerIdentifier, ignore_conflicts=True)
    first = prepared.insert_many(identifiers("k1", "k2"))
    again = prepared.insert_many(identifiers("k2", "k3"))  # k2 is held: skipped, not an error
    theirs = CustomerIdentifier.objects.bulk_create(identifiers("k3", "k4"), ignore_conflicts=True)
    held = CustomerIdentifier.objects.filter(customer=customer, key__startswith="k")
    assert sorted(held.values_list("key", flat=True)) == ["k1", "k2", "k3", "k4"]
    for batch in (first, again, theirs):  # as bulk_create leaves them: no ids, unsaved
        assert all(i.pk is None and i._state.adding for i in batch)
    assert list(prepared._compiled) == [("default", 2)]  # both batches: the SQL for two rows
    assert None not in prepared._compiled.values()
    with pytest.raises(TypeError):
        prepared.create(customer=customer, kind="email", key="k5", value="v")


def test_an_update_writes_what_save_with_update_fields_writes(tenant_a: Tenant) -> None:
    ticket = tenant_a.ticket
    other = Ticket.objects.exclude(pk=ticket.pk).filter(client=tenant_a.client).first()
    touch = PreparedUpdate(Ticket, ["updated_at", "subject"])
    ticket.updated_at = ticket.created_at + timedelta(hours=3)
    ticket.subject = "改过的主题"
    touch.update(ticket)
    touch.update(ticket)  # the second time from the kept SQL
    row = Ticket.objects.get(pk=ticket.pk)
    assert (row.updated_at, row.subject) == (ticket.updated_at, "改过的主题")
    assert row.updated_at.tzinfo is not None
    if other is not None:  # only that row
        assert Ticket.objects.get(pk=other.pk).subject == other.subject
    gone = Ticket.objects.get(pk=ticket.pk)
    Ticket.objects.filter(pk=ticket.pk).delete()
    with pytest.raises(DatabaseError, match="did not affect any rows"):
        touch.update(gone)
