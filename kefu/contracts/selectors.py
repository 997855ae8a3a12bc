from __future__ import annotations

from django.db.models import QuerySet

from kefu.accounts.models import User
from kefu.contracts.models import Client


def clients_visible_to(user: User) -> QuerySet[Client]:
    ids = user.visible_client_ids()
    qs = Client.objects.filter(is_active=True)
    return qs if ids is None else qs.filter(id__in=ids)
