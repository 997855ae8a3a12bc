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
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.roles import Perm
from kefu.core.audit import audit_record
from kefu.core.models import AuditAction
from kefu.mail.models import InboundMail, OutboundMail
from kefu.privacy import pii, selectors
from kefu.privacy.crypto import normalise_phone
from kefu.privacy.models import RetentionRecord, RetentionRun
from kefu.surveys.models import Survey
from kefu.tickets.customers import customer_identifiers_forget
from kefu.tickets.models import Attachment, Customer, Direction, Escalation, Message, Ticket
from kefu.tickets.services import require

if TYPE_CHECKING:
    from django.http import HttpRequest

    from kefu.accounts.models import User

ANON_NAME = "已匿名客户"

# Placeholders for what kefu.privacy.pii detects in free text. Anonymising replaces the
# whole value (pii.mask_text keeps some digits, which is fine on screen, not here).
PLACEHOLDERS = {
    pii.MOBILE: "[电话]",
    pii.FIXED_LINE: "[电话]",
    pii.ID_NUMBER: "[身份证号]",
    pii.CARD: "[银行卡号]",
    pii.EMAIL: "[邮箱]",
}


def scrub_text(text: str, identifiers: Sequence[str] = ()) -> str:
    """``text`` with the customer's own identifiers (name, phones, emails: replaced
    wherever they occur) and any phone number, e-mail address, ID or bank card number that
    :func:`kefu.privacy.pii.find` detects replaced by placeholders. Pure; safe to run
    twice."""
    if not text:
        return text
    for ident in sorted({i for i in identifiers if len(i) >= 2}, key=len, reverse=True):
        placeholder = "[邮箱]" if "@" in ident else "[电话]" if ident[-1].isdigit() else "[姓名]"
        text = text.replace(ident, placeholder)
    out: list[str] = []
    pos = 0
    for m in pii.find(text):
        out += [text[pos : m.start], PLACEHOLDERS.get(m.kind, "[个人信息]")]
        pos = m.end
    out.append(text[pos:])
    return "".join(out)


def customer_identifiers(customer: Customer) -> list[str]:
    """What names the customer in free text: name, phones (as stored and normalised: digits
    without the +86 prefix) and emails."""
    idents = [] if customer.name == ANON_NAME else [customer.name]
    for phone in customer.phones:
        idents += [phone, normalise_phone(phone)]
    idents += list(customer.emails)
    return [i for i in idents if i]


