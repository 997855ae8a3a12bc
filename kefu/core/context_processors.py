from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def kefu(request: HttpRequest) -> dict[str, Any]:
    return {"KEFU_LANGUAGES": settings.LANGUAGES}
