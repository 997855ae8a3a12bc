"""The user's own live socket: new notifications for the bell in the header."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from kefu.accounts.models import User
from kefu.accounts.selectors import notifications_unread_count
from kefu.accounts.services import notification_group
from kefu.core.realtime import GroupConsumer


class NotificationConsumer(GroupConsumer):
    """``ws/notifications/``: first ``{"type": "unread", "count": n}``, then each
    ``notification`` and ``notification.read`` as it happens (from any of the user's pages,
    on any server process)."""

    def authorise(self, user: User, route: dict[str, Any]) -> list[str] | None:
        self.user = user
        return [notification_group(user.pk)]

    async def joined(self) -> None:
        count = await database_sync_to_async(notifications_unread_count)(user=self.user)
        await self.send_json({"type": "unread", "count": count})
