from django.urls import path

from kefu.portal import views

app_name = "portal"

urlpatterns = [
    path("<str:code>/", views.home, name="home"),
    path("<str:code>/lang/", views.language, name="language"),
    path("<str:code>/login/", views.login, name="login"),
    path("<str:code>/login/code/", views.code, name="code"),
    path("<str:code>/login/link/", views.link_base, name="link_base"),
    path("<str:code>/login/link/<int:challenge>/<str:secret>/", views.link, name="link"),
    path("<str:code>/logout/", views.logout, name="logout"),
    path("<str:code>/logo", views.logo, name="logo"),
    path("<str:code>/tickets/", views.tickets, name="tickets"),
    path("<str:code>/tickets/new/", views.new, name="new"),
    path("<str:code>/tickets/<str:number>/", views.ticket, name="ticket"),
    path("<str:code>/tickets/<str:number>/close/", views.close, name="close"),
    path(
        "<str:code>/tickets/<str:number>/files/<int:attachment_id>/",
        views.attachment,
        name="attachment",
    ),
]
