"""The demo marketplace's consent page: what "Reauthorize" opens for a demo plugin."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from .selectors import plugin_for_user
from .services import plugin_reauthorize_demo


@login_required
@require_http_methods(["GET", "POST"])
def demo_authorize(request, plugin_id: int):
    plugin = plugin_for_user(request.user, plugin_id)
    if plugin.platform != "sandbox":
        raise Http404("Only demo-marketplace plugins authorize here.")
    back = request.POST.get("next") or request.GET.get("next") or "/help/"
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = "/help/"
    if request.method == "POST":
        if "allow" in request.POST:
            plugin_reauthorize_demo(plugin=plugin)
            messages.success(request, f"“{plugin.name}” is authorized again. Run the check to see it pass.")
        else:
            messages.info(request, f"Authorization of “{plugin.name}” was cancelled; nothing changed.")
        return redirect(back)
    return render(request, "commerce/demo_authorize.html", {"plugin": plugin, "next": back})
