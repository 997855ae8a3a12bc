"""Masking in templates: ``{% load privacy %}`` then ``{{ m.body_text|mask_pii|linebreaksbr }}``,
``{{ ticket.customer|customer_label }}``. The filters return plain text, which the template
still escapes."""

from __future__ import annotations

from typing import Any

from django import template

from kefu.privacy import masking

register = template.Library()


@register.filter
def mask_pii(value: Any) -> str:
    """Free text with every detected phone, ID, card number and address masked."""
    return masking.text("" if value is None else str(value))


@register.filter
def customer_label(customer: Any) -> str:
    return masking.customer_label(customer or None)


@register.filter
def customer_masked(customer: Any, field: str) -> list[str]:
    """``{{ customer|customer_masked:"phones" }}``: the masked values of one field."""
    return masking.customer_masked(customer, field) if customer else []


@register.filter
def identifier_masked(identifier: Any) -> str:
    """``{{ row|identifier_masked }}``: a customer identifier's value, masked."""
    return masking.identifier(identifier.kind, identifier.value)


@register.filter
def message_author(message: Any) -> str:
    return masking.message_author(message)


@register.filter
def mask_message(message: Any) -> str:
    """A message's text, numbers and the sender's own name masked."""
    return masking.message_text(message)
