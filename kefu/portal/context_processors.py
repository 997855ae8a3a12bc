"""The portal's frame for pages other apps serve under a client's portal path (the knowledge
base's public pages at /p/<code>/kb/ extend portal/base.html): ``site`` and ``code``, read
only if the page uses them and never over what a view passed itself."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from kefu.core.error_views import portal_code_of
from kefu.portal.models import PortalSite


def portal_frame(request: HttpRequest) -> dict[str, Any]:
    code = portal_code_of(request.path)
    if code is None:
        return {}
    return {
        "code": code,
        "site": SimpleLazyObject(
            lambda: PortalSite.objects.filter(client__code=code).select_related("client").first()
        ),
    }
