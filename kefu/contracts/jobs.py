"""The contracts app's periodic jobs (registered in its AppConfig)."""

from __future__ import annotations

import logging
from datetime import datetime

from kefu.contracts.services import contract_remind_renewals

logger = logging.getLogger(__name__)


def renewal_reminders(now: datetime | None) -> None:
    """Mail the renewal reminders whose notice period has begun (once per contract)."""
    for contract in contract_remind_renewals(now=now):
        logger.info("renewal reminder for contract %s", contract.number)
