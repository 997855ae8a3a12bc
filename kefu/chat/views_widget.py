"""What clients' websites load and call: the widget's script and its file uploads."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
