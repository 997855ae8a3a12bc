"""SMS's periodic job (registered in its AppConfig)."""

from __future__ import annotations

from datetime import datetime

from kefu.sms.services import sms_retry_due


def retry(now: datetime | None) -> None:
    """Send the SMS whose retry is due (and those a dead worker left "sending")."""
    sms_retry_due(now=now)
