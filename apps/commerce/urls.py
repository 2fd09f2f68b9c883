from django.urls import path

from . import views

app_name = "commerce"

urlpatterns = [
    path("plugins/<int:plugin_id>/demo-authorize/", views.demo_authorize, name="demo_authorize"),
]
