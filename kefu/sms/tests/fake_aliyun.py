"""A local stand-in for Alibaba Cloud's Dysms endpoint, served on 127.0.0.1: it checks each
``SendSms`` request's signature as the provider documents it (written here independently
of kefu.sms.aliyun) and answers as the provider does, by the mode a test sets."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"


def rfc3986(text: str) -> str:
    return "".join(chr(b) if b in UNRESERVED else f"%{b:02X}" for b in text.encode())


def expected_signature(secret: str, params: dict[str, str]) -> str:
    pairs = sorted((k, v) for k, v in params.items() if k != "Signature")
    canonical = "&".join(rfc3986(k) + "=" + rfc3986(v) for k, v in pairs)
    to_sign = "GET&" + rfc3986("/") + "&" + rfc3986(canonical)
    mac = hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


@dataclass
class FakeDysms:
    secret: str
    base: str = ""
    mode: str = "ok"  # ok | refuse | throttle | slow | error500
    delay: float = 2.0
    requests: list[dict[str, str]] = field(default_factory=list)

    def answer(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.requests.append(params)
        if params.get("Signature") != expected_signature(self.secret, params):
            return 400, {
                "Code": "SignatureDoesNotMatch",
                "Message": "Specified signature is not matched with our calculation.",
            }
        if params.get("Action") != "SendSms" or params.get("Version") != "2017-05-25":
            return 400, {"Code": "InvalidAction.NotFound", "Message": "Specified api is not found"}
        if self.mode == "slow":
            time.sleep(self.delay)
        if self.mode == "error500":
            return 500, {"Code": "InternalError", "Message": "The request processing has failed"}
        if self.mode == "refuse":
            return 200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"}
        if self.mode == "throttle":
            return 200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控Permits:1"}
        return 200, {
            "Code": "OK",
            "Message": "OK",
            "BizId": f"900619746936498440^{len(self.requests)}",
            "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990",
        }


@contextmanager
def fake_dysms(secret: str) -> Iterator[FakeDysms]:
    fake = FakeDysms(secret)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            params = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
            status, body = fake.answer(params)
            data = json.dumps(body, ensure_ascii=False).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up waiting (the timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.base = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
