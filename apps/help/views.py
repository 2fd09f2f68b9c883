from django.contrib import messages
from django.contrib.auth import logout
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods


@never_cache
def healthz(request):
    """For load balancers and compose: the process serves and reaches its database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})


def baseline(request):
    """A static template and no queries: the floor bench/article_page.py measures against.

    Routed only when settings.BENCHMARK_VIEWS is on.
    """
    return render(request, "help/baseline.html")


@never_cache
@require_http_methods(["GET", "POST"])
def logout_view(request):
    """GET asks to confirm; POST (CSRF-checked) signs out and returns to the help center."""
    if request.method == "POST":
        was_signed_in = request.user.is_authenticated
        logout(request)
        if was_signed_in:
            messages.info(request, "You are signed out.")
        return redirect("/help/")
    return render(request, "registration/logout.html")
