from typing import Any

from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_out
from django.http import HttpRequest

from kefu.core.realtime import session_end


def _close_live_pages(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """A logout closes the live sockets its session opened (kefu/core/realtime.py)."""
    if request is not None and hasattr(request, "session"):
        session_end(request.session.session_key)


class AccountsConfig(AppConfig):
    name = "kefu.accounts"
    label = "accounts"

    def ready(self) -> None:
        user_logged_out.connect(_close_live_pages, dispatch_uid="kefu.accounts.live_pages")
