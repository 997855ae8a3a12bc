"""Reads for the audit-log pages, data-subject requests and the retention schedule."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from kefu.accounts.models import User
from kefu.contracts.models import Client, Contract
from kefu.core.export import csv_row
from kefu.core.models import AuditEvent
from kefu.privacy.crypto import normalise_phone
from kefu.privacy.models import RetentionRun
from kefu.privacy.parts import ANON_NAME, Export, Subject, parts
from kefu.tickets.models import Customer, Ticket


@dataclass(frozen=True, kw_only=True)
class AuditFilters:
    client: str = ""  # client code
    action: str = ""
    actor: str = ""  # username, exact
    since: date | None = None  # local dates, both inclusive
    until: date | None = None


def audit_events(*, user: User, filters: AuditFilters) -> QuerySet[AuditEvent]:
    """The audit records the user may read (admin: all; others: their clients' records),
    newest first."""
    qs = AuditEvent.objects.visible_to(user).select_related("client")
    if filters.client:
        qs = qs.filter(client__code=filters.client)
    if filters.action:
        qs = qs.filter(action=filters.action)
    if filters.actor:
        qs = qs.filter(actor_name=filters.actor)
    zone = timezone.get_default_timezone()
    if filters.since:
        qs = qs.filter(at__gte=datetime.combine(filters.since, time(), tzinfo=zone))
    if filters.until:
        end = filters.until + timedelta(days=1)
        qs = qs.filter(at__lt=datetime.combine(end, time(), tzinfo=zone))
    return qs.order_by("-id")


CSV_HEADER = [
    "时间",
    "操作人",
    "甲方",
    "操作",
    "对象类型",
    "对象编号",
    "对象",
    "字段",
    "事由",
    "详情",
    "来源地址",
]


class _Echo:
    def write(self, value: str) -> str:
        return value


def audit_csv_rows(qs: QuerySet[AuditEvent]) -> Iterator[str]:
    """The records as CSV lines, UTF-8 BOM first so that Excel reads the Chinese right."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(CSV_HEADER)
    for e in qs.iterator(chunk_size=2000):
        yield writer.writerow(
            csv_row(
                [
                    timezone.localtime(e.at).isoformat(timespec="seconds"),
                    e.actor_name,
                    e.client.code if e.client else "",
                    e.get_action_display(),
                    e.object_type,
                    e.object_id,
                    e.object_repr,
                    e.field,
                    e.reason,
                    json.dumps(e.data, ensure_ascii=False) if e.data else "",
                    e.ip or "",
                ]
            )
        )


def _iso(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value is not None else None


def customer_identifiers(customer: Customer) -> list[str]:
    """What names the customer in free text: name, phones (as stored and normalised: digits
    without the +86 prefix) and emails."""
    idents = [] if customer.name == ANON_NAME else [customer.name]
    for phone in customer.phones:
        idents += [phone, normalise_phone(phone)]
    idents += list(customer.emails)
    return [i for i in idents if i]


def customer_subject(customer: Customer) -> Subject:
    """The customer as the apps' privacy parts (:mod:`kefu.privacy.parts`) are asked
    about them."""
    tickets = Ticket.objects.filter(customer=customer).order_by("pk")
    return Subject(
        customer=customer,
        ticket_ids=list(tickets.values_list("pk", flat=True)),
        identifiers=customer_identifiers(customer),
    )


def customer_export_parts(customer: Customer, *, with_files: bool) -> Export:
    """Everything kefu holds about one customer, unmasked (it is the customer's own data):
    the customer and what each app's privacy part holds about them — their tickets with
    every message (internal notes included), events and escalations, the calls and surveys
    linked to those tickets, the mails they sent … ``data`` is ``customer.json``."""
    data: dict[str, Any] = {
        "format": "kefu.customer-export/1",
        "exported_at": _iso(timezone.now()),
        "client": {"code": customer.client.code, "name": customer.client.name},
        "customer": {
            "id": customer.pk,
            "name": customer.name,
            "phones": list(customer.phones),
            "emails": list(customer.emails),
            "external_ids": dict(customer.external_ids),
            "created_at": _iso(customer.created_at),
        },
    }
    files: dict[str, bytes] = {}
    subject = customer_subject(customer)
    for part in parts():
        if part.export is not None:
            share = part.export(subject, with_files)
            data.update(share.data)
            files.update(share.files)
    return Export(data=data, files=files)


def customer_data(customer: Customer) -> dict[str, Any]:
    """``customer.json`` of the customer's export (see :func:`customer_export_parts`)."""
    return customer_export_parts(customer, with_files=False).data


def customer_summary(customer: Customer) -> dict[str, int]:
    """How much kefu holds about a customer, by label, for the page before an export or
    an anonymisation."""
    subject = customer_subject(customer)
    summary: dict[str, int] = {}
    for part in parts():
        if part.count is not None:
            summary.update(part.count(subject))
    return summary


@dataclass(frozen=True)
class RetentionDue:
    """Where one client stands against the retention clause of its last contract."""

    client: Client
    contract: Contract
    keep_until: date  # the last day the data may be kept
    run: RetentionRun | None

    @property
    def due_date(self) -> date:
        return self.keep_until + timedelta(days=1)

    def is_due(self, today: date) -> bool:
        return today >= self.due_date and (self.run is None or not self.run.is_finished)


def retention_schedule(*, clients: QuerySet[Client] | None = None) -> list[RetentionDue]:
    """One row per client with a contract: the client's data is governed by the contract
    that ends last, so nothing falls due while any contract of the client is in force or
    inside its retention period. An auto-renewing last contract never falls due: load the
    final contract with ``auto_renew: false`` to end it."""
    qs = Contract.objects.select_related("client").order_by("client_id", "-end_date", "-id")
    if clients is not None:
        qs = qs.filter(client__in=clients)
    last: dict[int, Contract] = {}
    for contract in qs:
        last.setdefault(contract.client_id, contract)
    runs = {r.contract_id: r for r in RetentionRun.objects.filter(contract__in=last.values())}
    rows = []
    for contract in last.values():
        if contract.auto_renew:
            continue
        keep_until = contract.end_date + timedelta(days=contract.retention_days)
        rows.append(RetentionDue(contract.client, contract, keep_until, runs.get(contract.pk)))
    return sorted(rows, key=lambda r: (r.keep_until, r.client.code))


def retention_runs(*, user: User) -> QuerySet[RetentionRun]:
    return RetentionRun.objects.visible_to(user).select_related("client", "contract")


def retention_unfinished_or_due(today: date) -> list[RetentionDue]:
    return [r for r in retention_schedule() if r.is_due(today)]
