"""The JSON API under /api/v1/ (OpenAPI at /api/v1/openapi.json).

Integrations authenticate with ``Authorization: Bearer <token>``; the web UI's session works
too (with its CSRF token). Errors are JSON ``{"detail": "..."}``, never an HTML page."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    ValidationError,
)
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.renderers import JSONRenderer
from ninja.security import HttpBearer, django_auth

from kefu.accounts.services import api_token_authenticate
from kefu.tickets.api import router as tickets_router
from kefu.tickets.api_attachments import router as attachments_router

logger = logging.getLogger(__name__)


class Renderer(JSONRenderer):
    """JSON with Chinese text as is (UTF-8), not as \\u escapes."""

    json_dumps_params: Mapping[str, Any] = {"ensure_ascii": False}


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <token>``. A read-only token that tries to change something
    gets 403 (the token is valid, the action is not allowed), not 401."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        api_token = api_token_authenticate(token)
        if api_token is None:
            return None
        if request.method not in READ_METHODS and not api_token.can_write:
            raise PermissionDenied("只读令牌不能修改数据 / read-only token: writes are refused")
        request.user = api_token.user
        return api_token.user


api = NinjaAPI(
    title="kefu API",
    version="1",
    description="kefu 客服 — tickets, messages and customers. 工单、消息与客户。",
    auth=[TokenAuth(), django_auth],
    renderer=Renderer(),
    urls_namespace="api",
)
api.add_router("/", tickets_router)
api.add_router("/", attachments_router)


def _error(request: HttpRequest, status: int, detail: Any) -> HttpResponse:
    return api.create_response(request, {"detail": detail}, status=status)


@api.exception_handler(Http404)
def on_404(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _error(request, 404, "未找到 / not found")


@api.exception_handler(PermissionDenied)
def on_403(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _error(request, 403, str(exc) or "无权限 / permission denied")


@api.exception_handler(AuthenticationError)
def on_401(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _error(request, 401, "需要登录或有效的 API 令牌 / authentication required")


@api.exception_handler(ValidationError)
def on_invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    detail = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return _error(request, 422, detail)


@api.exception_handler(NinjaValidationError)
def on_schema_invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    return _error(request, 422, exc.errors)


@api.exception_handler(IntegrityError)
def on_conflict(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
    # The service's transaction has rolled back; the usual cause is an integration sending
    # the same external_id twice.
    return _error(
        request, 409, "与已有记录冲突（如重复的外部编号）/ conflicts with an existing record"
    )


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, str(exc))


@api.exception_handler(BadRequest)
def on_bad_request(request: HttpRequest, exc: BadRequest) -> HttpResponse:
    return _error(request, 400, str(exc) or "请求无效 / bad request")


@api.exception_handler(RequestDataTooBig)
def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    logger.warning("Request body too large: %s", request.path)
    return _error(request, 413, "请求体过大 / request body too large")


@api.exception_handler(SuspiciousOperation)
def on_suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    # Too many fields or files in a form, a bad multipart boundary: the sender's fault, so
    # a line in the log, not a server error with its stack trace.
    logger.warning("Bad request (%s): %s", type(exc).__name__, request.path)
    return _error(request, 400, "请求无效 / bad request")


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API error on %s", request.path)
    return _error(request, 500, "服务器内部错误 / internal server error")
