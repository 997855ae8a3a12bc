"""The tickets app's part of a data subject's data (:mod:`kefu.privacy.parts`): the
customer's tickets with their messages, events, escalations and attachments.

Anonymising keeps every ticket, message and event with its times and statuses; it replaces
personal data in subjects, message texts, escalation reasons and answers, and deletes the
attachments (rows and files)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.privacy.parts import ANON_NAME, Export, Part, Subject, Tally, scrub_text
from kefu.tickets.models import Attachment, Direction, Escalation, Message, Ticket


def _iso(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value is not None else None


def attachment_zip_name(attachment: Attachment, ticket_number: str) -> str:
    safe = attachment.filename.replace("/", "_").replace("\\", "_").lstrip(".") or "file"
    return f"attachments/{ticket_number}/{attachment.pk}_{safe}"


def _read_file(attachment: Attachment) -> bytes | None:
    if not attachment.file.name:
        return None
    try:
        with attachment.file.open("rb") as fh:
            return fh.read()
    except OSError:
        return None


def _ticket_data(t: Ticket, files: dict[str, bytes] | None) -> dict[str, Any]:
    return {
        "number": t.number,
        "subject": t.subject,
        "kind": t.kind,
        "priority": t.priority,
        "status": t.status,
        "channel": t.channel,
        "tags": sorted(tag.name for tag in t.tags.all()),
        "created_at": _iso(t.created_at),
        "updated_at": _iso(t.updated_at),
        "first_resolved_at": _iso(t.first_resolved_at),
        "messages": [
            {
                "id": m.pk,
                "direction": m.direction,
                "author": m.author_name,
                "created_at": _iso(m.created_at),
                "body_text": m.body_text,
                "body_html": m.body_html,
                "attachments": [_attachment_data(a, t.number, files) for a in m.attachments.all()],
            }
            for m in t.messages.all()
        ],
        "events": [
            {"type": e.type, "description": e.describe(), "at": _iso(e.at), "data": e.data}
            for e in t.events.all()
        ],
        "escalations": [
            {
                "department": e.department.name,
                "reason": e.reason,
                "status": e.status,
                "expected_by": _iso(e.expected_by),
                "answer": e.answer,
                "created_at": _iso(e.created_at),
                "answered_at": _iso(e.answered_at),
            }
            for e in t.escalations.all()
        ],
    }


def _attachment_data(
    a: Attachment, ticket_number: str, files: dict[str, bytes] | None
) -> dict[str, Any]:
    """An attachment's entry; with ``files``, its content goes there under the entry's
    ``file`` path, or the entry says ``"missing": true`` when the file is gone."""
    entry: dict[str, Any] = {
        "filename": a.filename,
        "content_type": a.content_type,
        "size": a.size,
        "file": attachment_zip_name(a, ticket_number),
    }
    if files is not None:
        content = _read_file(a)
        if content is None:
            entry["missing"] = True
        else:
            files[entry["file"]] = content
    return entry


def export(subject: Subject, with_files: bool) -> Export:
    tickets = (
        Ticket.objects.filter(pk__in=subject.ticket_ids)
        .prefetch_related("messages__attachments", "events", "escalations__department", "tags")
        .order_by("created_at", "id")
    )
    files: dict[str, bytes] | None = {} if with_files else None
    data = [_ticket_data(t, files) for t in tickets]
    return Export(data={"tickets": data}, files=files or {})


def scrub_tickets(
    ticket_ids: Sequence[int], identifiers: Sequence[str], tally: Tally, write: bool
) -> None:
    """Anonymise what these tickets hold; rows, times and statuses stay."""
    tickets = []
    for t in Ticket.objects.filter(pk__in=ticket_ids).only("pk", "subject"):
        subject = scrub_text(t.subject, identifiers)
        if subject != t.subject:
            t.subject = subject
            tickets.append(t)
            tally.add("ticket", t.pk)
    messages = []
    for m in Message.objects.filter(ticket_id__in=ticket_ids).only(
        "pk", "direction", "author_name", "body_text", "body_html"
    ):
        before = (m.author_name, m.body_text, m.body_html)
        m.body_text = scrub_text(m.body_text, identifiers)
        m.body_html = scrub_text(m.body_html, identifiers)
        if m.direction == Direction.INBOUND and m.author_name:
            m.author_name = ANON_NAME
        if (m.author_name, m.body_text, m.body_html) != before:
            messages.append(m)
            tally.add("message", m.pk)
    escalations = []
    for e in Escalation.objects.filter(ticket_id__in=ticket_ids).only("pk", "reason", "answer"):
        reason, answer = scrub_text(e.reason, identifiers), scrub_text(e.answer, identifiers)
        if (reason, answer) != (e.reason, e.answer):
            e.reason, e.answer = reason, answer
            escalations.append(e)
            tally.add("escalation", e.pk)
    attachments = list(Attachment.objects.filter(ticket_id__in=ticket_ids).only("pk", "file"))
    for a in attachments:
        tally.add("attachment", a.pk)
    if not write:
        return
    Ticket.objects.bulk_update(tickets, ["subject"], batch_size=500)
    Message.objects.bulk_update(messages, ["author_name", "body_text", "body_html"], batch_size=500)
    Escalation.objects.bulk_update(escalations, ["reason", "answer"], batch_size=500)
    tally.files += [a.file.name for a in attachments if a.file.name]
    Attachment.objects.filter(pk__in=[a.pk for a in attachments]).delete()


def anonymise(subject: Subject, tally: Tally, write: bool) -> None:
    scrub_tickets(subject.ticket_ids, subject.identifiers, tally, write)


def count(subject: Subject) -> dict[str, int]:
    return {
        str(_("工单")): len(subject.ticket_ids),
        str(_("附件")): Attachment.objects.filter(ticket_id__in=subject.ticket_ids).count(),
    }


PART = Part(
    name="tickets",
    order=10,
    export=export,
    anonymise=anonymise,
    count=count,
    kinds={
        "ticket": "工单主题",
        "message": "消息",
        "escalation": "升级记录",
        "attachment": "附件（已删除）",
    },
)
