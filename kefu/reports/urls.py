from django.urls import path

from kefu.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("dashboard/<slug:code>/", views.dashboard, name="dashboard"),
    path("monthly/<slug:code>/<str:label>/", views.monthly, name="monthly"),
    path("monthly/<slug:code>/<str:label>/issue/", views.issue, name="issue"),
    path("calls/<slug:code>/<str:label>/", views.calls, name="calls"),
    path("surveys/<slug:code>/<str:label>/", views.surveys, name="surveys"),
    path("issued/<int:pk>/", views.issued, name="issued"),
    path("issued/<int:pk>/file.<str:kind>", views.issued_file, name="issued_file"),
    path("issued/<int:pk>/sign-off/", views.sign_off, name="sign_off"),
    path("issued/<int:pk>/dispute/", views.dispute, name="dispute"),
    path("disputes/<int:review_id>/answer/", views.dispute_answer, name="dispute_answer"),
]
