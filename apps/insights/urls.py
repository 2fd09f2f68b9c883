from django.urls import path

from . import views

app_name = "insights"
urlpatterns = [
    path("helpful/<int:page_id>/", views.helpful_vote, name="helpful_vote"),
    path("search/<uuid:search_uuid>/", views.search_click, name="search_click"),
]
