"""Error pages. Staff get kefu's layout (kefu/templates/404.html …); a customer on a client's
portal (``/p/<code>/…``, or a client's own host name) gets a neutral page that links back to
that portal and shows nothing of kefu's staff menu. The portal's page is the same bytes for
every missing thing, so a customer cannot tell another customer's ticket from none."""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import defaults

_PORTAL_PATH = re.compile(r"^/p/([A-Za-z0-9][A-Za-z0-9_-]*)/")


def portal_code_of(path: str) -> str | None:
    """The client code of a path under a portal (``/p/<code>/…``), else None."""
    found = _PORTAL_PATH.match(path)
    return found.group(1) if found else None


def _portal_home(request: HttpRequest) -> str | None:
    """The portal's start page when the request is for one: by its path, or by the client
    host name the portal's middleware recognised (``request.portal_code``)."""
    code = getattr(request, "portal_code", None) or portal_code_of(request.path)
    return f"/p/{code}/" if code else None


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    home = _portal_home(request)
    if home is None:
        return defaults.page_not_found(request, exception)
    return render(request, "error_public.html", {"home": home}, status=404)
