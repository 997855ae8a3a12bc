"""The WebSocket routes ``kefu serve`` carries (kefu/asgi.py), each to the consumer of the
app that owns what it watches. Every route is walked by the tenant-isolation test."""

from django.urls import path

from kefu.accounts.consumers import NotificationConsumer
from kefu.tickets.consumers import CustomerConsumer, QueueConsumer, TicketConsumer

websocket_urlpatterns = [
    path("ws/notifications/", NotificationConsumer.as_asgi(), name="notifications"),
    path("ws/queue/", QueueConsumer.as_asgi(), name="queue"),
    path("ws/clients/<str:code>/queue/", QueueConsumer.as_asgi(), name="client_queue"),
    path("ws/tickets/<int:ticket_id>/", TicketConsumer.as_asgi(), name="ticket"),
    path("ws/customers/<int:customer_id>/", CustomerConsumer.as_asgi(), name="customer"),
]
