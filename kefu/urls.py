from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.cache import cache_control

from kefu.api import api
from kefu.core import health_views, metrics
from kefu.surveys import views as survey_views
from kefu.tickets import views as ticket_views


@cache_control(max_age=86400)
def no_favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages without an icon link (the API's JSON, files):
    an empty answer instead of a 404 in their console."""
    return HttpResponse(status=204)


urlpatterns = [
    path("favicon.ico", no_favicon),
    path("healthz", health_views.healthz, name="healthz"),
    path("readyz", health_views.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("", ticket_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("tickets/", include("kefu.tickets.urls")),
    path("account/", include("kefu.accounts.urls")),
    path("sla/", include("kefu.sla.urls")),
    path("reports/", include("kefu.reports.urls")),
    path("mail/", include("kefu.mail.urls")),
    path("chat/", include("kefu.chat.urls")),
    path("privacy/", include("kefu.privacy.urls")),
    path("surveys/", include("kefu.surveys.urls")),
    path("s/<str:token>/", survey_views.answer, name="survey_answer"),
    path("kb/", include("kefu.kb.urls")),
    # Customers' knowledge-base pages: before any other p/<client_code>/ include.
    path("p/<str:client_code>/kb/", include("kefu.kb.public_urls")),
    path("p/", include("kefu.portal.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]

handler404 = "kefu.core.error_views.page_not_found"
