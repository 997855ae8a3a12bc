"""Bulk edit: the same change to many tickets, made ticket by ticket through the same
services as a single edit, each in its own transaction (its events, SLA clocks and live
updates as for one). One ticket refused (a status it cannot take, an agent who does not
serve its client) is reported by its number and leaves the others changed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.accounts.roles import Perm
from kefu.tickets import services
from kefu.tickets.models import Ticket
from kefu.tickets.selectors import agents_serving

MAX_BULK = 1000
# The "assignee" value that unassigns.
UNASSIGN = "none"


@dataclass(frozen=True)
class BulkChange:
    """What to change; ``None`` leaves it as it is."""

    assignee: User | None = None
    unassign: bool = False
    status: str | None = None
    priority: str | None = None
    add_tags: Sequence[str] = ()

    @property
    def empty(self) -> bool:
        return not (self.assignee or self.unassign or self.status or self.priority or self.add_tags)


@dataclass
class BulkResult:
    changed: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (number, why)
    missing: int = 0  # ids the user cannot see (or that do not exist)


def _apply(ticket: Ticket, actor: User, change: BulkChange) -> None:
    wanted = change.assignee.pk if change.assignee is not None else None
    if (change.assignee is not None or change.unassign) and wanted != ticket.assignee_id:
        services.ticket_assign(ticket=ticket, actor=actor, assignee=change.assignee)
    if change.priority or change.add_tags:
        tags = None
        if change.add_tags:
            tags = sorted({t.name for t in ticket.tags.all()} | set(change.add_tags))
        services.ticket_update(ticket=ticket, actor=actor, priority=change.priority, tags=tags)
    if change.status:
        services.ticket_set_status(ticket=ticket, actor=actor, status=change.status)


def tickets_bulk_update(
    *, actor: User, ticket_ids: Sequence[int], change: BulkChange
) -> BulkResult:
    """Apply ``change`` to each of ``ticket_ids`` the actor can see, oldest first."""
    if change.empty:
        raise ValidationError(_("请选择要批量修改的内容"))
    if len(ticket_ids) > MAX_BULK:
        raise ValidationError(_("一次最多批量修改 %(n)s 张工单") % {"n": MAX_BULK})
    needed = [Perm.TICKET_ASSIGN] if change.assignee or change.unassign else []
    needed += [Perm.TICKET_STATUS] if change.status else []
    needed += [Perm.TICKET_EDIT] if change.priority or change.add_tags else []
    if not all(actor.has_kefu_perm(p) for p in needed):
        raise PermissionDenied
    ids = sorted(set(ticket_ids))
    visible = dict(Ticket.objects.visible_to(actor).filter(pk__in=ids).values_list("pk", "number"))
    result = BulkResult(missing=len(ids) - len(visible))
    for pk, number in sorted(visible.items()):
        try:
            with transaction.atomic():
                ticket = Ticket.objects.select_for_update().filter(pk=pk).first()
                if ticket is None:  # deleted meanwhile
                    result.missing += 1
                    continue
                _apply(ticket, actor, change)
            result.changed.append(number)
        except ValidationError as exc:
            result.refused.append((number, " ".join(exc.messages)))
    return result


def bulk_assignable_agents(user: User) -> list[User]:
    """Agents who serve at least one of the user's clients (each ticket still checks its
    own client when assigned)."""
    return list(agents_serving(user.visible_client_ids()))
