"""Writes on customer records beyond finding and creating them (kefu.tickets.services):
identifiers of customers written in bulk or edited, forgetting them, merging two records of
one person, and confirming an identifier an agent typed."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.roles import Perm
from kefu.core.audit import audit_record
from kefu.core.models import AuditAction
from kefu.privacy.crypto import normalise_email, normalise_phone
from kefu.tickets.models import (
    Customer,
    CustomerIdentifier,
    EventType,
    IdentifierKind,
    Ticket,
    TicketEvent,
)
from kefu.tickets.services import (
    NewIdentifier,
    customer_identifiers_insert,
    customer_index,
    identifier_index,
    require,
)

if TYPE_CHECKING:
    from django.http import HttpRequest

    from kefu.accounts.models import User


def customer_identifiers_insert_many(rows: list[CustomerIdentifier]) -> None:
    """Insert identifier rows of many customers of one client (a history import). A
    verified one whose key another customer already holds verified (or an earlier row of
    ``rows`` does) is inserted unverified instead: two records of one person, to merge."""
    if not rows:
        return
    held = set(
        CustomerIdentifier.objects.filter(
            client_id=rows[0].client_id, verified=True, key__in={row.key for row in rows}
        ).values_list("kind", "key")
    )
    for row in rows:
        if row.verified:
            if (row.kind, row.key) in held:
                row.verified = False
            held.add((row.kind, row.key))
    CustomerIdentifier.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)


def customer_identifiers_of(
    customer: Customer, *, verified: bool = True
) -> list[CustomerIdentifier]:
    """Unsaved identifier rows for the customer's phones, emails and external id (for a
    customer written in bulk, e.g. by the history import; its ``pk`` must be set)."""
    rows = []
    seen: set[tuple[str, str]] = set()
    values = [(IdentifierKind.EXTERNAL, customer.external_key)]
    values += [(IdentifierKind.EMAIL, str(e)) for e in customer.emails]
    values += [(IdentifierKind.PHONE, str(p)) for p in customer.phones]
    for kind, value in values:
        key = identifier_index(kind, value)
        if key and (kind, key) not in seen:
            seen.add((kind, key))
            rows.append(
                CustomerIdentifier(
                    client_id=customer.client_id,
                    customer_id=customer.pk,
                    kind=kind,
                    key=key,
                    value=value,
                    verified=verified,
                )
            )
    return rows


def customer_identifiers_sync(*, customer: Customer, verified: bool) -> None:
    """Make the customer's phone, email and external-id identifiers those of its record
    after an edit (the admin): the ones no longer listed go, new ones are added
    (``verified`` as given: a provider admin's edit counts as a confirmation)."""
    wanted = {(row.kind, row.key): row for row in customer_identifiers_of(customer)}
    kinds = (IdentifierKind.PHONE, IdentifierKind.EMAIL, IdentifierKind.EXTERNAL)
    existing = set(
        CustomerIdentifier.objects.filter(customer=customer, kind__in=kinds).values_list(
            "kind", "key"
        )
    )
    gone = existing - set(wanted)
    for kind, key in gone:
        CustomerIdentifier.objects.filter(customer=customer, kind=kind, key=key).delete()
    customer_identifiers_insert(
        customer=customer,
        new=[
            NewIdentifier(kind=row.kind, key=row.key, value=row.value, verified=verified)
            for k, row in wanted.items()
            if k not in existing
        ],
    )


def customer_identifier_index(*, identifier: CustomerIdentifier) -> None:
    """Set the identifier's key from its (decrypted) value, under the configured index key
    (``kefu encryption reindex``); does not save."""
    identifier.key = identifier_index(identifier.kind, identifier.value) or identifier.key


def customer_identifiers_forget(*, customer: Customer) -> int:
    """Delete every identifier of the customer (anonymisation: afterwards no phone, email or
    account finds them). Returns how many went."""
    deleted, _by_model = CustomerIdentifier.objects.filter(customer=customer).delete()
    return deleted


def _union(first: list[str], second: list[str], normalise: Callable[[str], str]) -> list[str]:
    """``first`` then the values of ``second`` it does not hold yet (compared normalised)."""
    seen = {normalise(str(v)) for v in first}
    out = [str(v) for v in first]
    for value in second:
        if normalise(str(value)) not in seen:
            seen.add(normalise(str(value)))
            out.append(str(value))
    return out


def _external_ids(target: dict[str, str], source: dict[str, str], source_id: int) -> dict[str, str]:
    """The target's ids, then the source's: an id it already has is not repeated; one whose
    name the target uses for another value is kept under ``<name>@<source id>``."""
    merged = dict(target)
    values = set(target.values())
    for name, value in source.items():
        if value in values:
            continue
        merged[name if name not in merged else f"{name}@{source_id}"] = value
        values.add(value)
    return merged


def _lock_pair(source: Customer, target: Customer) -> tuple[Customer, Customer]:
    """Both rows locked (in id order, so two merges of one pair cannot deadlock), reread."""
    rows = Customer.objects.select_for_update().filter(pk__in=[source.pk, target.pk])
    locked = {c.pk: c for c in rows.order_by("pk")}
    return locked[source.pk], locked[target.pk]


def _move_identifiers(source: Customer, target: Customer) -> dict[str, int]:
    """The source's identifiers go to the target; one the target holds already is dropped
    (and the target's copy becomes verified if the source's was)."""
    twins = {(r.kind, r.key): r for r in CustomerIdentifier.objects.filter(customer=target)}
    moved: list[int] = []
    dropped: list[int] = []
    confirm: list[int] = []
    for row in CustomerIdentifier.objects.filter(customer=source):
        twin = twins.get((row.kind, row.key))
        if twin is None:
            moved.append(row.pk)
            continue
        dropped.append(row.pk)
        if row.verified and not twin.verified:
            confirm.append(twin.pk)
    # Dropped first: a verified key may be held once per client.
    CustomerIdentifier.objects.filter(pk__in=dropped).delete()
    CustomerIdentifier.objects.filter(pk__in=moved).update(customer=target)
    CustomerIdentifier.objects.filter(pk__in=confirm).update(verified=True)
    return {"moved": len(moved), "duplicates": len(dropped)}


def _move_contacts(source: Customer, target: Customer) -> None:
    """Name (if the target has none), phones, emails and external ids to the target; the
    source keeps no personal data of its own (the tombstone names nobody). Its external
    key moves when the target has none, else stays, and the history import follows
    ``merged_into`` from it."""
    target.phones = _union(list(target.phones), list(source.phones), normalise_phone)
    target.emails = _union(list(target.emails), list(source.emails), normalise_email)
    target.external_ids = _external_ids(
        dict(target.external_ids), dict(source.external_ids), source.pk
    )
    if not target.name and source.name:
        target.name = source.name
    key = source.external_key
    source.name, source.phones, source.emails, source.external_ids = "", [], [], {}
    if key and not target.external_key:
        source.external_key = ""
    customer_index(customer=source)
    source.save(update_fields=Customer.PERSONAL_FIELDS)
    if key and not target.external_key:
        target.external_key = key
    customer_index(customer=target)
    target.save(update_fields=Customer.PERSONAL_FIELDS)


@transaction.atomic
def customer_merge(
    *,
    source: Customer,
    target: Customer,
    actor: User | None,
    reason: str = "",
    request: HttpRequest | None = None,
) -> Customer:
    """Merge ``source`` into ``target``, two records of one person of one client.

    The target gets the source's tickets (each records a ``customer_merged`` event),
    identifiers, phones, emails and external ids (without duplicates; its own name is
    kept, the source's taken only if it has none). The source stays as a tombstone
    (``merged_into`` = target, no personal data of its own), so links to it still resolve;
    customers merged into it earlier now point at the target. Recorded in the audit log.

    Refused (ValidationError): the same record twice, records of different clients, a
    source already merged, a target that was itself merged away. PermissionDenied without
    ``customer.merge`` (supervisors and provider admins)."""
    require(actor, Perm.CUSTOMER_MERGE)
    if source.pk == target.pk:
        raise ValidationError({"target": _("不能把客户合并到其自身")})
    if source.client_id != target.client_id:
        raise ValidationError({"target": _("只能合并同一甲方的客户")})
    source, target = _lock_pair(source, target)
    if source.merged_into_id is not None:
        raise ValidationError(
            {"source": _("该客户已合并至 #%(id)s") % {"id": source.merged_into_id}}
        )
    if target.merged_into_id is not None:
        text = _("目标客户已合并至 #%(id)s，请合并到该客户") % {"id": target.merged_into_id}
        raise ValidationError({"target": text})
    now = timezone.now()
    tickets = list(Ticket.objects.filter(customer=source).order_by("pk"))
    Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(customer=target)
    TicketEvent.objects.bulk_create(
        [
            TicketEvent(
                client_id=t.client_id,
                ticket=t,
                type=EventType.CUSTOMER_MERGED,
                actor=actor,
                at=now,
                data={"from": source.pk, "into": target.pk},
            )
            for t in tickets
        ]
    )
    identifiers = _move_identifiers(source, target)
    _move_contacts(source, target)
    source.merged_into, source.merged_at = target, now
    source.save(update_fields=["merged_into", "merged_at"])
    Customer.objects.filter(merged_into=source).update(merged_into=target)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=source,
        field="merged_into",
        reason=reason.strip(),
        data={
            "into": target.pk,
            "tickets": [t.pk for t in tickets],
            "identifiers": identifiers,
        },
        request=request,
    )
    return target


@transaction.atomic
def customer_identifier_verify(
    *, identifier: CustomerIdentifier, actor: User | None, request: HttpRequest | None = None
) -> CustomerIdentifier:
    """Confirm an identifier an agent typed (after checking it with the customer): from
    now on it finds its customer. Refused (ValidationError) while another customer of the
    client holds it verified: those two records are one person to merge first."""
    require(actor, Perm.CUSTOMER_EDIT)
    identifier = CustomerIdentifier.objects.select_for_update().get(pk=identifier.pk)
    if identifier.verified:
        return identifier
    holder = (
        CustomerIdentifier.objects.filter(
            client_id=identifier.client_id,
            kind=identifier.kind,
            key=identifier.key,
            verified=True,
        )
        .values_list("customer_id", flat=True)
        .first()
    )
    if holder is not None:
        raise ValidationError(
            _("客户 #%(id)s 已有这个经过验证的%(kind)s，请先合并这两条客户记录。")
            % {"id": holder, "kind": identifier.get_kind_display()}
        )
    identifier.verified = True
    identifier.save(update_fields=["verified"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=identifier.customer,
        field=f"identifier.{identifier.kind}",
        data={"identifier": identifier.pk, "verified": True},
        request=request,
    )
    return identifier
