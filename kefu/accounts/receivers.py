"""What the accounts app does when Django signals a login event (connected in
:meth:`kefu.accounts.apps.AccountsConfig.ready`)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from kefu.accounts.services import presence_logged_out
from kefu.core.realtime import session_end


def logged_out(
    sender: Any, request: HttpRequest | None = None, user: Any = None, **kwargs: Any
) -> None:
    """A logout closes the live sockets its session opened (kefu/core/realtime.py) and
    makes the agent offline: no chat or call is offered to someone who has left."""
    if request is not None and hasattr(request, "session"):
        session_end(request.session.session_key)
    if user is not None:
        presence_logged_out(user=user)
