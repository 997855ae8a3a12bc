"""Periodic SLA work that is not the sweep: the daily statutory-holiday sync, after which
the running clocks of every calendar that follows statutory days are recomputed.

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

STATUTORY_SYNC_EVERY = timedelta(days=1)
_last_sync: datetime | None = None


def statutory_sync_daily(now: datetime | None = None) -> SyncResult | None:
    """At the first call in a process and then once a day: sync the statutory days from
    chinesecalendar and recompute running clocks on the calendars that follow them, in one
    transaction. Returns the sync's result, or ``None`` when it was not due."""
    global _last_sync
    now = now or timezone.now()
    if _last_sync is not None and timedelta(0) <= now - _last_sync < STATUTORY_SYNC_EVERY:
        return None
    with transaction.atomic():
        result = statutory_sync(years=statutory_years_default(timezone.localdate(now)))
        moved = sla_recompute_for_calendars(calendar_ids=result.calendar_ids)
    _last_sync = now
    logger.info(
        "statutory days synced (changed: %s, not published: %s); %s clocks moved",
        result.changed or "none",
        result.unknown or "none",
        moved,
    )
    return result
