"""``/healthz`` (the process answers) and ``/readyz`` (what it needs is there), for load
balancers and monitoring. No login; nothing personal or secret in the answers."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from kefu.core.health import readiness_report


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Alive: touches neither the database nor the session."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """Every readiness check with its outcome; 503 when a required one fails."""
    ready, body = readiness_report()
    return JsonResponse(body, status=200 if ready else 503)
