"""Reauthorize: each platform's authorization flow, started and finished here."""

import json
import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import Http404, HttpResponseBadRequest, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.checks.services import diagnosis_recheck_after_fix
from apps.platforms import oauth
from apps.platforms.base import PlatformError

from .models import Plugin
from .selectors import plugin_for_user, reauthorize_supported
from .services import plugin_credentials_renew, plugin_reauthorize_demo

logger = logging.getLogger(__name__)
STATE_SALT = "commerce.reauthorize"
STATE_MAX_AGE = 30 * 60  # seconds a merchant has to approve on the platform


def _safe_next(request, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}):
        return value
    return "/help/"


@login_required
@require_GET
def reauthorize(request, plugin_id: int):
    """Send the merchant to the platform's own consent screen for this plugin."""
    plugin = plugin_for_user(request.user, plugin_id)
    back = _safe_next(request, request.GET.get("next"))
    if not reauthorize_supported(plugin):
        raise Http404("This platform's authorization cannot be started from here.")
    if plugin.platform == "sandbox":
        return redirect(f"{reverse('commerce:demo_authorize', args=[plugin.pk])}?{urlencode({'next': back})}")
    state = signing.dumps({"plugin": plugin.pk, "user": request.user.pk, "next": back}, salt=STATE_SALT)
    try:
        if plugin.platform == "shopify":
            url = oauth.shopify_authorize_url(
                plugin.credentials,
                client_id=settings.SHOPIFY_CLIENT_ID,
                redirect_uri=request.build_absolute_uri(reverse("commerce:shopify_callback")),
                state=state,
            )
        else:
            url = oauth.woocommerce_authorize_url(
                plugin.credentials,
                app_name="Commerce Kitty",
                user_id=state,
                return_url=request.build_absolute_uri(back),
                callback_url=request.build_absolute_uri(reverse("commerce:woocommerce_callback")),
            )
    except PlatformError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    return HttpResponseRedirect(url)


def _state(value: str, *, max_age: int = STATE_MAX_AGE) -> dict | None:
    try:
        state = signing.loads(value, salt=STATE_SALT, max_age=max_age)
    except signing.BadSignature:
        return None
    return state if isinstance(state, dict) and isinstance(state.get("plugin"), int) else None


@login_required
@require_GET
def shopify_callback(request):
    """Shopify sends the merchant back here with a code to trade for a new token."""
    query = {key: request.GET.get(key, "") for key in request.GET}
    state = _state(query.get("state", ""))
    if state is None or state.get("user") != request.user.pk:
        return HttpResponseBadRequest(
            "This authorization link has expired or is not yours. Start Reauthorize again."
        )
    plugin = plugin_for_user(request.user, state["plugin"])
    back = _safe_next(request, state.get("next"))
    if not settings.SHOPIFY_CLIENT_SECRET or not oauth.shopify_callback_is_genuine(
        query, client_secret=settings.SHOPIFY_CLIENT_SECRET
    ):
        return HttpResponseBadRequest(
            "This authorization did not come from Shopify. Start Reauthorize again."
        )
    try:
        token = oauth.shopify_exchange_code(
            plugin.credentials,
            client_id=settings.SHOPIFY_CLIENT_ID,
            client_secret=settings.SHOPIFY_CLIENT_SECRET,
            code=query.get("code", ""),
            connection=plugin.client().connection,
        )
    except PlatformError as exc:
        messages.error(request, f"“{plugin.name}” was not reauthorized: {exc}")
        return redirect(back)
    plugin_credentials_renew(plugin=plugin, new_credentials={"access_token": token})
    _authorized_again(request, plugin)
    return redirect(back)


@csrf_exempt  # called by the WooCommerce site, not a browser; the signed state authenticates it
@require_POST
def woocommerce_callback(request):
    """WooCommerce POSTs the new REST API keys here after the merchant approved."""
    try:
        payload = json.loads(request.body or b"{}")
    except ValueError:
        return HttpResponseBadRequest("Expected JSON.")
    if not isinstance(payload, dict):
        return HttpResponseBadRequest("Expected a JSON object.")
    state = _state(str(payload.get("user_id", "")))
    key, secret = payload.get("consumer_key"), payload.get("consumer_secret")
    if state is None:
        return HttpResponseBadRequest("Unknown or expired authorization.")
    if not (
        isinstance(key, str)
        and key.startswith("ck_")
        and isinstance(secret, str)
        and secret.startswith("cs_")
    ):
        return HttpResponseBadRequest("Missing consumer_key / consumer_secret.")
    plugin = Plugin.objects.filter(pk=state["plugin"]).first()
    if plugin is None or plugin.platform != "woocommerce":
        return HttpResponseBadRequest("Unknown or expired authorization.")
    plugin_credentials_renew(plugin=plugin, new_credentials={"consumer_key": key, "consumer_secret": secret})
    logger.info("WooCommerce plugin %s received new API keys", plugin.pk)
    return JsonResponse({"ok": True})


def _authorized_again(request, plugin: Plugin) -> None:
    """Say so where the merchant left: on the authorization step, checked again; else at the top."""
    note = f"“{plugin.name}” is authorized again."
    if diagnosis_recheck_after_fix(
        user=request.user, subject_id=plugin.pk, check_key="plugin_authorized", note=note
    ):
        return
    messages.success(request, f"{note} Run the check to see it pass.")


@login_required
@require_http_methods(["GET", "POST"])
def demo_authorize(request, plugin_id: int):
    """The demo marketplace's consent page."""
    plugin = plugin_for_user(request.user, plugin_id)
    if plugin.platform != "sandbox":
        raise Http404("Only demo-marketplace plugins authorize here.")
    back = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.method == "POST":
        if "allow" in request.POST:
            try:
                plugin_reauthorize_demo(plugin=plugin)
            except PlatformError as exc:
                messages.error(request, str(exc))
                return redirect(back)
            _authorized_again(request, plugin)
        else:
            messages.info(request, f"Authorization of “{plugin.name}” was cancelled; nothing changed.")
        return redirect(back)
    return render(request, "commerce/demo_authorize.html", {"plugin": plugin, "next": back})
