"""A request to a host name a client pointed at kefu (``PortalSite.host``) is that client's
portal: it is routed by :mod:`kefu.portal.host_urls` (its portal and nothing else) and
bound to the client, so another client's portal code on that host is a 404."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from kefu.portal.selectors import site_code_for_host, site_hosts_read, site_hosts_stale


def kefu_hosts() -> frozenset[str]:
    """Host names that are kefu's own (never a client's portal): looked up not at all."""
    own = urlsplit(settings.KEFU_BASE_URL).hostname or ""
    return frozenset({"testserver", "localhost", "127.0.0.1", "::1", "[::1]", own.lower()})


class PortalHostMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.own = kefu_hosts()
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    @staticmethod
    def _bind(request: HttpRequest, code: str | None) -> None:
        if code is not None:
            request.portal_code = code  # type: ignore[attr-defined]
            request.urlconf = "kefu.portal.host_urls"  # type: ignore[attr-defined]

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        if self.is_async:
            return self._acall(request)
        host = _host(request)
        if host not in self.own:
            if site_hosts_stale():
                site_hosts_read()
            self._bind(request, site_code_for_host(host))
        response: HttpResponse = self.get_response(request)
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        host = _host(request)
        if host not in self.own:
            if site_hosts_stale():
                await sync_to_async(site_hosts_read)()
            self._bind(request, site_code_for_host(host))
        response: HttpResponse = await self.get_response(request)
        return response


def _host(request: HttpRequest) -> str:
    """The request's host name without the port (``get_host`` has checked it against
    ``ALLOWED_HOSTS``)."""
    host = request.get_host().lower()
    if host.startswith("["):
        return host.partition("]")[0] + "]"
    return host.rpartition(":")[0] if ":" in host else host
