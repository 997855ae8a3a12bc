"""Time-driven work: SLA warnings and breaches, contract renewal reminders, and the monthly
reports due on the 1st.
Run by `kefu serve` on the embedded database and by `kefu scheduler` elsewhere; every step
is safe to run in several processes at once."""

from __future__ import annotations

import logging
import time
from datetime import datetime

from django.db import close_old_connections

logger = logging.getLogger(__name__)


def tick(now: datetime | None = None) -> None:
    from kefu.contracts.services import contract_remind_renewals
    from kefu.privacy.services import retention_run_due
    from kefu.reports.services import report_issue_due
    from kefu.sla.services import sla_sweep
    from kefu.tickets.delivery import delivery_retry_due

    sla_sweep(now=now)
    delivery_retry_due(now=now)
    contract_remind_renewals(now=now)
    mail_tick()
    for report in report_issue_due(now=now):
        logger.info("issued report %s %s v%s", report.client_id, report.period, report.version)
    for run in retention_run_due(now=now):
        logger.info("retention run %s (client %s): %s", run.pk, run.client_id, run.phase)


def mail_tick() -> None:
    """Poll the IMAP mailboxes and retry outbound mail that is due; a mail failure is
    logged and never stops the rest of the tick."""
    from kefu.mail.imap import mail_poll_all
    from kefu.mail.outbound import outbound_retry_due

    try:
        outbound_retry_due()
        mail_poll_all()
    except Exception:
        logger.exception("mail work failed")


def run_forever(every: float = 30.0) -> None:
    while True:
        try:
            tick()
        except Exception:
            logger.exception("scheduled work failed; retrying in %s s", every)
        finally:
            close_old_connections()
        time.sleep(every)
