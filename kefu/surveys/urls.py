from django.urls import path

from kefu.surveys import views

app_name = "surveys"
urlpatterns = [
    path("callbacks/", views.callbacks, name="callbacks"),
    path("callbacks/<int:pk>/", views.callback, name="callback"),
]
