"""Model fields encrypted at rest, and the blind indexes used to look rows up by them.

An encrypted field keeps its Python value (``customer.name`` is a str, ``customer.phones``
a list) and stores ``v1:<key id>:<data>`` (see :mod:`kefu.privacy.crypto`). The ciphertext
is bound to its table, column and the row's client (``bind_to``), so each value is
encrypted when the row is saved and decrypted when the attribute is first read: a value
loaded but never read costs nothing, and one saved unread is written back unchanged.

What follows from encryption:
- Empty values are stored as ``""`` (emptiness is not secret: the length would tell).
- Filtering or ``update()`` with a plain value raises TypeError: ciphertext never equals
  anything. Exact lookups go through a blind-index column (:func:`phone_index`,
  :func:`email_index`, :func:`name_index`, :func:`wechat_openid_index` …); substring
  search is impossible by design.
- ``values()``/``values_list()`` of an encrypted column give :class:`Sealed` tokens, since
  there is no row to bind them to; read the attribute of a model instance instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django import forms
from django.conf import settings
from django.db import models
from django.db.models.query_utils import DeferredAttribute

from kefu.privacy.crypto import KeyRing


@lru_cache(maxsize=4)
def _parse_ring(field_keys: str, index_key: str) -> KeyRing:
    return KeyRing.parse(field_keys, index_key)


def key_ring() -> KeyRing:
    """The configured key ring (settings ``KEFU_FIELD_KEYS`` / ``KEFU_INDEX_KEY``)."""
    return _parse_ring(settings.KEFU_FIELD_KEYS, settings.KEFU_INDEX_KEY)


def phone_index(value: str) -> str:
    """Blind index of a phone number, for ``Customer.phone_key`` lookups (``""`` if none)."""
    return key_ring().phone_index(value)


def email_index(value: str) -> str:
    """Blind index of an email address, for ``Customer.email_key`` lookups."""
    return key_ring().email_index(value)


def wechat_openid_index(value: str) -> str:
    """Blind index of a WeChat openid (one official account's id of a person)."""
    return key_ring().account_index("wechat_openid", value)


def wechat_unionid_index(value: str) -> str:
    """Blind index of a WeChat unionid (the same person across a client's accounts)."""
    return key_ring().account_index("wechat_unionid", value)


def portal_account_index(value: str) -> str:
    """Blind index of a customer's portal login."""
    return key_ring().account_index("portal", value)


def external_id_index(value: str) -> str:
    """Blind index of the id the client's own system gives a customer."""
    return key_ring().account_index("external", value)


def name_index(value: str) -> str:
    """Blind index of a person's name (whole name, case and spacing folded)."""
    return key_ring().name_index(value)


def encryption_context(table: str, column: str, owner: object) -> str:
    """The associated data of a value: which column of which client's row it belongs to."""
    return f"{table}.{column}|{owner}"


@dataclass(frozen=True)
class Sealed:
    """A stored value not decrypted yet: the token as read from (or for) the database."""

    token: str

    def __repr__(self) -> str:
        return f"Sealed({self.token.split(':', 2)[1] if self.token.count(':') >= 2 else '?'})"


class _EncryptedAttribute(DeferredAttribute):
    """Decrypts on first read, with the row's ``bind_to`` value as part of the context."""

    field: EncryptedTextField

    def __get__(self, instance: Any, cls: Any = None) -> Any:
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if isinstance(value, Sealed):
            value = self.field.open(instance, value)
            instance.__dict__[self.field.attname] = value
        return value

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.field.attname] = value


class EncryptedTextField(models.TextField):
    """A string encrypted at rest. ``max_length`` is validated, not a column limit."""

    descriptor_class = _EncryptedAttribute
    _pyi_private_set_type: str
    _pyi_private_get_type: str

    def __init__(self, *args: Any, bind_to: str = "client_id", **kwargs: Any) -> None:
        self.bind_to = bind_to
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.bind_to != "client_id":
            kwargs["bind_to"] = self.bind_to
        return name, path, args, kwargs

    def to_text(self, value: Any) -> str:
        return str(value)

    def from_text(self, text: str) -> Any:
        return text

    def empty(self) -> Any:
        return ""

    def context(self, instance: models.Model) -> str:
        return encryption_context(
            self.model._meta.db_table, self.column, getattr(instance, self.bind_to)
        )

    def open(self, instance: models.Model, sealed: Sealed) -> Any:
        """Decrypt ``sealed`` as read from ``instance``'s row (DecryptionError if not ours)."""
        return self.from_text(key_ring().decrypt(sealed.token, context=self.context(instance)))

    def seal(self, instance: models.Model, value: Any) -> Sealed | str:
        if isinstance(value, Sealed):
            return value
        if value is None or value == self.empty():
            return ""
        text = self.to_text(value)
        return Sealed(key_ring().encrypt(text, context=self.context(instance)))

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        return self.seal(model_instance, model_instance.__dict__.get(self.attname))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return self.empty()
        return Sealed(value)

    def get_prep_value(self, value: Any) -> Any:
        if isinstance(value, Sealed):
            return value.token
        if value is None or value == "" or value == self.empty():
            return ""
        raise TypeError(
            f"{self.model.__name__}.{self.name} is encrypted: it cannot be compared with or "
            "set to a plain value in a query; use its blind index, or save() the instance"
        )

    def to_python(self, value: Any) -> Any:
        return value

    def formfield(
        self, form_class: Any = None, choices_form_class: Any = None, **kwargs: Any
    ) -> Any:
        defaults: dict[str, Any] = {"widget": forms.TextInput}
        if form_class is not None:
            defaults["form_class"] = form_class
        if choices_form_class is not None:
            defaults["choices_form_class"] = choices_form_class
        defaults.update(kwargs)
        return super().formfield(**defaults)


class EncryptedJSONField(EncryptedTextField):
    """A JSON value (e.g. a list of phone numbers) encrypted at rest as one value."""

    _pyi_private_set_type: Any
    _pyi_private_get_type: Any

    def to_text(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def from_text(self, text: str) -> Any:
        return json.loads(text)

    def empty(self) -> Any:
        return self.get_default() if self.has_default() else None

    def value_to_string(self, obj: models.Model) -> Any:
        return self.value_from_object(obj)

    def formfield(
        self, form_class: Any = None, choices_form_class: Any = None, **kwargs: Any
    ) -> Any:
        return models.Field.formfield(self, form_class or forms.JSONField, None, **kwargs)
