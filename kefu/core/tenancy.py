"""The one tenant-scoping mechanism.

Every row that holds a client's data inherits :class:`ClientOwned`; its manager offers
``visible_to(user)``, which pages, API and exports call instead of filtering by client by
hand. A model may narrow the rule further (a client department sees only the tickets
escalated to it) by overriding :meth:`ClientScopedQuerySet.narrow_for`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.http import Http404

if TYPE_CHECKING:
    from kefu.accounts.models import User
    from kefu.contracts.models import Client


class ClientScopedQuerySet(models.QuerySet[Any]):
    def visible_to(self, user: User) -> Self:
        if not user.is_authenticated or not user.is_active:
            return self.none()
        client_ids = user.visible_client_ids()
        qs = self if client_ids is None else self.filter(client_id__in=client_ids)
        return qs.narrow_for(user)

    def narrow_for(self, user: User) -> Self:
        """Extra, per-model restriction for the user's role; default: none."""
        return self


def client_key(
    *, db_index: bool = True, db_constraint: bool = True
) -> models.ForeignKey[Client, Client]:
    """The ``client`` column of a client-owned row. A model whose composite indexes already
    start with ``client`` passes ``db_index=False``: a second index on the same leading
    column costs every insert and serves no query. A ticket's child rows (messages,
    history) pass ``db_constraint=False``: their ticket's own foreign key already ties them
    to a client that cannot be deleted while it has tickets, and the database would
    otherwise check the client once more for every row (a history import writes millions)."""
    return models.ForeignKey(
        "contracts.Client",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=db_index,
        db_constraint=db_constraint,
    )


class ClientOwned(models.Model):
    """Base for every client-owned row: carries ``client_id``. Each concrete model declares
    ``objects`` as a :class:`ClientScopedQuerySet` (or a subclass narrowing it further)."""

    client = client_key()

    class Meta:
        abstract = True


M = TypeVar("M", bound=models.Model)


def get_visible_or_404(model: type[M], user: User, **lookup: Any) -> M:
    """Fetch one client-owned row the user may see, or 404 (never 403: no existence leak)."""
    manager = model._default_manager
    qs = manager.all().visible_to(user)  # type: ignore[attr-defined]
    try:
        return qs.get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404("not found") from exc
