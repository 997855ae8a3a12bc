"""Messages per second through kefu's full email ingestion path, against the floor of
Python's email package alone reading the same folder.

    .venv/bin/python bench/email_ingest.py --db sqlite|postgres [--messages 2000]

Builds a folder of .eml files from the parser's fixture corpus (kefu/mail/tests/fixtures)
with a fresh Message-ID each, so every file is a new message; about one in four is made a
reply to an earlier one (In-Reply-To), so threading and appends are measured too. On a
fresh database it then times:
- kefu: `mail_ingest` for each file (store raw, parse, thread, create or append the ticket
  with its customer and attachments, queue the acknowledgement: a contract with a 确认登记
  target is loaded, so acknowledgements are written too), one transaction per message, as
  a mailbox poll does;
- floor: `email.message_from_bytes(raw, policy=default)` and `get_body()` text for each
  file of the same folder (no database, no charset repair, no sanitising).
Prints both rates and the ratio floor / kefu (how many times slower the full path is)."""

from __future__ import annotations

import argparse
import contextlib
import random
import re
import sys
import tempfile
import time
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

from fresh_kefu import fresh_kefu

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "kefu" / "mail" / "tests" / "fixtures"
POLICY = """
client: BENCH
name: 邮件确认登记
targets:
  - {metric: acknowledge, minutes: 120, calendar: 7x24, channels: [email]}
"""


_MSGID = re.compile(rb"^Message-I[dD]:.*?\r?\n(?![ \t])", re.M | re.S)


def build_folder(folder: Path, n: int, seed: int) -> list[Path]:
    rng = random.Random(seed)
    corpus = [p.read_bytes() for p in sorted(FIXTURES.glob("*.eml"))]
    if not corpus:
        sys.exit(f"no fixtures in {FIXTURES}")
    paths = []
    for i in range(n):
        raw = _MSGID.sub(b"", rng.choice(corpus))
        headers = f"Message-ID: <bench{i}@example.cn>\r\n"
        if i > 10 and rng.random() < 0.25:
            headers += f"In-Reply-To: <bench{rng.randrange(i)}@example.cn>\r\n"
        path = folder / f"{i:06d}.eml"
        path.write_bytes(headers.encode() + raw)
        paths.append(path)
    return paths


def floor_rate(paths: list[Path]) -> float:
    start = time.perf_counter()
    for path in paths:
        message = message_from_bytes(path.read_bytes(), policy=default_policy)
        body = message.get_body(preferencelist=("plain", "html"))
        if body is not None:
            # The floor does not repair what it cannot read.
            with contextlib.suppress(LookupError, ValueError, AssertionError):
                body.get_content()
    return len(paths) / (time.perf_counter() - start)


def kefu_rate(paths: list[Path]) -> tuple[float, dict[str, int]]:
    from kefu.calendars.services import calendar_load
    from kefu.contracts.services import client_create
    from kefu.mail.models import Mailbox
    from kefu.mail.services import mail_ingest
    from kefu.sla.policies import sla_policy_load

    client = client_create(code="BENCH", name="基准测试")
    calendar_load(text=(ROOT / "examples" / "calendars" / "7x24.yaml").read_text("utf-8"))
    sla_policy_load(text=POLICY)
    mailbox = Mailbox.objects.create(
        client=client, address="kefu@bench.example", smtp_host="127.0.0.1"
    )
    outcomes: dict[str, int] = {}
    start = time.perf_counter()
    for path in paths:
        result = mail_ingest(raw=path.read_bytes(), source="file", mailbox=mailbox)
        outcomes[str(result.result)] = outcomes.get(str(result.result), 0) + 1
    return len(paths) / (time.perf_counter() - start), outcomes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20261130)
    args = parser.parse_args()
    fresh_kefu(args.db, "kefu_bench_email")
    with tempfile.TemporaryDirectory(prefix="kefu-bench-eml-") as tmp:
        paths = build_folder(Path(tmp), args.messages, args.seed)
        floor = floor_rate(paths)
        kefu, outcomes = kefu_rate(paths)
    print(f"messages: {len(paths)} ({args.db}); outcomes: {outcomes}")
    print(f"floor  email.message_from_bytes + get_body: {floor:10.1f} msg/s")
    print(f"kefu   mail_ingest (full path):             {kefu:10.1f} msg/s")
    print(f"ratio  floor / kefu: {floor / kefu:.1f}x")


if __name__ == "__main__":
    main()
