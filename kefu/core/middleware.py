from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.cache import add_never_cache_headers
from django.utils.deprecation import MiddlewareMixin


class ContentSecurityPolicyMiddleware:
    """Send kefu's Content-Security-Policy: everything from this origin, no inline script,
    nothing from elsewhere (the product runs on closed networks; no CDN is ever needed).
    Works in both modes, so it adds no thread switch under ASGI."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.policy = settings.KEFU_CONTENT_SECURITY_POLICY
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        if self.is_async:
            return self._acall(request)
        response: HttpResponse = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        response: HttpResponse = await self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response


class BadRequestMiddleware(MiddlewareMixin):
    """A view's :class:`BadRequest` (an id or date out of range, ``kefu.core.params``) is
    answered 400 with its message as plain text. Django would answer 400 too, but log the
    sender's mistake with a stack trace; here it is the usual one-line "Bad Request"."""

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, BadRequest):
            return HttpResponseBadRequest(
                str(exception) or "Bad Request", content_type="text/plain; charset=utf-8"
            )
        return None


class NoStoreMiddleware(MiddlewareMixin):
    """``Cache-Control: no-store`` (with Django's other never-cache headers) on every API
    answer and every page shown to a signed-in user: such pages hold tickets, customers'
    data and, once, a new API token in clear, which no browser history, disk cache or
    shared proxy may keep. Static files are served before this runs (WhiteNoise) and keep
    their caching."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        user = getattr(request, "user", None)
        if request.path.startswith("/api/") or (user is not None and user.is_authenticated):
            add_never_cache_headers(response)
        return response
