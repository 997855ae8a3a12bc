"""The tickets app's periodic jobs (registered in its AppConfig)."""

from __future__ import annotations

from datetime import datetime

from kefu.tickets.delivery import delivery_retry_due


def delivery_retry(now: datetime | None) -> None:
    """Send again the replies whose retry is due (and those a dead worker left "sending")."""
    delivery_retry_due(now=now)
