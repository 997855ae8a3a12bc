from kefu.chat import views, views_widget

app_name = "chat"

urlpatterns = [
    # The agent's console and the supervisor's live view (kefu/chat/views.py).
    *views.urlpatterns,
    # What clients' websites load and call (kefu/chat/views_widget.py): no kefu login.
    *views_widget.urlpatterns,
]
