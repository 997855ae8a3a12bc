"""The statutory-holiday sync as periodic SLA work (the daily job ``sla.statutory_sync``,
registered in :class:`kefu.sla.apps.SlaConfig`): refresh the statutory days from
chinesecalendar, then recompute the running clocks of every calendar that follows them.

The recompute runs after every sync, not only when the sync changed rows: statutory days
can also arrive through ``kefu migrate`` (the calendars app fills them after migrating) or
an edit made outside the admin, and the calendars app never touches clocks itself. Clocks
whose due instant did not move are not written."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from kefu.calendars.services import SyncResult, statutory_sync, statutory_years_default
from kefu.sla.services import sla_recompute_for_calendars

logger = logging.getLogger(__name__)

EVERY = timedelta(days=1)
"""The job's interval in the registry (``sla.statutory_sync``)."""


def statutory_sync_recompute(now: datetime | None = None) -> SyncResult:
    """Sync every year chinesecalendar knows (and this year and the next) and recompute the
    running clocks on the calendars that follow statutory days, in one transaction."""
    today = timezone.localdate(now or timezone.now())
    with transaction.atomic():
        result = statutory_sync(years=statutory_years_default(today))
        moved = sla_recompute_for_calendars(calendar_ids=result.calendar_ids)
    logger.info(
        "statutory days synced (changed: %s, not published: %s); %s clocks moved",
        result.changed or "none",
        result.unknown or "none",
        moved,
    )
    return result
