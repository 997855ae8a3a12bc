"""The tickets app's periodic jobs (registered in :class:`kefu.tickets.apps.TicketsConfig`)."""

from __future__ import annotations

import logging
from datetime import datetime

from kefu.tickets.promises import escalation_promise_sweep

logger = logging.getLogger(__name__)


def promises_sweep(now: datetime | None) -> None:
    """Record the escalation promises that come due (warnings) or pass (overdue)."""
    result = escalation_promise_sweep(now=now)
    if result.warned or result.overdue:
        logger.info("promise sweep: %s warned, %s overdue", result.warned, result.overdue)
