from __future__ import annotations

from django.urls import include, path

# helpdesk's own URLconf, including its REST API under /helpdesk/api/.
urlpatterns = [path("helpdesk/", include("helpdesk.urls"))]
