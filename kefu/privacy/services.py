"""Data-subject requests (export, anonymise one customer) and the retention job.

Anonymising keeps every ticket, message, event, call and survey row with its timestamps,
statuses and scores, so that KPI figures of past months stay exactly as they were; what
goes is the personal data in them: the customer's identity, PII in free text, survey
comments and attachments. There is no "delete" variant: deleting rows would change past
KPIs and the issued reports they back."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.roles import Perm
from kefu.core.audit import audit_record
from kefu.core.models import AuditAction
from kefu.privacy import selectors
from kefu.privacy.models import RetentionRecord, RetentionRun
from kefu.privacy.parts import ANON_NAME, Subject, Tally, parts
from kefu.tickets.models import Attachment, Customer, Ticket
from kefu.tickets.services import require

if TYPE_CHECKING:
    from django.http import HttpRequest

    from kefu.accounts.models import User


def _anonymise_subject(subject: Subject, tally: Tally, write: bool) -> None:
    """Every app's part anonymises what it holds about the subject."""
    for part in parts():
        if part.anonymise is not None:
            part.anonymise(subject, tally, write)


def customer_is_anonymised(customer: Customer) -> bool:
    """Whether the customer's personal data has been erased (name replaced, contacts and
    blind indexes empty)."""
    return customer.name == ANON_NAME and not (
        customer.phones
        or customer.emails
        or customer.external_ids
        or customer.phone_key
        or customer.email_key
        or customer.external_key
    )


def _anonymise_customer(customer: Customer, tally: Tally, write: bool) -> None:
    _anonymise_subject(selectors.customer_subject(customer), tally, write)
    if customer_is_anonymised(customer):
        return
    tally.add("customer", customer.pk)
    if write:
        customer.name = ANON_NAME
        customer.phones, customer.emails, customer.external_ids = [], [], {}
        customer.phone_key = customer.email_key = customer.name_key = ""
        customer.external_key = ""
        customer.save(update_fields=Customer.PERSONAL_FIELDS)


def _delete_files_on_commit(names: Iterable[str]) -> None:
    """Files are deleted once the rows' deletion has committed: a rollback must not leave
    rows pointing at nothing."""
    names = list(names)
    if not names:
        return
    storage = Attachment._meta.get_field("file").storage

    def delete() -> None:
        for name in names:
            storage.delete(name)

    transaction.on_commit(delete)


@transaction.atomic
def customer_anonymise(
    *, actor: User | None, customer: Customer, reason: str, request: HttpRequest | None = None
) -> dict[str, int]:
    """Anonymise one customer across tickets, messages, escalations, surveys and
    attachments (deleted), on a data-subject request. Returns what changed, by kind."""
    require(actor, Perm.PRIVACY_MANAGE)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("请填写匿名化的事由")})
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    tally = Tally()
    _anonymise_customer(customer, tally, write=True)
    counts = tally.counts()
    audit_record(
        actor=actor,
        action=AuditAction.ANONYMISE,
        obj=customer,
        reason=reason,
        data={"counts": counts},
        request=request,
    )
    _delete_files_on_commit(tally.files)
    return counts


@transaction.atomic
def customer_export(
    *, actor: User | None, customer: Customer, request: HttpRequest | None = None
) -> bytes:
    """A ZIP of everything kefu holds about the customer: ``customer.json`` (unmasked: it is
    the customer's own data) and the files each app's privacy part adds (the attachment
    files under ``attachments/``, the emails they sent, as received, under ``mail/``). An
    attachment whose file is gone from storage is listed with ``"missing": true``."""
    require(actor, Perm.PRIVACY_MANAGE)
    export = selectors.customer_export_parts(customer, with_files=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in export.files.items():
            archive.writestr(name, content)
        archive.writestr(
            "customer.json", json.dumps(export.data, ensure_ascii=False, indent=2, default=str)
        )
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        obj=customer,
        reason=_("客户本人查阅（数据导出）"),
        data={"tickets": len(export.data.get("tickets", [])), "files": len(export.files)},
        request=request,
    )
    return buffer.getvalue()


# Retention. A run goes through the client's data in phases, each in batches keyed by id,
# one transaction per batch; its cursor lives on the RetentionRun row.

BATCH = 50
LEASE = timedelta(minutes=10)


