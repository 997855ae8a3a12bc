"""The sla app's periodic jobs (registered in :class:`kefu.sla.apps.SlaConfig`)."""

from __future__ import annotations

import logging
from datetime import datetime

from kefu.sla.services import sla_sweep

logger = logging.getLogger(__name__)


def sweep(now: datetime | None) -> None:
    """Record the warnings and breaches that are due."""
    result = sla_sweep(now=now)
    if result.warned or result.breached:
        logger.info("sla sweep: %s warned, %s breached", result.warned, result.breached)
