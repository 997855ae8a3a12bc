"""Background work of the portal. Thin: load by id, call a service."""

from __future__ import annotations

from django_tasks import task

from kefu.portal import notices, signin


@task()
def send_reply_notice(notice_id: int) -> str:
    """Tell the customer there is a reply on the portal; returns the notice's status."""
    return notices.reply_notice_send(notice_id=notice_id)


@task()
def send_signin_link(challenge_id: int) -> bool:
    """Mail a sign-in link; returns whether a mail was written."""
    return signin.signin_link_mail_send(challenge_id=challenge_id)
