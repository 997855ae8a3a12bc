"""The privacy app's ``kefu doctor`` check: the configured field-encryption and blind-index
keys are the ones the stored data was written with.

A second server that generated its own keys, or a key dropped from ``KEFU_FIELD_KEYS``
before ``kefu encryption rotate`` finished, leaves values nobody can read; a changed
``KEFU_INDEX_KEY`` without ``kefu encryption reindex`` leaves customers unfindable by phone
or email. The first is counted for every encrypted column; the others are tried on the
latest rows of each indexed model."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Q

from kefu.core.doctor import Finding, problem
from kefu.privacy.crypto import VERSION, DecryptionError
from kefu.privacy.fields import key_ring
from kefu.privacy.rotation import _indexed, encrypted_models

SAMPLE = 20


def _unknown_key_values() -> int:
    """Stored values under a key id that is not configured."""
    prefixes = [f"{VERSION}:{key_id}:" for key_id in key_ring().keys]
    total = 0
    for model, fields in encrypted_models():
        unreadable = Q(pk__in=[])
        for f in fields:
            known = Q(**{f.attname: ""})
            for prefix in prefixes:
                # A pattern lookup takes its value as it is (no field preparation): the
                # token's text, not a Sealed.
                known |= Q(**{f"{f.attname}__startswith": prefix})
            unreadable |= ~known
        total += model._base_manager.filter(unreadable).count()
    return total


def _sample_mismatches() -> tuple[int, int]:
    """Of the latest rows of each model with blind indexes: how many do not decrypt with
    the configured keys, and how many indexes differ from what the index key gives."""
    undecryptable = stale = 0
    for indexed in _indexed.values():
        for row in indexed.model._base_manager.order_by("-pk")[:SAMPLE]:
            before = [getattr(row, f) for f in indexed.fields]
            try:
                indexed.compute(row)
            except DecryptionError:
                undecryptable += 1
                continue
            if [getattr(row, f) for f in indexed.fields] != before:
                stale += 1
    return undecryptable, stale


def keys() -> Iterator[Finding]:
    unknown = _unknown_key_values()
    if unknown:
        yield problem(
            "field_keys",
            f"{unknown} 行数据用未配置的密钥加密，无法读取 / {unknown} rows hold values encrypted "
            "with a key that is not in KEFU_FIELD_KEYS: they cannot be read",
            "把原来的密钥加回 KEFU_FIELD_KEYS（可放在当前密钥之后），kefu encryption status 可查看"
            "缺少哪个 / add the old key back to KEFU_FIELD_KEYS (after the current one); kefu "
            "encryption status names it",
        )
        return  # the sample below would only fail on the same rows
    undecryptable, stale = _sample_mismatches()
    if undecryptable:
        yield problem(
            "field_keys",
            f"抽查的 {undecryptable} 行无法用配置的密钥解密 / {undecryptable} sampled rows do not "
            "decrypt with the configured keys (same key id, different key)",
            "使用写入这些数据时的 KEFU_FIELD_KEYS（所有服务器必须相同）/ use the KEFU_FIELD_KEYS "
            "the data was written with (every server must have the same)",
        )
    if stale:
        yield problem(
            "index_key",
            f"抽查的 {stale} 行盲索引与 KEFU_INDEX_KEY 不符：按电话、邮箱找不到客户 / {stale} "
            "sampled rows have blind indexes made with another KEFU_INDEX_KEY: customers are not "
            "found by phone or email",
            "恢复原来的 KEFU_INDEX_KEY，或运行 kefu encryption reindex / restore the old "
            "KEFU_INDEX_KEY, or run kefu encryption reindex",
        )
