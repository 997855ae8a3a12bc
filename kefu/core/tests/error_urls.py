"""kefu's own URLs plus one view that fails, for the server-error page's test."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from kefu.urls import urlpatterns as kefu_urlpatterns


def fails(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a failure the error page must not show")


urlpatterns = [path("__fails__/", fails), *kefu_urlpatterns]
