from django.urls import path

from . import views

app_name = "commerce"

urlpatterns = [
    path("plugins/<int:plugin_id>/reauthorize/", views.reauthorize, name="reauthorize"),
    path("plugins/<int:plugin_id>/demo-authorize/", views.demo_authorize, name="demo_authorize"),
    # One pair of addresses per platform, its key in the path: /oauth/shopify/callback/, ...
    path("oauth/<slug:platform>/callback/", views.authorization_callback, name="authorization_callback"),
    path("oauth/<slug:platform>/return/", views.authorization_return, name="authorization_return"),
]
