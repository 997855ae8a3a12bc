"""Background work of SMS. Thin: load by id, call a service.

kefu.sms.services enqueues this module's task and the task calls it back, so each imports
the other as a module, never a name from it."""

from __future__ import annotations

from django_tasks import task

from kefu.sms import services


@task()
def send_sms(sms_id: int) -> str:
    """Send one queued SMS; returns its status (sent, queued for a retry, failed)."""
    return services.sms_deliver(sms_id=sms_id)
