from django.urls import path

from . import views

app_name = "checks"

urlpatterns = [
    path("start/", views.check_start, name="start"),
    # "Check every step" has an address of its own, so the front can serve it (and its
    # summary's polls) from web processes of their own: see deploy/nginx/kitty.conf.template.
    path("start/every-step/", views.check_start, {"every_step": True}, name="start_every_step"),
    path("runs/<uuid:run_uuid>/", views.check_run_poll, name="run"),
    path("runs/<uuid:run_uuid>/fix/", views.check_run_fix, name="fix"),
    path("diagnoses/<uuid:diagnosis_uuid>/summary/", views.diagnosis_summary, name="summary"),
    path("diagnoses/<uuid:diagnosis_uuid>/open/", views.diagnosis_open, name="open"),
    path("preview/reset/", views.preview_sandbox_reset_view, name="preview_reset"),
]
