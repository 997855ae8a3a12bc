"""Reveal: the one way a raw personal value leaves kefu. Each reveal needs the role's
permission (``Perm.REVEAL_*`` in :mod:`kefu.accounts.roles`) and a reason, and is written to
the audit log in the same transaction; the log holds counts and masked values, never the
raw ones."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.roles import Perm
from kefu.core.audit import audit_record
from kefu.core.models import AuditAction
from kefu.privacy import masking, pii
from kefu.tickets.models import Customer, Message

if TYPE_CHECKING:
    from django.http import HttpRequest

    from kefu.accounts.models import User

CUSTOMER_FIELD_PERMS = {
    "name": Perm.REVEAL_NAME,
    "phones": Perm.REVEAL_PHONE,
    "emails": Perm.REVEAL_EMAIL,
}
MAX_REASON = 500


def _check(user: User, perm: Perm, reason: str, visible: bool) -> str:
    if not visible or not user.has_kefu_perm(perm):
        raise PermissionDenied(_("你的角色不能查看该信息的明文。"))
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("请填写查看明文的事由。")})
    if len(reason) > MAX_REASON:
        raise ValidationError({"reason": _("事由最多 500 字。")})
    return reason


@transaction.atomic
def customer_reveal(
    *,
    user: User,
    customer: Customer,
    field: str,
    reason: str,
    request: HttpRequest | None = None,
) -> list[str]:
    """The raw values of one customer field (``name``, ``phones`` or ``emails``).

    Raises ``ValidationError`` for an unknown field or an empty reason and
    ``PermissionDenied`` when the user's role may not reveal the field or cannot see the
    customer."""
    perm = CUSTOMER_FIELD_PERMS.get(field)
    if perm is None:
        raise ValidationError({"field": _("只能查看姓名、电话或邮箱。")})
    visible = Customer.objects.visible_to(user).filter(pk=customer.pk).exists()
    reason = _check(user, perm, reason, visible)
    values = masking.customer_values(customer, field)
    audit_record(
        actor=user,
        action=AuditAction.REVEAL,
        obj=customer,
        field=field,
        reason=reason,
        data={"count": len(values), "masked": masking.customer_masked(customer, field)},
        request=request,
    )
    return values


@transaction.atomic
def message_reveal(
    *, user: User, message: Message, reason: str, request: HttpRequest | None = None
) -> str:
    """The unmasked text of one message (``body_text``), for a role with
    ``Perm.REVEAL_MESSAGE_PII``. Same errors as :func:`customer_reveal`."""
    visible = Message.objects.visible_to(user).filter(pk=message.pk).exists()
    reason = _check(user, Perm.REVEAL_MESSAGE_PII, reason, visible)
    kinds = dict(Counter(match.kind for match in pii.find(message.body_text)))
    audit_record(
        actor=user,
        action=AuditAction.REVEAL,
        obj=message,
        field="body_text",
        reason=reason,
        data={"ticket": message.ticket_id, "kinds": kinds},
        request=request,
    )
    return message.body_text
