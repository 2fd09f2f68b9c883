from django.urls import path

from . import views

app_name = "commerce"

urlpatterns = [
    path("plugins/<int:plugin_id>/reauthorize/", views.reauthorize, name="reauthorize"),
    path("plugins/<int:plugin_id>/demo-authorize/", views.demo_authorize, name="demo_authorize"),
    path("oauth/shopify/callback/", views.shopify_callback, name="shopify_callback"),
    path("oauth/woocommerce/callback/", views.woocommerce_callback, name="woocommerce_callback"),
    path("oauth/woocommerce/return/", views.woocommerce_return, name="woocommerce_return"),
]
