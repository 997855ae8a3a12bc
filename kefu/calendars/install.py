"""Statutory days in the database as soon as the schema is: after every ``kefu migrate``
(and every ``flush``) the years chinesecalendar knows are brought in line, so a new install
never takes 2024's Spring Festival for a working week.

Why a ``post_migrate`` handler and not a data migration: a data migration runs once in the
schema's history and must copy the sync onto historical models; its rows are also lost to a
``flush`` (which is how transactional tests reset the database). The handler runs the one
real :func:`~kefu.calendars.services.statutory_sync` on the current models, after the
calendars app is fully migrated, and again whenever the installed chinesecalendar brings a
newly published year. It writes only what differs and keeps days entered by hand.

Clocks are not this app's business: the daily job ``sla.statutory_sync``
(:mod:`kefu.sla.statutory`) recomputes running clocks after its own sync, which also brings
what a migrate changed to the clocks within a day."""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from kefu.calendars import cn_holidays, services


def _fully_migrated(using: str) -> bool:
    executor = MigrationExecutor(connections[using])
    return not executor.migration_plan(executor.loader.graph.leaf_nodes("calendars"))


def statutory_days_after_migrate(
    *, using: str = DEFAULT_DB_ALIAS, verbosity: int = 1, stdout: Any = None, **_: Any
) -> None:
    """``post_migrate`` receiver (sender: the calendars app)."""
    if using != DEFAULT_DB_ALIAS or not _fully_migrated(using):
        return
    result = services.statutory_sync(years=cn_holidays.published_years())
    if result.changed and verbosity >= 1 and stdout is not None:
        years = result.changed
        stdout.write(
            f"  法定节假日 / statutory days from chinesecalendar: {years[0]}–{years[-1]}"
            if len(years) > 1
            else f"  法定节假日 / statutory days from chinesecalendar: {years[0]}"
        )
