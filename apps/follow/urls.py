from django.urls import path

from . import views

app_name = "follow"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:pk>/open/", views.notification_open, name="open"),
    path("<int:pk>/read/", views.notification_read, name="read"),
    path("read-all/", views.notifications_read_all, name="read_all"),
    path("settings/", views.email_settings, name="settings"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("watches/", views.watch_start_view, name="watch_start"),
    path("watches/<uuid:watch_uuid>/cancel/", views.watch_cancel_view, name="watch_cancel"),
]
