"""A client's website for the widget's browser tests: a tiny static server on another
origin than kefu (127.0.0.2, its own port) whose page embeds the widget with the one tag a
client puts on its site, and nothing else."""

from __future__ import annotations

import html
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

HOST = "127.0.0.2"

PAGE = """<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
  body {{ margin: 0; font: 16px/1.6 Georgia, serif; color: #333; background: #faf7f2; }}
  header {{ padding: 24px 32px; background: #2f3e46; color: #fff; font-size: 22px; }}
  main {{ padding: 24px 32px; max-width: 760px; }}
</style>
</head>
<body>
<header>{title}</header>
<main>
  <h1>{heading}</h1>
  <p>{text}</p>
</main>
<script src="{kefu}/chat/widget.js" data-key="{key}" async></script>
</body>
</html>
"""

CONTENT = {
    "zh-CN": (
        "甲方商城",
        "空调清洗季，预约上门服务",
        "全国联保，七天无理由退换。如有问题，请点右下角的在线客服。",
    ),
    "en": (
        "Shop A",
        "Air-conditioner cleaning season",
        "Nationwide warranty. Questions? Chat with us.",
    ),
}


def page(kefu: str, key: str, lang: str = "zh-CN") -> str:
    title, heading, text = CONTENT["en" if lang.startswith("en") else "zh-CN"]
    return PAGE.format(
        lang=html.escape(lang),
        title=title,
        heading=heading,
        text=text,
        kefu=html.escape(kefu),
        key=html.escape(key),
    )


@contextmanager
def client_site(kefu: str) -> Iterator[str]:
    """Serve the client's page embedding the widget of kefu at ``kefu``: ``/?key=KEY``
    (Chinese), ``/?key=KEY&lang=en`` (English); yields the site's origin."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            key = query.get("key", [""])[0]
            lang = query.get("lang", ["zh-CN"])[0]
            body = page(kefu, key, lang).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((HOST, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
