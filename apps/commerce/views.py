"""Reauthorize: each platform's authorization flow, started and finished here."""

import json
import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
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
from .selectors import plugin_for_account, reauthorize_supported
from .services import (
    AuthorizationRefused,
    authorization_state_receive,
    authorization_state_start,
    authorization_state_use,
    plugin_credentials_renew,
    plugin_reauthorize_demo,
)

logger = logging.getLogger(__name__)


def _get_plugin_for_account(request, plugin_id: int) -> Plugin:
    """The plugin if it is in the account the user works in; anything else is a 404, as if it did not exist."""
    plugin = plugin_for_account(request.account, plugin_id)
    if plugin is None:
        raise Http404("No such plugin.")
    return plugin


def _plugin_of_state(request, state) -> Plugin:
    """The plugin an authorization coming back is for, if it is in the account the user works in.

    A user who switched accounts while on the platform's consent screen is
    told so (nothing changed) rather than shown a bare 404.
    """
    plugin = plugin_for_account(request.account, state.plugin_id)
    if plugin is not None:
        return plugin
    started_in = next((a for a in request.accounts if a.merchant_id == state.plugin.merchant_id), None)
    if started_in is None:
        raise Http404("No such plugin.")
    raise AuthorizationRefused(
        f"This authorization was started in your account “{started_in.merchant_name}”, and you have "
        "switched accounts since. Nothing changed: switch back and start Reauthorize again."
    )


def _safe_next(request, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}):
        return value
    return "/help/"


@login_required
@require_GET
def reauthorize(request, plugin_id: int):
    """Send the merchant to the platform's own consent screen for this plugin."""
    plugin = _get_plugin_for_account(request, plugin_id)
    back = _safe_next(request, request.GET.get("next"))
    if not reauthorize_supported(plugin):
        raise Http404("This platform's authorization cannot be started from here.")
    if plugin.platform == "sandbox":
        return redirect(f"{reverse('commerce:demo_authorize', args=[plugin.pk])}?{urlencode({'next': back})}")
    # The platform hands back only this opaque token; what it stands for stays here.
    state = authorization_state_start(plugin=plugin, user=request.user, next_url=back)
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
                return_url=request.build_absolute_uri(reverse("commerce:woocommerce_return")),
                callback_url=request.build_absolute_uri(reverse("commerce:woocommerce_callback")),
            )
    except PlatformError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    return HttpResponseRedirect(url)


def _refused(exc: AuthorizationRefused):
    return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")


@login_required
@require_GET
def shopify_callback(request):
    """Shopify sends the merchant back here with a code to trade for a new token."""
    query = {key: request.GET.get(key, "") for key in request.GET}
    # The signature first: a forged request must not use up the merchant's state.
    if not settings.SHOPIFY_CLIENT_SECRET or not oauth.shopify_callback_is_genuine(
        query, client_secret=settings.SHOPIFY_CLIENT_SECRET
    ):
        return HttpResponseBadRequest(
            "This authorization did not come from Shopify. Start Reauthorize again."
        )
    try:
        state = authorization_state_use(token=query.get("state", ""), user=request.user)
        plugin = _plugin_of_state(request, state)
    except AuthorizationRefused as exc:
        return _refused(exc)
    back = _safe_next(request, state.next_url)
    if plugin.platform != "shopify":
        return HttpResponseBadRequest("This authorization is not for a Shopify plugin.")
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


@csrf_exempt  # called by the WooCommerce site, not a browser; the opaque state identifies the flow
@require_POST
def woocommerce_callback(request):
    """WooCommerce's server POSTs the new REST API keys here after the merchant approved.

    The keys are only kept with the state: the sender is not signed in, so they
    take effect when the merchant who started the flow returns (woocommerce_return).
    """
    try:
        payload = json.loads(request.body or b"{}")
    except ValueError:
        return HttpResponseBadRequest("Expected JSON.")
    if not isinstance(payload, dict):
        return HttpResponseBadRequest("Expected a JSON object.")
    key, secret = payload.get("consumer_key"), payload.get("consumer_secret")
    if not (
        isinstance(key, str)
        and key.startswith("ck_")
        and isinstance(secret, str)
        and secret.startswith("cs_")
    ):
        return HttpResponseBadRequest("Missing consumer_key / consumer_secret.")
    try:
        state = authorization_state_receive(
            token=str(payload.get("user_id", "")),
            credentials={"consumer_key": key, "consumer_secret": secret},
        )
    except AuthorizationRefused as exc:
        return _refused(exc)
    logger.info("WooCommerce plugin %s: new API keys received, waiting for the merchant", state.plugin_id)
    return JsonResponse({"ok": True})


def _authorized_again(request, plugin: Plugin) -> None:
    """Say so where the merchant left: on the authorization step, checked again; else at the top."""
    note = f"“{plugin.name}” is authorized again."
    if diagnosis_recheck_after_fix(
        user=request.user,
        merchant_id=plugin.merchant_id,
        subject_id=plugin.pk,
        check_key="plugin_authorized",
        note=note,
    ):
        return
    messages.success(request, f"{note} Run the check to see it pass.")


@login_required
@require_GET
def woocommerce_return(request):
    """WooCommerce sends the merchant back here (``success=1|0&user_id=<state>``); their keys take effect."""
    try:
        state = authorization_state_use(
            token=request.GET.get("user_id", ""),
            user=request.user,
            needs_received_keys=request.GET.get("success") == "1",
        )
        plugin = _plugin_of_state(request, state)
    except AuthorizationRefused as exc:
        return _refused(exc)
    back = _safe_next(request, state.next_url)
    if request.GET.get("success") != "1" or plugin.platform != "woocommerce":
        messages.info(request, f"Authorization of “{plugin.name}” was cancelled; nothing changed.")
        return redirect(back)
    plugin_credentials_renew(plugin=plugin, new_credentials=dict(state.received_credentials))
    _authorized_again(request, plugin)
    return redirect(back)


@login_required
@require_http_methods(["GET", "POST"])
def demo_authorize(request, plugin_id: int):
    """The demo marketplace's consent page."""
    plugin = _get_plugin_for_account(request, plugin_id)
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
