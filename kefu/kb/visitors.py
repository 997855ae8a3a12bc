"""Which browser session read what, without knowing who it is.

A customer's session gets a random visitor id the first time it opens an article; views,
feedback and request marks store only the SHA-256 of that id. The id lives in the session's
data, so it survives the key rotation of a sign-in (Django copies the data to the new key)
and ``kb_request_submitted`` finds it from the session key the portal holds."""

from __future__ import annotations

import hashlib
import secrets
from importlib import import_module

from django.conf import settings
from django.http import HttpRequest

SESSION_FIELD = "kb_visitor"


def _digest(raw: str) -> str:
    return hashlib.sha256(f"kb-visitor:{raw}".encode()).hexdigest()


def visitor_of(request: HttpRequest) -> str:
    """The hashed visitor id of the request's session, creating it (and the session) on
    first use."""
    raw = request.session.get(SESSION_FIELD)
    if not raw:
        raw = secrets.token_urlsafe(18)
        request.session[SESSION_FIELD] = raw
    return _digest(str(raw))


def visitor_for_session_key(session_key: str | None) -> str | None:
    """The hashed visitor id stored in the session ``session_key``, or None when that
    session never read an article (or does not exist)."""
    if not session_key:
        return None
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
    raw = store.get(SESSION_FIELD)
    return _digest(str(raw)) if raw else None
