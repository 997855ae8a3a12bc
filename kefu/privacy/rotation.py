"""Key rotation for encrypted fields: which key protects how many values, re-encryption
under the current key, and recomputing the blind indexes (each app registers its indexed
models with :func:`blind_index_register`).

Rotation works in batches, each in its own transaction with the rows locked, so it can run
while kefu serves and can be interrupted: values already under the current key are not
touched again, and the next run carries on where the last one stopped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.db.models import Q

from kefu.accounts.models import User
from kefu.core.audit import audit_record
from kefu.core.models import AuditAction
from kefu.privacy.crypto import token_key_id
from kefu.privacy.fields import EncryptedTextField, Sealed, key_ring

EMPTY = "-"


def encrypted_models() -> list[tuple[type[models.Model], list[EncryptedTextField]]]:
    """Every model with encrypted columns, and those columns."""
    found = []
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if fields:
            found.append((model, fields))
    return found


def _label(model: type[models.Model], f: EncryptedTextField) -> str:
    return f"{model._meta.label_lower}.{f.name}"


def encryption_status() -> dict[str, Counter[str]]:
    """Per column (``tickets.customer.phones``): how many stored values each key id
    protects; ``"-"`` counts empty values (stored in clear as empty)."""
    status: dict[str, Counter[str]] = {}
    for model, fields in encrypted_models():
        for f in fields:
            counts: Counter[str] = Counter()
            rows = model._base_manager.values_list(f.attname, flat=True)
            for value in rows.iterator(chunk_size=2000):
                counts[token_key_id(value.token) if isinstance(value, Sealed) else EMPTY] += 1
            status[_label(model, f)] = counts
    return status


def _stale(fields: list[EncryptedTextField], prefix: str) -> Q:
    """Rows with at least one non-empty value not under the current key. The prefix is
    given as plain text: a pattern lookup passes its value to the database as ``str()``
    of it, and a Sealed's text is its repr."""
    stale = Q(pk__in=[])
    for f in fields:
        stale |= ~Q(**{f.attname: ""}) & ~Q(**{f"{f.attname}__startswith": prefix})
    return stale


@dataclass
class RotationResult:
    current: str
    rows: int = 0
    values_from: Counter[str] = field(default_factory=Counter)


def encryption_pending() -> int:
    """How many rows hold a value not under the current key."""
    prefix = key_ring().current_prefix
    return sum(
        model._base_manager.filter(_stale(fields, prefix)).count()
        for model, fields in encrypted_models()
    )


def _rotate_batch(
    model: type[models.Model],
    fields: list[EncryptedTextField],
    *,
    after: object,
    size: int,
    result: RotationResult,
) -> object | None:
    """Re-encrypt one batch of stale rows past primary key ``after``; the last key done,
    or None when there is nothing left."""
    ring = key_ring()
    with transaction.atomic():
        rows = list(
            model._base_manager.select_for_update()
            .filter(_stale(fields, ring.current_prefix), pk__gt=after)
            .order_by("pk")[:size]
        )
        for row in rows:
            changes: dict[str, Sealed | str] = {}
            for f in fields:
                stored = row.__dict__.get(f.attname)
                if isinstance(stored, Sealed) and ring.needs_rotation(stored.token):
                    result.values_from[token_key_id(stored.token)] += 1
                    changes[f.attname] = f.seal(row, f.open(row, stored))
            if changes:
                model._base_manager.filter(pk=row.pk).update(**changes)
                result.rows += 1
    return rows[-1].pk if rows else None


def encryption_rotate(
    *,
    actor: User | None = None,
    batch_size: int = 500,
    progress: Callable[[int], object] | None = None,
) -> RotationResult:
    """Re-encrypt every value not under the current key (the first of KEFU_FIELD_KEYS).

    Idempotent and resumable. A value under a key no longer configured stops the run with
    DecryptionError naming the key (batches done so far stay done). Records one
    ``key_rotate`` audit event with the counts."""
    ring = key_ring()
    result = RotationResult(current=ring.current_id)
    for model, fields in encrypted_models():
        after: object = 0
        while True:
            done_before = result.rows
            last = _rotate_batch(model, fields, after=after, size=batch_size, result=result)
            if last is None:
                break
            after = last
            if progress is not None:
                progress(result.rows - done_before)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditAction.KEY_ROTATE,
            data={
                "current_key": result.current,
                "rows": result.rows,
                "values_from": dict(result.values_from),
            },
        )
    return result


@dataclass(frozen=True)
class BlindIndexed:
    """A model with blind-index columns, registered by its app: ``compute(row)`` sets
    ``fields`` from the row's decrypted values (it does not save)."""

    model: type[models.Model]
    fields: tuple[str, ...]
    compute: Callable[[Any], None]


_indexed: dict[str, BlindIndexed] = {}


def blind_index_register(
    *, model: type[models.Model], fields: Sequence[str], compute: Callable[[Any], None]
) -> None:
    """Called by the app that owns ``model`` in its ``AppConfig.ready()``, so that
    :func:`blind_index_rebuild` recomputes its indexes after KEFU_INDEX_KEY changed."""
    _indexed[model._meta.label_lower] = BlindIndexed(model, tuple(fields), compute)


def _rebuild_batch(indexed: BlindIndexed, after: object, size: int) -> tuple[list[Any], int]:
    """Recompute one batch of rows past primary key ``after``; the rows and how many
    changed."""
    changed = 0
    with transaction.atomic():
        rows = list(
            indexed.model._base_manager.select_for_update()
            .filter(pk__gt=after)
            .order_by("pk")[:size]
        )
        for row in rows:
            before = [getattr(row, f) for f in indexed.fields]
            indexed.compute(row)
            if [getattr(row, f) for f in indexed.fields] != before:
                row.save(update_fields=list(indexed.fields))
                changed += 1
    return rows, changed


def blind_index_rebuild(
    *,
    actor: User | None = None,
    batch_size: int = 500,
    progress: Callable[[int], object] | None = None,
) -> int:
    """Recompute every registered blind index (the customers' phone, email and name
    indexes …) under the configured index key (after KEFU_INDEX_KEY changed). Returns how
    many rows' indexes changed."""
    changed = 0
    for indexed in _indexed.values():
        after: object = 0
        while True:
            rows, n = _rebuild_batch(indexed, after, batch_size)
            changed += n
            if not rows:
                break
            after = rows[-1].pk
            if progress is not None:
                progress(len(rows))
    with transaction.atomic():
        audit_record(
            actor=actor, action=AuditAction.KEY_ROTATE, field="blind_index", data={"rows": changed}
        )
    return changed
