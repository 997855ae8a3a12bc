from django.urls import path

from kefu.mail import views

app_name = "mail"
urlpatterns = [
    path("quarantine/", views.quarantine, name="quarantine"),
    path("inbound/<int:inbound_id>/raw/", views.inbound_raw, name="inbound_raw"),
    path("inbound/<int:inbound_id>/reprocess/", views.inbound_reprocess, name="inbound_reprocess"),
]
