from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from kefu.api import api
from kefu.tickets import views as ticket_views

urlpatterns = [
    path("", ticket_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("tickets/", include("kefu.tickets.urls")),
    path("account/", include("kefu.accounts.urls")),
    path("sla/", include("kefu.sla.urls")),
    path("reports/", include("kefu.reports.urls")),
    path("mail/", include("kefu.mail.urls")),
    path("privacy/", include("kefu.privacy.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]
