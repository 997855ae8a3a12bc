from __future__ import annotations

from django.db.models import QuerySet

from kefu.accounts.models import User
from kefu.accounts.roles import CLIENT_ROLES, Role
from kefu.contracts.models import Client
from kefu.core.prepared import PreparedQuery


def clients_visible_to(user: User) -> QuerySet[Client]:
    ids = user.visible_client_ids()
    qs = Client.objects.filter(is_active=True)
    return qs if ids is None else qs.filter(id__in=ids)


def _active_by_code(code: str) -> QuerySet[Client]:
    return Client.objects.filter(is_active=True, code=code).order_by()


# The API names the client of each ticket it creates: the SQL is written once per kind of
# user (kefu/core/prepared.py).
_CLIENT_FOR_ADMIN = PreparedQuery(_active_by_code)
_CLIENT_OF_CLIENT_USER = PreparedQuery(lambda code, pk: _active_by_code(code).filter(pk=pk))
_CLIENT_OF_STAFF = PreparedQuery(
    lambda code, user_id: _active_by_code(code).filter(provider_staff=user_id)
)


def client_visible_by_code(user: User, code: str) -> Client | None:
    """One query: the active client with this code, if the user may see it."""
    if user.role in CLIENT_ROLES:
        return _CLIENT_OF_CLIENT_USER.first(code, user.client_id or 0)
    if user.role == Role.ADMIN:
        return _CLIENT_FOR_ADMIN.first(code)
    return _CLIENT_OF_STAFF.first(code, user.pk)
