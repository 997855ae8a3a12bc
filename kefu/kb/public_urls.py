from django.urls import path

from kefu.kb import views_public

app_name = "kb_public"

urlpatterns = [
    path("", views_public.search, name="search"),
    path("suggest", views_public.suggest, name="suggest"),
    path("a/<int:pk>/", views_public.article, name="article"),
    path("a/<int:pk>/helpful", views_public.helpful, name="helpful"),
    path("f/<int:pk>/", views_public.attachment, name="attachment"),
]