def _customers_step(client_id: int, ids: Sequence[int], tally: Tally, write: bool) -> None:
    for customer in Customer.objects.filter(pk__in=ids).order_by("pk"):
        _anonymise_customer(customer, tally, write)


def _tickets_step(client_id: int, ids: Sequence[int], tally: Tally, write: bool) -> None:
    """Tickets without a known customer: what they and the rows linked to them hold."""
    _anonymise_subject(Subject(customer=None, ticket_ids=ids), tally, write)


def _customer_ids(client_id: int, after: int) -> list[int]:
    rows = Customer.objects.filter(client_id=client_id, pk__gt=after).order_by("pk")
    return list(rows.values_list("pk", flat=True)[:BATCH])


def _no_customer(client_id: int) -> QuerySet[Ticket]:
    return Ticket.objects.filter(client_id=client_id, customer__isnull=True)


def _ticket_ids(client_id: int, after: int) -> list[int]:
    rows = _no_customer(client_id).filter(pk__gt=after).order_by("pk")
    return list(rows.values_list("pk", flat=True)[: BATCH * 4])


@dataclass(frozen=True)
class _Phase:
    name: str
    ids: Callable[[int, int], list[int]]  # (client id, after id) -> next batch of ids
    step: Callable[[int, Sequence[int], Tally, bool], None]
    count: Callable[[int], int]  # rows the phase walks for a client


def _phases() -> list[_Phase]:
    """The customers, the tickets without a customer, then each app's rows linked to
    neither (its part's orphans)."""
    phases = [
        _Phase(
            "customers",
            _customer_ids,
            _customers_step,
            lambda client_id: Customer.objects.filter(client_id=client_id).count(),
        ),
        _Phase("tickets", _ticket_ids, _tickets_step, lambda c: _no_customer(c).count()),
    ]
    for part in parts():
        if part.orphans is not None and part.anonymise_orphans is not None:
            phases.append(
                _Phase(
                    part.name,
                    partial(_orphan_ids, part.orphans),
                    part.anonymise_orphans,
                    part.count_orphans or _none,
                )
            )
    return phases


def _orphan_ids(
    orphans: Callable[[int, int, int], list[int]], client_id: int, after: int
) -> list[int]:
    return orphans(client_id, after, BATCH * 4)


def _none(client_id: int) -> int:
    return 0


def retention_workload(client_id: int) -> int:
    """Rows the job walks for a client (for a progress bar)."""
    return sum(phase.count(client_id) for phase in _phases())


def retention_preview(
    *, client_id: int, progress: Callable[[int], object] | None = None
) -> dict[str, int]:
    """What the retention job would anonymise or delete for the client now; writes
    nothing."""
    tally = Tally()
    for phase in _phases():
        after = 0
        while ids := phase.ids(client_id, after):
            phase.step(client_id, ids, tally, False)
            after = ids[-1]
            if progress:
                progress(len(ids))
    return tally.counts()


def _retention_claim(due: selectors.RetentionDue, now: datetime) -> RetentionRun | None:
    """Start the contract's run, or take over its unfinished run once no one holds it."""
    try:
        with transaction.atomic():
            return RetentionRun.objects.create(
                client=due.client,
                contract=due.contract,
                due_date=due.due_date,
                started_at=now,
                lease_until=now + LEASE,
            )
    except IntegrityError:
        pass
    run = RetentionRun.objects.filter(contract=due.contract).first()
    if run is None or run.is_finished:
        return None
    won = RetentionRun.objects.filter(
        pk=run.pk, finished_at__isnull=True, lease_until__lte=now
    ).update(lease_until=now + LEASE)
    if not won:
        return None
    run.refresh_from_db()
    return run


@transaction.atomic
def _retention_step(run: RetentionRun, progress: Callable[[int], object] | None) -> None:
    phases = _phases()
    names = [p.name for p in phases]
    if run.phase not in names:
        # A phase of an app no longer installed: start over (each step is idempotent).
        run.phase, run.last_id = names[0], 0
    index = names.index(run.phase)
    phase = phases[index]
    ids = phase.ids(run.client_id, run.last_id)
    if not ids:
        run.phase, run.last_id = names[index + 1] if index + 1 < len(names) else "done", 0
    else:
        tally = Tally()
        phase.step(run.client_id, ids, tally, True)
        RetentionRecord.objects.bulk_create(
            [
                RetentionRecord(run=run, kind=kind, record_id=pk)
                for kind, pks in tally.ids.items()
                for pk in pks
            ],
            ignore_conflicts=True,
        )
        _delete_files_on_commit(tally.files)
        run.last_id = ids[-1]
        if progress:
            progress(len(ids))
    run.lease_until = max(run.lease_until, timezone.now() + LEASE)
    run.save(update_fields=["phase", "last_id", "lease_until"])


