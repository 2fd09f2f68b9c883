from django.urls import path

from . import views

app_name = "support"

urlpatterns = [
    path("tickets/new/", views.ticket_create_view, name="ticket_create"),
    path("tickets/form/", views.ticket_form_view, name="ticket_form"),
    path("tickets/<str:reference>/", views.ticket_detail, name="ticket_detail"),
]
