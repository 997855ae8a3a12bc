"""Reads of accounts that pages and sockets share."""

from __future__ import annotations

from django.db.models import QuerySet

from kefu.accounts.models import Notification, User


def notifications_for(*, user: User) -> QuerySet[Notification]:
    """The user's notifications, newest first (only those of clients they still serve)."""
    return Notification.objects.visible_to(user).order_by("-id")


def notifications_unread_count(*, user: User) -> int:
    return notifications_for(user=user).filter(read_at__isnull=True).count()
