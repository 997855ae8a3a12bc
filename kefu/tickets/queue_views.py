"""Queue views: the built-in ones every agent has ("我的待办", "即将超时", "未分派", …) and the
filters users save, personal or shared, each with its live count. All counts of a page
come from one query (conditional counts over the user's visible tickets)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.accounts.models import User
from kefu.accounts.roles import Perm
from kefu.tickets.models import SavedView, Ticket
from kefu.tickets.selectors import TicketFilters, ticket_filter

# The parameters of the queue page a view keeps; anything else in a saved query is dropped.
QUERY_KEYS = (
    "client",
    "status",
    "priority",
    "kind",
    "channel",
    "assignee",
    "escalated",
    "undelivered",
    "due_soon",
    "q",
    "period",
    "resolved",
    "sort",
)
MAX_VIEWS = 30


@dataclass(frozen=True)
class QueueView:
    key: str
    name: str
    query: str
    saved: SavedView | None = None

    @property
    def filters(self) -> TicketFilters:
        return filters_from(QueryDict(self.query))


BUILT_IN = (
    ("mine", gettext_lazy("我的待办"), {"assignee": "me", "status": "active"}),
    ("due_soon", gettext_lazy("即将超时"), {"due_soon": "1", "status": "active", "sort": "due"}),
    ("unassigned", gettext_lazy("未分派"), {"assignee": "none", "status": "active"}),
    ("escalated", gettext_lazy("已升级"), {"escalated": "1", "status": "active"}),
    ("undelivered", gettext_lazy("回复未送达"), {"undelivered": "1", "status": ""}),
)


def filters_from(g: QueryDict) -> TicketFilters:
    """The queue's filters from its query string (the page and saved views alike)."""
    return TicketFilters(
        client=g.get("client", ""),
        status=g.get("status", "active"),
        priority=g.get("priority", ""),
        kind=g.get("kind", ""),
        channel=g.get("channel", ""),
        assignee=g.get("assignee", ""),
        escalated=g.get("escalated") == "1",
        undelivered=g.get("undelivered") == "1",
        due_soon=g.get("due_soon") == "1",
        q=g.get("q", "")[:100],
        period=g.get("period", "")[:10],
        resolved=g.get("resolved", "")[:10],
    )


def clean_query(g: QueryDict) -> str:
    """The view-relevant part of a queue query string, in a fixed order."""
    return urlencode([(k, g[k]) for k in QUERY_KEYS if g.get(k, "") != ""])


def views_for(user: User) -> list[QueueView]:
    built_in = [
        QueueView(key, str(name), clean_query(QueryDict(urlencode(query))))
        for key, name, query in BUILT_IN
    ]
    saved = SavedView.objects.filter(Q(owner=user) | Q(shared=True, owner__client=user.client))
    return built_in + [
        QueueView(f"saved-{v.pk}", v.name, v.query, v)
        for v in saved.select_related("owner").order_by("name", "id")[:MAX_VIEWS]
    ]


def view_counts(user: User, views: list[QueueView]) -> dict[str, int]:
    """How many of the user's visible tickets each view holds, in one query."""
    if not views:
        return {}
    counts = Ticket.objects.visible_to(user).aggregate(
        **{
            f"n{i}": Count("pk", filter=ticket_filter(user=user, filters=view.filters))
            for i, view in enumerate(views)
        }
    )
    return {view.key: int(counts[f"n{i}"]) for i, view in enumerate(views)}


@transaction.atomic
def saved_view_create(*, user: User, name: str, query: QueryDict, shared: bool) -> SavedView:
    if not user.has_kefu_perm(Perm.TICKET_REPLY):
        raise PermissionDenied
    name = name.strip()
    if not name or len(name) > 40:
        raise ValidationError({"name": _("视图名称为 1–40 个字")})
    if SavedView.objects.filter(owner=user).count() >= MAX_VIEWS:
        raise ValidationError({"name": _("最多保存 %(n)s 个视图") % {"n": MAX_VIEWS}})
    try:
        with transaction.atomic():
            return SavedView.objects.create(
                owner=user, name=name, query=clean_query(query), shared=shared
            )
    except IntegrityError as exc:
        raise ValidationError({"name": _("已有同名视图")}) from exc


@transaction.atomic
def saved_view_delete(*, user: User, view: SavedView) -> None:
    if view.owner_id != user.pk:
        raise PermissionDenied(_("只能删除自己保存的视图"))
    view.delete()