def _record_list_sha256(run: RetentionRun) -> str:
    """SHA-256 over the lines ``kind:id\\n``, sorted by kind then id."""
    digest = hashlib.sha256()
    rows = run.records.order_by("kind", "record_id").values_list("kind", "record_id")
    for kind, pk in rows.iterator(chunk_size=5000):
        digest.update(f"{kind}:{pk}\n".encode())
    return digest.hexdigest()


def _kind_labels() -> dict[str, str]:
    labels = {"customer": "客户"}
    for part in parts():
        labels.update(part.kinds)
    return labels


def _certificate(run: RetentionRun) -> str:
    contract = run.contract
    local = timezone.localtime
    labels = _kind_labels()
    lines = [
        "数据处理证明",
        f"甲方：{run.client.name}（{run.client.code}）",
        f"依据：服务合同 {contract.number}《{contract.title}》，"
        f"合同结束日期 {contract.end_date:%Y-%m-%d}，"
        f"数据保留条款（retention_days）：{contract.retention_days} 天，"
        f"保留期届满日 {run.due_date:%Y-%m-%d}。",
        f"处理：kefu 于 {local(run.started_at):%Y-%m-%d %H:%M} 开始、"
        f"{local(run.finished_at or run.started_at):%Y-%m-%d %H:%M} 完成，对该甲方的个人信息"
        "进行了匿名化处理（客户身份信息清除，文本中的电话、邮箱、证件号替换为占位符，"
        "回访评价文字清除，附件删除）；工单、通话与回访的记录、时间、状态和评分保留，"
        "以使既往月份的绩效数据保持不变。",
        "数量：" + "；".join(f"{labels.get(k, k)} {n} 条" for k, n in run.counts.items())
        if run.counts
        else "数量：无需处理的记录。",
        f"记录清单 SHA-256（每行“类型:编号”，按类型与编号排序）：{run.certificate_sha256}",
    ]
    return "\n".join(lines)


@transaction.atomic
def _retention_finish(run: RetentionRun) -> RetentionRun:
    run = (
        RetentionRun.objects.select_for_update().select_related("client", "contract").get(pk=run.pk)
    )
    if run.is_finished:
        return run
    run.counts = dict(
        run.records.values_list("kind")
        .annotate(n=Count("id"))
        .order_by("kind")
        .values_list("kind", "n")
    )
    run.finished_at = max(timezone.now(), run.started_at)
    run.certificate_sha256 = _record_list_sha256(run)
    run.certificate = _certificate(run)
    run.save(update_fields=["counts", "finished_at", "certificate_sha256", "certificate"])
    audit_record(
        actor=None,
        action=AuditAction.ANONYMISE,
        obj=run,
        reason=f"合同 {run.contract.number} 数据保留期届满",
        data={"counts": run.counts, "sha256": run.certificate_sha256},
    )
    return run


def retention_run(
    *,
    due: selectors.RetentionDue,
    now: datetime | None = None,
    max_batches: int | None = None,
    progress: Callable[[int], object] | None = None,
) -> RetentionRun | None:
    """Anonymise the client's personal data under its contract's retention clause.

    Returns the run (finished, or paused after ``max_batches`` batches so the scheduler's
    tick stays short: the next call resumes it), or ``None`` when another process holds it
    or it is already finished."""
    now = now or timezone.now()
    run = _retention_claim(due, now)
    if run is None:
        return None
    batches = 0
    while run.phase != "done":
        if max_batches is not None and batches >= max_batches:
            RetentionRun.objects.filter(pk=run.pk).update(lease_until=now)
            return run
        _retention_step(run, progress)
        batches += 1
    return _retention_finish(run)


def retention_run_due(*, now: datetime | None = None, max_batches: int = 20) -> list[RetentionRun]:
    """The scheduler's step: advance every client whose retention period has run out."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    runs = []
    for due in selectors.retention_unfinished_or_due(today):
        run = retention_run(due=due, now=now, max_batches=max_batches)
        if run is not None:
            runs.append(run)
    return runs
