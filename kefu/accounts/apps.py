from typing import Any

from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_out
from django.http import HttpRequest

from kefu.core.realtime import session_end


def _close_live_pages(
    sender: Any, request: HttpRequest | None = None, user: Any = None, **kwargs: Any
) -> None:
    """A logout closes the live sockets its session opened (kefu/core/realtime.py) and
    makes the agent offline: no chat or call is offered to someone who has left."""
    if request is not None and hasattr(request, "session"):
        session_end(request.session.session_key)
    if user is not None:
        from kefu.accounts.services import presence_logged_out

        presence_logged_out(user=user)


class AccountsConfig(AppConfig):
    name = "kefu.accounts"
    label = "accounts"

    def ready(self) -> None:
        user_logged_out.connect(_close_live_pages, dispatch_uid="kefu.accounts.live_pages")
