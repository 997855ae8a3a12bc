"""The reports app's periodic jobs (registered in its AppConfig)."""

from __future__ import annotations

import logging
from datetime import datetime

from kefu.reports.services import report_issue_due

logger = logging.getLogger(__name__)


def issue_due(now: datetime | None) -> None:
    """Issue last month's reports once the 1st, 08:00 client time, has passed."""
    for report in report_issue_due(now=now):
        logger.info("issued report %s %s v%s", report.client_id, report.period, report.version)
