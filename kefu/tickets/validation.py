"""The limits on what goes into a ticket, one definition for pages, API and channels alike.

The ticket services call these checks, so whichever edge a value comes through it meets the
same rules; the page forms and API schemas may refuse earlier with the same numbers (they
import them), but the services are the authority. Each check raises Django's
``ValidationError`` keyed by the field, as the services' other checks do."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

MAX_BODY = 100_000  # characters of one message, note, escalation reason or answer
MAX_TAGS = 20  # categories on one ticket
MAX_TAG = 64  # characters of one category name
MAX_NAME = 200
MAX_PHONE = 40
MAX_EMAIL = 254
MAX_EXTERNAL_ID = 100


def text_check(text: str, *, field: str = "body") -> None:
    if len(text) > MAX_BODY:
        raise ValidationError(
            {field: _("内容过长：最多 %(max)s 个字符") % {"max": f"{MAX_BODY:,}"}}
        )


def tags_check(names: Sequence[str]) -> None:
    clean = {n.strip() for n in names if n.strip()}
    if len(clean) > MAX_TAGS:
        raise ValidationError({"tags": _("分类最多 %(max)s 个") % {"max": MAX_TAGS}})
    if any(len(n) > MAX_TAG for n in clean):
        raise ValidationError({"tags": _("每个分类最多 %(max)s 个字符") % {"max": MAX_TAG}})


def contact_check(contact: Any) -> None:
    """A customer's contact details (``CustomerData``: ``name``, ``phone``, ``email``,
    ``external_id``): their lengths, and an email address that is one."""
    for field, limit in (
        ("name", MAX_NAME),
        ("phone", MAX_PHONE),
        ("email", MAX_EMAIL),
        ("external_id", MAX_EXTERNAL_ID),
    ):
        if len(str(getattr(contact, field, "")).strip()) > limit:
            raise ValidationError({field: _("最多 %(max)s 个字符") % {"max": limit}})
    email = str(getattr(contact, "email", "")).strip()
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise ValidationError({"email": _("无效的邮箱地址：%(v)s") % {"v": email}}) from exc


def ticket_check(body: str, tags: Sequence[str], contact: Any | None) -> None:
    """A new ticket's first message, categories and, when given, the customer's details."""
    text_check(body)
    tags_check(tags)
    if contact is not None:
        contact_check(contact)
