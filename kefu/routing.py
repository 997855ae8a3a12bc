"""The WebSocket routes ``kefu serve`` carries (kefu/asgi.py), each to the consumer of the
app that owns what it watches. Every route of ``websocket_urlpatterns`` is opened with a
kefu login from kefu's own pages, and walked by the tenant-isolation test;
``public_websocket_urlpatterns`` are opened from other sites' pages without a login (the
chat widget), and check their own key and origin."""

from django.urls import path

from kefu.accounts.consumers import NotificationConsumer
from kefu.chat.consumers import AgentConsumer, WidgetConsumer
from kefu.chat.live_consumers import SupervisorConsumer
from kefu.tickets.consumers import CustomerConsumer, QueueConsumer, TicketConsumer

websocket_urlpatterns = [
    path("ws/notifications/", NotificationConsumer.as_asgi(), name="notifications"),
    path("ws/queue/", QueueConsumer.as_asgi(), name="queue"),
    path("ws/clients/<str:code>/queue/", QueueConsumer.as_asgi(), name="client_queue"),
    path("ws/tickets/<int:ticket_id>/", TicketConsumer.as_asgi(), name="ticket"),
    path("ws/customers/<int:customer_id>/", CustomerConsumer.as_asgi(), name="customer"),
    path("ws/chat/agent/", AgentConsumer.as_asgi(), name="chat_agent"),
    path("ws/chat/live/", SupervisorConsumer.as_asgi(), name="chat_live"),
    path("ws/chat/clients/<str:code>/live/", SupervisorConsumer.as_asgi(), name="chat_client_live"),
]

public_websocket_urlpatterns = [
    path("ws/chat/widget/<str:key>/", WidgetConsumer.as_asgi(), name="chat_widget"),
]
