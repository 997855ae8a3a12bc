"""The portal's frame for pages other apps serve under a client's portal path (the knowledge
base's public pages at /p/<code>/kb/ extend portal/base.html): ``site`` and ``code``, read
only if the page uses them and never over what a view passed itself."""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from kefu.portal.models import PortalSite

_PORTAL_PATH = re.compile(r"^/p/([A-Za-z0-9][A-Za-z0-9_-]*)/")


def portal_frame(request: HttpRequest) -> dict[str, Any]:
    found = _PORTAL_PATH.match(request.path)
    if found is None:
        return {}
    code = found.group(1)
    return {
        "code": code,
        "site": SimpleLazyObject(
            lambda: PortalSite.objects.filter(client__code=code).select_related("client").first()
        ),
    }
