from __future__ import annotations

from django.db.models import QuerySet

from kefu.accounts.models import User
from kefu.accounts.roles import CLIENT_ROLES, Role
from kefu.contracts.models import Client


def clients_visible_to(user: User) -> QuerySet[Client]:
    ids = user.visible_client_ids()
    qs = Client.objects.filter(is_active=True)
    return qs if ids is None else qs.filter(id__in=ids)


def client_visible_by_code(user: User, code: str) -> Client | None:
    """One query: the active client with this code, if the user may see it."""
    qs = Client.objects.filter(is_active=True, code=code)
    if user.role in CLIENT_ROLES:
        return qs.filter(pk=user.client_id or 0).first()
    if user.role != Role.ADMIN:
        qs = qs.filter(provider_staff=user)
    return qs.first()
