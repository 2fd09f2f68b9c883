"""Reauthorize: each platform's authorization flow, started and finished here.

The views keep what is the same for every platform (the single-use state
bound to its user, finding the plugin, keeping the new credentials, saying
so where the merchant left); the plugin's provider does the rest. No view
knows a platform by name.
"""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from apps.checks.services.fixes import diagnosis_recheck_after_fix
from apps.platforms.authorization import AuthorizationStart, CallbackRejected
from apps.platforms.base import PlatformError
from apps.platforms.registry import Provider, UnknownPlatform, provider
from kitty_troubleshoot.params import safe_next
from kitty_troubleshoot.said import said

from .models import Plugin
from .selectors import plugin_for_account, reauthorize_supported
from .services import (
    AuthorizationRefused,
    authorization_state_receive,
    authorization_state_start,
    authorization_state_use,
    plugin_authorization_finish,
)

logger = logging.getLogger(__name__)

# Where a flow whose platform sets no state keeps it between start and callback.
_SESSION_STATE = "authorization_state:{key}"


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
        said(
            "This authorization was started in your account “%(account)s”, and you have switched accounts "
            "since. Nothing changed: switch back and start Reauthorize again.",
            account=started_in.merchant_name,
        )
    )


def _provider_or_404(key: str) -> Provider:
    try:
        return provider(key)
    except UnknownPlatform:
        raise Http404("No such platform.") from None


@login_required
@require_GET
def reauthorize(request, plugin_id: int):
    """Send the merchant to the platform's own consent screen for this plugin."""
    plugin = _get_plugin_for_account(request, plugin_id)
    back = safe_next(request, request.GET.get("next"))
    if not reauthorize_supported(plugin):
        raise Http404("This platform's authorization cannot be started from here.")
    flow = plugin.provider.flow
    local_consent_url = reverse("commerce:demo_authorize", args=[plugin.pk])
    # The platform hands back only this opaque token; what it stands for stays here.
    # A consent page of our own needs none: the merchant never leaves the site.
    kept = {} if flow.consent_is_local else flow.begin(dict(plugin.credentials))
    state = (
        ""
        if flow.consent_is_local
        else authorization_state_start(plugin=plugin, user=request.user, next_url=back, kept=kept)
    )
    if flow.state_in_session:
        request.session[_SESSION_STATE.format(key=plugin.platform)] = state
    start = AuthorizationStart(
        state=state,
        callback_url=request.build_absolute_uri(
            reverse("commerce:authorization_callback", args=[plugin.platform])
        ),
        return_url=request.build_absolute_uri(
            reverse("commerce:authorization_return", args=[plugin.platform])
        ),
        next_url=back,
        local_consent_url=local_consent_url,
        kept=kept,
    )
    try:
        url = flow.authorize_url(dict(plugin.credentials), start)
    except PlatformError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    return HttpResponseRedirect(url)


def _refused(exc: Exception):
    return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")


@login_required
@require_GET
def authorization_return(request, platform: str):
    """The platform sends the merchant back here: with a code to trade, or after its server sent keys."""
    chosen = _provider_or_404(platform)
    flow = chosen.flow
    params = {key: request.GET.get(key, "") for key in request.GET}
    try:
        flow.verify_callback(params)
    except CallbackRejected as exc:
        return _refused(exc)
    token = flow.callback_state(params)
    if flow.state_in_session:
        token = request.session.pop(_SESSION_STATE.format(key=chosen.key), "")
    try:
        state = authorization_state_use(
            token=token,
            platform=chosen.key,
            user=request.user,
            needs_received_keys=flow.needs_received_credentials(params),
        )
        plugin = _plugin_of_state(request, state)
    except AuthorizationRefused as exc:
        return _refused(exc)
    back = safe_next(request, state.next_url)
    if plugin.platform != chosen.key:
        return HttpResponseBadRequest(
            _("This authorization is not for a %(platform)s plugin.") % {"platform": chosen.label}
        )
    try:
        renewed = plugin_authorization_finish(
            plugin=plugin,
            params=params,
            received=dict(state.received_credentials or {}),
            callback_url=request.build_absolute_uri(request.path),
            kept=dict(state.kept or {}),
        )
    except CallbackRejected as exc:
        return _refused(exc)
    except PlatformError as exc:
        messages.error(
            request, _("“%(plugin)s” was not reauthorized: %(error)s") % {"plugin": plugin.name, "error": exc}
        )
        return redirect(back)
    if not renewed:
        messages.info(
            request,
            _("Authorization of “%(plugin)s” was cancelled; nothing changed.") % {"plugin": plugin.name},
        )
        return redirect(back)
    _authorized_again(request, plugin)
    return redirect(back)


@csrf_exempt  # a POST comes from the platform's server, not a browser; the opaque state identifies the flow
@require_http_methods(["GET", "POST"])
def authorization_callback(request, platform: str):
    """GET: the merchant is back from the platform (see authorization_return).

    POST: the platform's server sends new keys for a flow in progress. They
    are only kept with the state: the sender is not signed in, so they take
    effect when the merchant who started the flow returns.
    """
    if request.method == "GET":
        return authorization_return(request, platform)
    chosen = _provider_or_404(platform)
    try:
        token, credentials = chosen.flow.receive(request.body)
        state = authorization_state_receive(token=token, platform=chosen.key, credentials=credentials)
    except (CallbackRejected, AuthorizationRefused) as exc:
        return _refused(exc)
    logger.info("%s plugin %s: new keys received, waiting for the merchant", chosen.label, state.plugin_id)
    return JsonResponse({"ok": True})


def _authorized_again(request, plugin: Plugin) -> None:
    """Say so where the merchant left: on the authorization step, checked again; else at the top."""
    note = said("“%(plugin)s” is authorized again.", plugin=plugin.name)
    if diagnosis_recheck_after_fix(
        user=request.user,
        merchant_id=plugin.merchant_id,
        subject_id=plugin.pk,
        check_key="plugin_authorized",
        note=note,
    ):
        return
    messages.success(
        request,
        _("“%(plugin)s” is authorized again. Run the check to see it pass.") % {"plugin": plugin.name},
    )


@login_required
@require_http_methods(["GET", "POST"])
def demo_authorize(request, plugin_id: int):
    """The consent page of a platform whose consent is served here (the demo marketplace's)."""
    plugin = _get_plugin_for_account(request, plugin_id)
    if not plugin.provider.flow.consent_is_local:
        raise Http404("This plugin's platform shows its own consent page.")
    back = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.method == "POST":
        if "allow" in request.POST:
            try:
                plugin_authorization_finish(plugin=plugin, params={"allow": "1"})
            except PlatformError as exc:
                messages.error(
                    request,
                    _("“%(plugin)s” was not reauthorized: %(error)s") % {"plugin": plugin.name, "error": exc},
                )
                return redirect(back)
            _authorized_again(request, plugin)
        else:
            messages.info(
                request,
                _("Authorization of “%(plugin)s” was cancelled; nothing changed.") % {"plugin": plugin.name},
            )
        return redirect(back)
    return render(request, "commerce/demo_authorize.html", {"plugin": plugin, "next": back})
