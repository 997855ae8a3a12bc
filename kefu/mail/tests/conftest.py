"""Mail servers for the email channel's tests: a private dovecot (IMAP) started from a config
written into a temporary directory, and an in-process aiosmtpd server that captures what
kefu sends. Tests needing dovecot skip, saying why, where it is not installed (`.ci/run`
installs it)."""

from __future__ import annotations

import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from imapclient import IMAPClient

from kefu.conftest import Tenant
from kefu.mail.models import Mailbox, Security

FIXTURES = Path(__file__).parent / "e2e_fixtures"
IMAP_PASSWORD = "imap-pass-2026"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Dovecot:
    host: str
    port: int
    root: Path

    def client(self, address: str) -> IMAPClient:
        imap = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        imap.login(address, IMAP_PASSWORD)
        return imap

    def append(self, address: str, raw: bytes, folder: str = "INBOX") -> None:
        imap = self.client(address)
        try:
            imap.append(folder, raw)
        finally:
            imap.logout()


_CONFIG = """
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not Path(binary).exists():
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd; .ci/run does)")
    # Not under pytest's own temporary directory: that one is private to root, and dovecot's
    # unprivileged processes must reach the mail directories.
    root = Path(tempfile.mkdtemp(prefix="kefu-dovecot-"))
    owner = pwd.getpwnam("dovecot")
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir()
    shutil.chown(root / "mail", owner.pw_uid, owner.pw_gid)
    root.chmod(0o755)
    port = free_port()
    conf = root / "dovecot.conf"
    conf.write_text(
        _CONFIG.format(
            root=root, port=port, uid=owner.pw_uid, gid=owner.pw_gid, password=IMAP_PASSWORD
        ),
        encoding="utf-8",
    )
    # Output to files, not pipes: the daemon keeps a pipe open and run() would wait for it.
    with (root / "start.log").open("wb") as out:
        subprocess.run([binary, "-c", str(conf)], check=True, stdout=out, stderr=out)
    server = Dovecot("127.0.0.1", port, root)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                raise RuntimeError(f"dovecot did not start: {log[-2000:]}") from None
            time.sleep(0.1)
    try:
        yield server
    finally:
        subprocess.run(
            [binary, "-c", str(conf), "stop"],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Captured:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        return parsed


class _CaptureHandler:
    def __init__(self) -> None:
        self.mails: list[Captured] = []
        self.refuse = False
        # What a refusing server answers: a 4xx may pass later, a 5xx never will.
        self.refusal = "451 4.3.0 try again later"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return self.refusal
        self.mails.append(
            Captured(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        )
        return "250 OK"


@dataclass
class SmtpCapture:
    host: str
    port: int
    handler: _CaptureHandler

    @property
    def mails(self) -> list[Captured]:
        return self.handler.mails


@pytest.fixture
def smtp_server() -> Iterator[SmtpCapture]:
    handler = _CaptureHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpCapture("127.0.0.1", port, handler)
    finally:
        controller.stop()


def make_mailbox(tenant: Tenant, address: str, **extra: Any) -> Mailbox:
    mailbox = Mailbox(
        client=tenant.client,
        address=address,
        from_name=f"{tenant.client.name}客服",
        imap_security=Security.NONE,
        smtp_security=Security.NONE,
        **extra,
    )
    mailbox.full_clean()
    mailbox.save()
    return mailbox


def eml(
    *,
    subject: str = "咨询：订单没有收到",
    body: str = "你好，我上周下的订单还没有收到，请帮忙查一下。",
    sender: str = "zhang.san@example.cn",
    to: str = "kefu@acme.example",
    message_id: str | None = "<m1@example.cn>",
    in_reply_to: str = "",
    references: str = "",
    extra_headers: str = "",
) -> bytes:
    """A small, well-formed mail, for tests about threading and outcomes (the parser's own
    corpus lives in fixtures/)."""
    from email.message import EmailMessage as Builder
    from email.policy import SMTP

    mail = Builder()
    mail["From"] = f"张三 <{sender}>"
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = "Mon, 30 Nov 2026 10:00:00 +0800"
    if message_id:
        mail["Message-ID"] = message_id
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
    if references:
        mail["References"] = references
    for line in extra_headers.strip().splitlines():
        name, _sep, value = line.partition(":")
        mail[name.strip()] = value.strip()
    mail.set_content(body)
    return mail.as_bytes(policy=SMTP)


PARSE_FIXTURES = Path(__file__).parent / "fixtures"


def build_huge_attachment_eml(size: int = 25 * 1024 * 1024) -> bytes:
    """A customer's mail carrying one ``size``-byte video attachment (base64), built at test
    time so that the corpus in fixtures/ does not commit megabytes."""
    import base64

    video = (b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * (size // 256 + 1))[:size]
    encoded = base64.encodebytes(video).replace(b"\n", b"\r\n")
    head = (
        "From: =?utf-8?B?6ZmI5piO?= <chenming@example.cn>\r\n"
        "To: support@kefu.example\r\n"
        "Subject: =?utf-8?B?6KeG6aKR6YeM5piv5pWF6Zqc546w6LGh?=\r\n"
        "Date: Tue, 10 Nov 2026 09:30:00 +0800\r\n"
        "Message-ID: <huge.20261110@example.cn>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="huge-boundary"\r\n\r\n'
        "--huge-boundary\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.b64encode("洗衣机故障的视频在附件里。\r\n".encode()).decode()
        + "\r\n--huge-boundary\r\n"
        'Content-Type: video/mp4; name="=?utf-8?B?5pWF6Zqc6KeG6aKRLm1wNA==?="\r\n'
        'Content-Disposition: attachment; filename="=?utf-8?B?5pWF6Zqc6KeG6aKRLm1wNA==?="\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode("ascii")
    return head + encoded + b"--huge-boundary--\r\n"


@pytest.fixture
def huge_attachment_eml(tmp_path: Path) -> Path:
    """fixtures/ has no oversize message: this writes one (a 25 MB attachment) to tmp_path."""
    path = tmp_path / "huge_attachment.eml"
    path.write_bytes(build_huge_attachment_eml())
    return path
