from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse
from django.utils import translation


class UserLanguageMiddleware:
    """Activate the logged-in user's chosen language (Chinese unless they chose English).
    Works in both modes, so it adds no thread switch under ASGI."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        if self.is_async:
            return self._acall(request)
        user = getattr(request, "user", None)
        self._activate(request, user)
        response: HttpResponse = self.get_response(request)
        response.headers.setdefault("Content-Language", translation.get_language())
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        user = await request.auser() if hasattr(request, "auser") else None
        self._activate(request, user)
        response: HttpResponse = await self.get_response(request)
        response.headers.setdefault("Content-Language", translation.get_language())
        return response

    @staticmethod
    def _activate(request: HttpRequest, user: Any) -> None:
        language = getattr(user, "language", None) if user and user.is_authenticated else None
        translation.activate(language or "zh-hans")
        request.LANGUAGE_CODE = translation.get_language()
