"""The agent's chat console and the supervisor's live chat view."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
