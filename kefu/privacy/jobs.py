"""The privacy app's periodic jobs (registered in its AppConfig)."""

from __future__ import annotations

import logging
from datetime import datetime

from kefu.privacy.services import retention_run_due

logger = logging.getLogger(__name__)


def retention(now: datetime | None) -> None:
    """Advance every client whose retention period has run out, a few batches at a time."""
    for run in retention_run_due(now=now):
        logger.info("retention run %s (client %s): %s", run.pk, run.client_id, run.phase)
