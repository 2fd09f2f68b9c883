from django.urls import path

from . import views

app_name = "tokens"

urlpatterns = [
    path("", views.tokens_page, name="list"),
    path("<int:pk>/revoke/", views.token_revoke_view, name="revoke"),
]
