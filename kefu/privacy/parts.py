"""Each app's part of a data subject's data: how privacy exports and anonymises a customer
without naming the apps that hold their data.

An app registers one :class:`Part` in its ``AppConfig.ready()`` (``kefu/phone/privacy.py``
registered from ``kefu/phone/apps.py``); a new channel is covered by adding its part in its
own code. :mod:`kefu.privacy.services` runs every registered part for a data-subject export,
an anonymisation, and the retention job.

Anonymising keeps rows, timestamps, statuses and scores (past KPIs must not change); what a
part removes is the personal data in them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kefu.privacy import pii

if TYPE_CHECKING:
    from kefu.tickets.models import Customer

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


@dataclass
class Tally:
    """What an anonymisation changed (or would change), by kind of record."""

    ids: dict[str, set[int]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)  # storage names to delete on commit

    def add(self, kind: str, pk: int) -> None:
        self.ids.setdefault(kind, set()).add(pk)

    def counts(self) -> dict[str, int]:
        return {kind: len(ids) for kind, ids in sorted(self.ids.items())}


@dataclass(frozen=True, kw_only=True)
class Subject:
    """What a part is asked about: rows linked to these tickets, and what names the person
    in free text (name, phones as stored and normalised, emails). ``customer`` is the data
    subject; it is None when the retention job anonymises tickets that have no known
    customer (then ``identifiers`` is empty and only detected PII is replaced)."""

    customer: Customer | None
    ticket_ids: Sequence[int]
    identifiers: Sequence[str] = ()


@dataclass
class Export:
    """A part's share of the export ZIP: top-level keys of ``customer.json`` and files
    (path in the ZIP → bytes)."""

    data: dict[str, Any] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Part:
    """One app's part. Every function is optional.

    - ``export(subject, with_files)``: the subject's data held by the app (unmasked: it is
      their own) — the app's rows about the customer and those linked to their tickets;
      ``with_files=False`` when only the JSON is wanted.
    - ``anonymise(subject, tally, write)``: remove the personal data from the app's rows
      about the customer and those linked to ``subject.ticket_ids``, recording each row
      changed (or to change) in ``tally`` by kind; ``write=False`` only counts (the
      retention preview). Runs inside the caller's transaction.
    - ``count(subject)``: how many records the app holds about the subject, by label (the
      page shown before an export or an anonymisation).
    - ``orphans(client_id, after, limit)`` and ``anonymise_orphans(client_id, ids, tally,
      write)``: for the retention job, the ids (ascending, past ``after``) of the client's
      rows with personal data linked to no customer and no ticket, and how to anonymise a
      batch of them; ``count_orphans(client_id)`` for its progress bar. The job walks them
      after the customers and the tickets without a customer, one phase per part (named
      ``name``), in ``order``.
    - ``kinds``: labels of the kinds the part puts in a tally (the retention certificate).
    """

    name: str
    order: int = 100
    export: Callable[[Subject, bool], Export] | None = None
    anonymise: Callable[[Subject, Tally, bool], None] | None = None
    count: Callable[[Subject], Mapping[str, int]] | None = None
    orphans: Callable[[int, int, int], list[int]] | None = None
    anonymise_orphans: Callable[[int, Sequence[int], Tally, bool], None] | None = None
    count_orphans: Callable[[int], int] | None = None
    kinds: Mapping[str, str] = field(default_factory=dict)


_registry: dict[str, Part] = {}


def part_register(part: Part) -> Part:
    """Add (or replace) an app's part. ``name`` is also the retention job's phase name for
    the part's orphans, stored on unfinished runs: keep it stable (``customers``,
    ``tickets`` and ``done`` are the job's own phases)."""
    if part.orphans is not None and part.name in ("customers", "tickets", "done"):
        raise ValueError(f"reserved phase name: {part.name}")
    if (part.orphans is None) != (part.anonymise_orphans is None):
        raise ValueError(f"part {part.name}: orphans and anonymise_orphans go together")
    _registry[part.name] = part
    return part


def part_unregister(name: str) -> None:
    _registry.pop(name, None)


def parts() -> list[Part]:
    """The registered parts, by ``order`` then name."""
    return sorted(_registry.values(), key=lambda p: (p.order, p.name))
