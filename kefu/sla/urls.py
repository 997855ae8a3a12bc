from django.urls import path

from kefu.sla import views

app_name = "sla"
urlpatterns = [path("", views.at_risk, name="at_risk")]