@dataclass
class Tally:
    """What an anonymisation changed (or would change), by kind of record."""

    ids: dict[str, set[int]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def add(self, kind: str, pk: int) -> None:
        self.ids.setdefault(kind, set()).add(pk)

    def counts(self) -> dict[str, int]:
        return {kind: len(ids) for kind, ids in sorted(self.ids.items())}


def _scrub_tickets(
    ticket_ids: Sequence[int], idents: Sequence[str], tally: Tally, write: bool
) -> None:
    """Anonymise what the tickets hold about the customer; rows, times and scores stay."""
    tickets = []
    for t in Ticket.objects.filter(pk__in=ticket_ids).only("pk", "subject"):
        subject = scrub_text(t.subject, idents)
        if subject != t.subject:
            t.subject = subject
            tickets.append(t)
            tally.add("ticket", t.pk)
    messages = []
    for m in Message.objects.filter(ticket_id__in=ticket_ids).only(
        "pk", "direction", "author_name", "body_text", "body_html"
    ):
        before = (m.author_name, m.body_text, m.body_html)
        m.body_text = scrub_text(m.body_text, idents)
        m.body_html = scrub_text(m.body_html, idents)
        if m.direction == Direction.INBOUND and m.author_name:
            m.author_name = ANON_NAME
        if (m.author_name, m.body_text, m.body_html) != before:
            messages.append(m)
            tally.add("message", m.pk)
    escalations = []
    for e in Escalation.objects.filter(ticket_id__in=ticket_ids).only("pk", "reason", "answer"):
        reason, answer = scrub_text(e.reason, idents), scrub_text(e.answer, idents)
        if (reason, answer) != (e.reason, e.answer):
            e.reason, e.answer = reason, answer
            escalations.append(e)
            tally.add("escalation", e.pk)
    surveys = list(Survey.objects.filter(ticket_id__in=ticket_ids).exclude(comment=""))
    for s in surveys:
        tally.add("survey", s.pk)
    attachments = list(Attachment.objects.filter(ticket_id__in=ticket_ids).only("pk", "file"))
    for a in attachments:
        tally.add("attachment", a.pk)
    mail_in = list(
        InboundMail.objects.filter(ticket_id__in=ticket_ids)
        .exclude(raw=b"")
        .values_list("pk", flat=True)
    )
    mail_out = list(
        OutboundMail.objects.filter(ticket_id__in=ticket_ids)
        .exclude(to_address="")
        .values_list("pk", flat=True)
    )
    for pk in mail_in:
        tally.add("inbound_mail", pk)
    for pk in mail_out:
        tally.add("outbound_mail", pk)
    if not write:
        return
    # The raw mail as received carries everything (addresses, names, signatures): it goes;
    # the row stays as the record that a mail arrived and how it was handled.
    InboundMail.objects.filter(pk__in=mail_in).update(raw=b"", from_address="", subject="")
    OutboundMail.objects.filter(pk__in=mail_out).update(to_address="", subject="")
    Ticket.objects.bulk_update(tickets, ["subject"], batch_size=500)
    Message.objects.bulk_update(messages, ["author_name", "body_text", "body_html"], batch_size=500)
    Escalation.objects.bulk_update(escalations, ["reason", "answer"], batch_size=500)
    Survey.objects.filter(pk__in=[s.pk for s in surveys]).update(comment="")
    tally.files += [a.file.name for a in attachments if a.file.name]
    Attachment.objects.filter(pk__in=[a.pk for a in attachments]).delete()


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
    idents = customer_identifiers(customer)
    ticket_ids = list(Ticket.objects.filter(customer=customer).values_list("pk", flat=True))
    _scrub_tickets(ticket_ids, idents, tally, write)
    if customer_is_anonymised(customer):
        return
    tally.add("customer", customer.pk)
    if write:
        customer_identifiers_forget(customer=customer)
        customer.name = ANON_NAME
        customer.phones, customer.emails, customer.external_ids = [], [], {}
        customer.phone_key = customer.email_key = customer.name_key = ""
        customer.external_key = ""
        customer.save(
            update_fields=[
                "name",
                "phones",
                "emails",
                "external_ids",
                "phone_key",
                "email_key",
                "name_key",
                "external_key",
            ]
        )


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


def _read_file(attachment: Attachment | None) -> bytes | None:
    if attachment is None or not attachment.file.name:
        return None
    try:
        with attachment.file.open("rb") as fh:
            return fh.read()
    except OSError:
        return None


@transaction.atomic
def customer_export(
    *, actor: User | None, customer: Customer, request: HttpRequest | None = None
) -> bytes:
    """A ZIP of everything kefu holds about the customer: ``customer.json`` (unmasked: it is
    the customer's own data), the attachment files under ``attachments/`` and the emails
    they sent, as received, under ``mail/``. An attachment
    whose file is gone from storage is listed with ``"missing": true``."""
    require(actor, Perm.PRIVACY_MANAGE)
    data = selectors.customer_data(customer)
    buffer = io.BytesIO()
    files = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        attachments = Attachment.objects.filter(ticket__customer=customer).select_related("ticket")
        by_name = {selectors.attachment_zip_name(a, a.ticket.number): a for a in attachments}
        for ticket in data["tickets"]:
            for message in ticket["messages"]:
                for entry in message["attachments"]:
                    content = _read_file(by_name.get(entry["file"]))
                    if content is None:
                        entry["missing"] = True
                    else:
                        archive.writestr(entry["file"], content)
                        files += 1
        mails = InboundMail.objects.filter(ticket__customer=customer).exclude(raw=b"")
        for pk, number, raw in mails.values_list("pk", "ticket__number", "raw"):
            archive.writestr(f"mail/{number}-{pk}.eml", bytes(raw))
            files += 1
        archive.writestr(
            "customer.json", json.dumps(data, ensure_ascii=False, indent=2, default=str)
        )
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        obj=customer,
        reason=_("客户本人查阅（数据导出）"),
        data={"tickets": len(data["tickets"]), "files": files},
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
    _scrub_tickets(ids, (), tally, write)


def _surveys_step(client_id: int, ids: Sequence[int], tally: Tally, write: bool) -> None:
    for pk in ids:
        tally.add("survey", pk)
    if write:
        Survey.objects.filter(pk__in=ids).update(comment="")


def _mail_step(client_id: int, ids: Sequence[int], tally: Tally, write: bool) -> None:
    """Mail kept without a ticket (quarantined, ignored): the raw message goes."""
    for pk in ids:
        tally.add("inbound_mail", pk)
    if write:
        InboundMail.objects.filter(pk__in=ids).update(raw=b"", from_address="", subject="")


@dataclass(frozen=True)
class _Phase:
    name: str
    ids: Callable[[int, int], list[int]]  # (client id, after id) -> next batch of ids
    step: Callable[[int, Sequence[int], Tally, bool], None]


PHASES = [
    _Phase(
        "customers",
        lambda client_id, after: list(
            Customer.objects.filter(client_id=client_id, pk__gt=after)
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH]
        ),
        _customers_step,
    ),
    _Phase(
        "tickets",
        lambda client_id, after: list(
            Ticket.objects.filter(client_id=client_id, customer__isnull=True, pk__gt=after)
            .order_by("pk")
            .values_list("pk", flat=True)[: BATCH * 4]
        ),
        _tickets_step,
    ),
    _Phase(
        "surveys",
        lambda client_id, after: list(
            Survey.objects.filter(client_id=client_id, ticket__isnull=True, pk__gt=after)
            .exclude(comment="")
            .order_by("pk")
            .values_list("pk", flat=True)[: BATCH * 4]
        ),
        _surveys_step,
    ),
    _Phase(
        "mail",
        lambda client_id, after: list(
            InboundMail.objects.filter(client_id=client_id, ticket__isnull=True, pk__gt=after)
            .exclude(raw=b"")
            .order_by("pk")
            .values_list("pk", flat=True)[: BATCH * 4]
        ),
        _mail_step,
    ),
]
_NEXT_PHASE = {
    p.name: (PHASES[i + 1].name if i + 1 < len(PHASES) else "done") for i, p in enumerate(PHASES)
}


