from django.urls import path

from kefu.kb import views

app_name = "kb"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.article_edit, name="article_new"),
    path("<int:pk>/", views.article_edit, name="article"),
    path("<int:pk>/delete/", views.article_delete, name="article_delete"),
    path("<int:pk>/v/<int:number>/", views.version_diff, name="version"),
    path("file/<int:pk>/", views.attachment_download, name="attachment"),
    path("categories/", views.categories, name="categories"),
    path("synonyms/", views.synonyms, name="synonyms"),
    path("canned/", views.canned, name="canned"),
    path("canned/<int:pk>/", views.canned, name="canned_edit"),
    path("deflection/", views.deflection, name="deflection"),
    path("agent/articles.json", views.agent_articles, name="agent_articles"),
    path("agent/canned.json", views.agent_canned, name="agent_canned"),
]
