"""Masked forms of personal data, shared by pages (the ``privacy`` template filters), the
API and ``kefu ticket show`` (``kefu.tickets.serialize``) and reports.

Masking applies to every role: a raw value leaves kefu only through an explicit, audited
reveal (:mod:`kefu.privacy.reveal`)."""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser
from typing import TYPE_CHECKING

import nh3

from kefu.privacy import pii

if TYPE_CHECKING:
    from kefu.tickets.models import Customer, Message


def text(value: str | None) -> str:
    """Free text (a message, a subject, a comment) with every detected number masked."""
    return pii.mask_text(value or "")


def name(value: str | None) -> str:
    """A person's name: 张*, 欧阳**, J***. A name that holds a number or address (an
    e-mail sender shown as its address) is masked as text instead."""
    value = value or ""
    if pii.find(value):
        return pii.mask_text(value)
    return pii.mask_name(value)


def customer_values(customer: Customer, field: str) -> list[str]:
    """The raw values of ``name``, ``phones`` or ``emails``; only for a reveal."""
    if field == "name":
        return [customer.name] if customer.name else []
    if field == "phones":
        return [str(p) for p in customer.phones]
    if field == "emails":
        return [str(e) for e in customer.emails]
    raise ValueError(f"not a customer field: {field}")


def customer_masked(customer: Customer, field: str) -> list[str]:
    values = customer_values(customer, field)
    if field == "name":
        return [name(v) for v in values]
    if field == "phones":
        return [pii.mask_phone(v) for v in values]
    return [pii.mask_email(v) for v in values]


def identifier(kind: str, value: str) -> str:
    """One customer identifier (kefu.tickets.models.IdentifierKind) masked: a phone or email
    as in the customer fields; an account id (WeChat openid/unionid, portal login, external
    id) keeps its first two and last two characters."""
    if kind == "phone":
        return pii.mask_phone(value)
    if kind == "email":
        return pii.mask_email(value)
    if len(value) <= 6:
        return "*" * len(value) or "—"
    return f"{value[:2]}***{value[-2:]}"


def customer_label(customer: Customer | None) -> str:
    """How lists and headers name a customer: the masked name, else ``#id``."""
    if customer is None:
        return "—"
    return name(customer.name) if customer.name else f"#{customer.pk}"


def message_author(message: Message) -> str:
    """The customer's name on inbound messages is masked; agents' names are not personal
    data of the customer."""
    if message.direction == "in":
        return name(message.author_name)
    return message.author_name


def _known_names(message: Message) -> list[str]:
    """The sender's own name, which customers sign their mails and chats with: a name is
    not a pattern the detector can find, but on an inbound message kefu knows it."""
    author = (message.author_name or "").strip()
    if message.direction != "in" or len(author) < 2 or pii.find(author):
        return []
    return [author]


def _mask_names(value: str, names: list[str]) -> str:
    for known in names:
        value = value.replace(known, pii.mask_name(known))
    return value


def message_text(message: Message) -> str:
    """A message's text with detected numbers and the sender's own name masked."""
    return _mask_names(text(message.body_text), _known_names(message))


def message_html(message: Message) -> str:
    return _mask_names(html(message.body_html), [escape(n) for n in _known_names(message)])


class _HtmlMasker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.masked: list[str] = []

    def _tag(self, tag: str, attrs: list[tuple[str, str | None]], close: str) -> str:
        rendered = "".join(f' {key}="{escape(pii.mask_text(value or ""))}"' for key, value in attrs)
        return f"<{tag}{rendered}{close}>"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.parts.append(self._tag(tag, attrs, ""))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.parts.append(self._tag(tag, attrs, " /"))

    def handle_endtag(self, tag: str) -> None:
        self.parts.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        masked = pii.mask_text(data)
        self.masked.append(masked)
        self.parts.append(escape(masked, quote=False))


def html(value: str | None) -> str:
    """Sanitised HTML with every text node and attribute value masked, cleaned again by nh3.
    A number split across elements (``<b>138</b>00138000``) is not seen node by node: when
    the joined text still holds one, the message falls back to its masked plain text."""
    if not value:
        return ""
    parser = _HtmlMasker()
    parser.feed(value)
    parser.close()
    if pii.find("".join(parser.masked)):
        plain = escape(pii.mask_text("".join(parser.masked)), quote=False)
        return nh3.clean("<p>" + plain.replace("\n", "<br>") + "</p>")
    return nh3.clean("".join(parser.parts))
