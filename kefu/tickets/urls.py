from django.urls import path

from kefu.tickets import views

app_name = "tickets"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("views/", views.view_save, name="view_save"),
    path("bulk/", views.queue_bulk, name="bulk"),
    path("views/<int:view_id>/delete/", views.view_delete, name="view_delete"),
    path("new/", views.ticket_new, name="new"),
    path("new/check/", views.ticket_new_check, name="new_check"),
    path("customers/<int:customer_id>/merge/", views.customer_merge, name="customer_merge"),
    path("overview/", views.overview, name="overview"),
    path("escalations/", views.escalations, name="escalations"),
    path("escalations/<int:pk>/answer/", views.escalation_answer, name="escalation_answer"),
    path("escalations/<int:pk>/info/", views.escalation_info, name="escalation_info"),
    path("<int:pk>/", views.ticket_detail, name="detail"),
    path("attachments/<int:attachment_id>/", views.attachment_download, name="attachment"),
    path("<int:pk>/reply/", views.ticket_reply, name="reply"),
    path("deliveries/<int:delivery_id>/retry/", views.delivery_retry, name="delivery_retry"),
    path("<int:pk>/note/", views.ticket_note, name="note"),
    path("<int:pk>/status/", views.ticket_status, name="status"),
    path("<int:pk>/assign/", views.ticket_assign, name="assign"),
    path("<int:pk>/update/", views.ticket_update, name="update"),
    path("<int:pk>/escalate/", views.ticket_escalate, name="escalate"),
    path("<int:pk>/reveal/", views.ticket_reveal, name="reveal"),
    path(
        "<int:pk>/identifiers/<int:identifier_id>/verify/",
        views.identifier_verify,
        name="identifier_verify",
    ),
]
