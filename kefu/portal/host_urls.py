"""The URLs of a client's own host name (kefu.portal.middleware): its portal only; the
root goes to it, and kefu's staff pages do not exist there."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import include, path

from kefu.surveys import views as survey_views


def root(request: HttpRequest) -> HttpResponse:
    return redirect("portal:home", request.portal_code)  # type: ignore[attr-defined]


urlpatterns = [
    path("", root),
    path("p/<str:client_code>/kb/", include("kefu.kb.public_urls")),
    path("p/", include("kefu.portal.urls")),
    # The survey link of a portal ticket works on the client's host name too.
    path("s/<str:token>/", survey_views.answer, name="survey_answer"),
]

handler404 = "kefu.core.error_views.page_not_found"
