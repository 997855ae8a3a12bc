"""Background work of the email channel. Thin: load by id, call a service."""

from __future__ import annotations

from django_tasks import task

from kefu.mail.outbound import outbound_send


@task()
def send_outbound(outbound_id: int) -> str:
    """Send one queued mail; returns its status (sent, pending for a retry, failed)."""
    return outbound_send(outbound_id=outbound_id)
