from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from kefu.privacy.crypto import (
    DecryptionError,
    KeyConfigError,
    generate_index_key,
    generate_key_line,
)
from kefu.privacy.fields import key_ring
from kefu.privacy.rotation import (
    EMPTY,
    blind_index_rebuild,
    encryption_pending,
    encryption_rotate,
    encryption_status,
)


class Command(BaseCommand):
    help = (
        "字段加密 / field encryption: kefu encryption status | rotate [--batch-size N] | "
        "reindex | generate-key [--id ID] [--index]"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("status", help="how many stored values each key protects")
        rotate = sub.add_parser(
            "rotate", help="re-encrypt every value under the current (first) key"
        )
        rotate.add_argument("--batch-size", type=int, default=500)
        reindex = sub.add_parser(
            "reindex", help="recompute the blind indexes after KEFU_INDEX_KEY changed"
        )
        reindex.add_argument("--batch-size", type=int, default=500)
        generate = sub.add_parser(
            "generate-key", help="print a new key entry for KEFU_FIELD_KEYS (or KEFU_INDEX_KEY)"
        )
        generate.add_argument("--id", default=None, help="key id (default: random)")
        generate.add_argument("--index", action="store_true", help="a KEFU_INDEX_KEY value")

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        if action == "generate-key":
            try:
                line = generate_index_key() if opts["index"] else generate_key_line(opts["id"])
            except KeyConfigError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(line)
            return
        if opts.get("batch_size", 1) < 1:
            raise CommandError("--batch-size must be at least 1")
        if action == "status":
            self._status()
        elif action == "rotate":
            self._rotate(opts["batch_size"])
        else:
            with tqdm(desc="重建索引 / reindexing", unit=" rows", disable=None) as bar:
                changed = blind_index_rebuild(batch_size=opts["batch_size"], progress=bar.update)
            self.stdout.write(f"blind indexes recomputed: {changed} customers changed")

    def _status(self) -> None:
        ring = key_ring()
        self.stdout.write(f"current key: {ring.current_id}; configured: {', '.join(ring.keys)}")
        missing: set[str] = set()
        for column, counts in encryption_status().items():
            parts = []
            for key_id, n in sorted(counts.items()):
                mark = ""
                if key_id not in (EMPTY, *ring.keys):
                    mark = " (NOT CONFIGURED)"
                    missing.add(key_id)
                elif key_id not in (EMPTY, ring.current_id):
                    mark = " (to rotate)"
                parts.append(f"{'empty' if key_id == EMPTY else key_id}={n}{mark}")
            self.stdout.write(f"{column}: {', '.join(parts) or 'no rows'}")
        if missing:
            raise CommandError(
                f"values are encrypted with keys that are not configured: {', '.join(missing)}"
            )

    def _rotate(self, batch_size: int) -> None:
        total = encryption_pending()
        try:
            with tqdm(total=total, desc="轮换 / rotating", unit=" rows", disable=None) as bar:
                result = encryption_rotate(batch_size=batch_size, progress=bar.update)
        except DecryptionError as exc:
            raise CommandError(
                f"{exc}; rows done so far stay re-encrypted, run again once it is fixed"
            ) from exc
        moved = ", ".join(f"{k}: {n}" for k, n in sorted(result.values_from.items()))
        self.stdout.write(
            f"now under key {result.current}: {result.rows} rows re-encrypted"
            + (f" (values from {moved})" if moved else "")
        )
