"""Writing to the audit log. Call :func:`audit_record` inside the transaction of the change
or access it records, so the record and the change commit or roll back together."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

from kefu.core.models import AuditEvent
from kefu.core.net import client_ip

if TYPE_CHECKING:
    from django.http import HttpRequest

    from kefu.accounts.models import User


def _client_id_of(obj: models.Model | None) -> int | None:
    if obj is None:
        return None
    if obj._meta.label_lower == "contracts.client":
        return int(obj.pk)
    client_id = getattr(obj, "client_id", None)
    return int(client_id) if client_id is not None else None


def _label(obj: models.Model | None) -> str:
    """A record's own ``audit_label`` when its ``str()`` would carry personal data."""
    if obj is None:
        return ""
    return str(getattr(obj, "audit_label", None) or obj)[:200]


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj: models.Model | None = None,
    client_id: int | None = None,
    field: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Append one audit record. ``obj`` names the record acted on (its client is taken from
    it unless ``client_id`` is given); ``actor=None`` is kefu itself (a scheduled job).
    ``data`` must not hold raw personal data: field names, counts, masked values."""
    ip = client_ip(request) if request is not None else None
    return AuditEvent.objects.create(
        actor=actor,
        actor_name=actor.get_username() if actor is not None else "kefu",
        client_id=client_id if client_id is not None else _client_id_of(obj),
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=_label(obj),
        field=field,
        reason=reason,
        data=data or {},
        ip=ip,
    )
