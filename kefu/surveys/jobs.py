"""The surveys app's periodic jobs (registered in its AppConfig)."""

from __future__ import annotations

import logging
from datetime import datetime

from kefu.surveys.services import callback_sample_due, survey_dispatch_due

logger = logging.getLogger(__name__)


def dispatch(now: datetime | None) -> int:
    """Queue the survey of each ticket resolved long enough ago; send those due."""
    return survey_dispatch_due(now=now)


def weekly_sample(now: datetime | None) -> int:
    """Last week's phone callback sample of every contract that asks for one (once: a
    rerun adds nothing)."""
    created = callback_sample_due(now=now)
    if created:
        logger.info("callback sample: %s tickets", created)
    return created
