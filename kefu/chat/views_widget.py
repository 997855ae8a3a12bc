"""What clients' websites load and call: the widget's script and its files. No kefu login.

- ``GET /chat/widget.js``: the widget (built from kefu/chat/widget/src by ``make install``
  into kefu/chat/static/chat/widget.js), for any site: who may *use* a widget is checked
  where it matters, on the WebSocket and the upload, per widget key.
- ``POST /chat/w/<key>/files`` (multipart: ``conversation``, ``token``, ``cid``,
  ``file``): the customer sends a picture or a file into their chat. Only from a page of
  one of the widget's origins (CORS answers that origin alone); the conversation's token
  proves the sender is its customer.
- ``GET /chat/w/<key>/files/<id>?conversation=…&token=…``: a file of that conversation,
  for the widget to show (404 for any other).

Answers of the upload are JSON: ``{"type": "ack", "cid", "id", "at", "message"}`` (the
message as the socket carries it; 201 when stored now, 200 for a cid sent before) or
``{"type": "error", "code", "message", "ref"}``."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.urls import URLPattern, path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from kefu.chat.consumers import Budget
from kefu.chat.files import conversation_attachment, conversation_customer_file
from kefu.chat.models import ChatWidget, Conversation, token_digest
from kefu.chat.selectors import (
    conversation_for_widget,
    message_payload,
    origin_allowed,
    widget_by_key,
)
from kefu.chat.services import ChatError
from kefu.core.net import client_ip
from kefu.tickets.attachments import attachment_response

_R = TypeVar("_R", bound=HttpResponseBase)

WIDGET_JS = Path(__file__).resolve().parent / "static" / "chat" / "widget.js"
SCRIPT_MAX_AGE = 300  # seconds a browser may keep the script before asking again
PREFLIGHT_MAX_AGE = 600
# Per server process and address, as the socket's budgets: a burst of files, then one
# every few seconds.
UPLOAD_RATE, UPLOAD_BURST = 1 / 3, 10.0
_upload_budgets: dict[str, Budget] = defaultdict(lambda: Budget(UPLOAD_RATE, UPLOAD_BURST))
_script: tuple[float, bytes, str] | None = None  # (mtime, body, etag) of the built file


def _built_script() -> tuple[bytes, str]:
    """The built widget and its ETag, read again only when the file changes."""
    global _script
    mtime = WIDGET_JS.stat().st_mtime
    if _script is None or _script[0] != mtime:
        body = WIDGET_JS.read_bytes()
        _script = (mtime, body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
    return _script[1], _script[2]


@require_GET
def widget_script(request: HttpRequest) -> HttpResponse:
    try:
        body, etag = _built_script()
    except FileNotFoundError:
        response = HttpResponse(
            "/* kefu: the chat widget is not built; run `make install` */\n",
            status=503,
            content_type="application/javascript; charset=utf-8",
        )
        response["Cache-Control"] = "no-store"
        return response
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={SCRIPT_MAX_AGE}"
    response["Access-Control-Allow-Origin"] = "*"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def _error(code: str, message: str, status: int, origin: str = "", ref: Any = None) -> JsonResponse:
    response = JsonResponse(
        {"type": "error", "code": code, "message": message, "ref": ref},
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )
    return _cors(response, origin)


def _cors(response: _R, origin: str) -> _R:
    """Let the page of ``origin`` (already checked against the widget) read the answer."""
    response["Vary"] = "Origin"
    if origin:
        response["Access-Control-Allow-Origin"] = origin
    return response


def _conversation(widget: ChatWidget, conversation: object, token: object) -> Conversation | None:
    try:
        pk = int(str(conversation))
    except ValueError:
        return None
    if not isinstance(token, str) or not token:
        return None
    return conversation_for_widget(widget, pk, token_digest(token))


def _length(request: HttpRequest) -> int:
    """The request body's declared length in bytes (0 when missing or not a number)."""
    try:
        return int(request.headers.get("Content-Length") or 0)
    except ValueError:
        return 0


@csrf_exempt  # no cookie is read or trusted here: the conversation's token is the proof
def widget_upload(request: HttpRequest, key: str) -> HttpResponseBase:
    widget = widget_by_key(key)
    origin = request.headers.get("Origin", "")
    if widget is None:
        return _error(
            "bad_key", "在线客服窗口密钥无效或已停用 / Unknown or revoked widget key", 404
        )
    if not origin_allowed(widget, origin):
        # No CORS header: the foreign page cannot even read why.
        return _error(
            "origin", "此网站不允许使用该在线客服窗口 / This site may not use this chat widget", 403
        )
    if request.method == "OPTIONS":
        response = HttpResponse(status=204)
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
        return _cors(response, origin)
    if request.method != "POST":
        response = _error("method", "只接受 POST / POST only", 405, origin)
        response["Allow"] = "POST, OPTIONS"
        return response
    limit = settings.KEFU_MAX_ATTACHMENT_BYTES
    if _length(request) > limit + 64 * 1024:
        # Refused before the body is read.
        return _error(
            "too_large",
            f"文件过大 / The file is too large (≤ {limit // 1024 // 1024} MB)",
            413,
            origin,
        )
    if not _upload_budgets[client_ip(request) or ""].take():
        return _error(
            "rate_limited", "发送过于频繁，请稍候 / Too many files: slow down", 429, origin
        )
    cid = request.POST.get("cid")
    conversation = _conversation(
        widget, request.POST.get("conversation"), request.POST.get("token")
    )
    if conversation is None:
        return _error("not_found", "会话不存在 / No such conversation", 404, origin, cid)
    upload = request.FILES.get("file")
    if upload is None:
        return _error("invalid", "请选择文件 / No file", 400, origin, cid)
    try:
        written = conversation_customer_file(conversation=conversation, cid=cid, file=upload)
    except ChatError as exc:
        return _error(str(exc.code), "; ".join(exc.messages), 400, origin, cid)
    message = written.message
    response = JsonResponse(
        {
            "type": "ack",
            "cid": cid,
            "id": message.pk,
            "at": message.created_at.isoformat(),
            "message": message_payload(message),
        },
        status=200 if written.duplicate else 201,
        json_dumps_params={"ensure_ascii": False},
    )
    return _cors(response, origin)


@require_GET
def widget_file(request: HttpRequest, key: str, attachment_id: int) -> HttpResponseBase:
    widget = widget_by_key(key)
    if widget is None:
        raise Http404("unknown widget")
    conversation = _conversation(widget, request.GET.get("conversation"), request.GET.get("token"))
    if conversation is None:
        raise Http404("no such conversation")
    attachment = conversation_attachment(conversation, attachment_id)
    if attachment is None:
        raise Http404("no such file")
    response = attachment_response(attachment)
    # Shown by the widget in the client's page (an <img>), so another site may embed it.
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    origin = request.headers.get("Origin", "")
    return _cors(response, origin if origin_allowed(widget, origin) else "")


urlpatterns: list[URLPattern] = [
    path("widget.js", widget_script, name="widget_script"),
    path("w/<str:key>/files", widget_upload, name="widget_upload"),
    path("w/<str:key>/files/<int:attachment_id>", widget_file, name="widget_file"),
]