def retention_workload(client_id: int) -> int:
    """Rows the job walks for a client (for a progress bar)."""
    return (
        Customer.objects.filter(client_id=client_id).count()
        + Ticket.objects.filter(client_id=client_id, customer__isnull=True).count()
        + Survey.objects.filter(client_id=client_id, ticket__isnull=True)
        .exclude(comment="")
        .count()
        + InboundMail.objects.filter(client_id=client_id, ticket__isnull=True)
        .exclude(raw=b"")
        .count()
    )


def retention_preview(
    *, client_id: int, progress: Callable[[int], object] | None = None
) -> dict[str, int]:
    """What the retention job would anonymise or delete for the client now; writes
    nothing."""
    tally = Tally()
    for phase in PHASES:
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
    phase = next(p for p in PHASES if p.name == run.phase)
    ids = phase.ids(run.client_id, run.last_id)
    if not ids:
        run.phase, run.last_id = _NEXT_PHASE[phase.name], 0
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


KIND_LABELS = {
    "customer": "客户",
    "ticket": "工单主题",
    "message": "消息",
    "escalation": "升级记录",
    "survey": "回访评价",
    "attachment": "附件（已删除）",
}


def _certificate(run: RetentionRun) -> str:
    contract = run.contract
    local = timezone.localtime
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
        "数量：" + "；".join(f"{KIND_LABELS.get(k, k)} {n} 条" for k, n in run.counts.items())
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
