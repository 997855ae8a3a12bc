from django.urls import path

from kefu.privacy import views

app_name = "privacy"
urlpatterns = [
    path("audit/", views.audit_log, name="audit_log"),
    path("audit/export.csv", views.audit_csv, name="audit_csv"),
    path("customers/<int:customer_id>/", views.customer, name="customer"),
    path("customers/<int:customer_id>/export/", views.customer_export, name="customer_export"),
    path(
        "customers/<int:customer_id>/anonymise/",
        views.customer_anonymise,
        name="customer_anonymise",
    ),
    path("retention/", views.retention, name="retention"),
    path("retention/<int:run_id>/", views.retention_certificate, name="retention_certificate"),
]
