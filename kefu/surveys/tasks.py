"""Background work of surveys. Thin: load by id, call a service."""

from __future__ import annotations

from django_tasks import task

from kefu.surveys import services


@task()
def survey_send_task(survey_id: int) -> str:
    """Send one queued survey; returns its status (sent, queued for a retry, failed)."""
    return services.survey_send(survey_id=survey_id)
