"""A platform's own authorization flow: what "Reauthorize" runs, told apart from the web views.

Commerce's views keep the state (opaque, single-use, bound to the user who
started and to its plugin's platform, whose callback alone may use it; ten minutes), find the plugin and store what comes back; the flow
here knows only its platform: where to send the merchant, how to recognise a
genuine answer, and how to turn it into new credentials. That keeps every
platform's particulars in its own module and every view free of platform
names.

A platform whose flow is not set up here (no app keys configured) answers
``available() is False``; the help center then tells the merchant how to
reconnect in Commerce Kitty instead of offering a button that fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kitty_troubleshoot.said import Said, said

from .base import Connection

DEFAULT_RECONNECT_ADVICE = said("Reconnect it from Configuration → Plugins.")


@dataclass(frozen=True)
class AuthorizationStart:
    """Everything a flow may put in the address it sends the merchant to."""

    state: str  # the opaque single-use token; the platform hands it back
    callback_url: str  # absolute: where the platform sends the merchant (or its keys) back
    return_url: str  # absolute: where a platform that POSTs keys sends the merchant afterwards
    next_url: str  # local: where the merchant started, for a consent page served here
    local_consent_url: str = ""  # this site's consent page for the plugin (flows with consent_is_local)
    kept: dict = field(default_factory=dict, repr=False)  # what ``begin`` returned, e.g. a PKCE verifier


@dataclass(frozen=True)
class AuthorizationAnswer:
    """What came back for one Reauthorize: everything a flow's ``finish`` may read."""

    credentials: dict = field(repr=False)  # the plugin's credentials as they are now
    params: dict[str, str] = field(repr=False)  # the query the platform sent the merchant back with
    connection: Connection = field(repr=False)  # the plugin's connection: timeouts, throttle bucket
    received: dict = field(default_factory=dict, repr=False)  # what ``receive`` kept for this state
    callback_url: str = ""  # the address the platform sent the merchant back to (some exchanges repeat it)
    kept: dict = field(default_factory=dict, repr=False)  # what ``begin`` returned, e.g. a PKCE verifier


class CallbackRejected(Exception):
    """The answer did not come from the platform, or cannot be used; ``str()`` is safe to show.

    Raised with a message (``said``): ``str(exc)`` in the active language, ``exc.message`` the message.
    """

    @property
    def message(self) -> Said | str:
        return self.args[0] if self.args else ""


class AuthorizationFlow:
    """No flow of its own: the merchant reconnects the plugin in Commerce Kitty.

    Subclasses override what their platform does; the defaults describe a
    redirect-back flow (OAuth's authorization-code grant) where the state
    comes back in the ``state`` query parameter.
    """

    # The state comes back in the merchant's session rather than from the
    # platform (an install started on the platform's side carries none); such
    # a flow must check in ``finish`` that the answer is for the plugin's store.
    state_in_session: bool = False
    # The consent page is served by this site (the demo marketplace's).
    consent_is_local: bool = False

    def available(self) -> bool:
        """Whether "Reauthorize" can start this flow from here (its app keys are configured)."""
        return False

    def reconnect_advice(self) -> Said:
        """What a merchant does when ``available()`` is False; one or two sentences (a message)."""
        return DEFAULT_RECONNECT_ADVICE

    def begin(self, credentials: dict) -> dict:
        """Secrets this flow keeps with the state until the platform answers; {} for most.

        OAuth with PKCE (Etsy) keeps its code verifier here: it is stored
        encrypted with the state, its challenge goes into ``authorize_url``
        (``start.kept``) and the verifier comes back to ``finish`` (``kept``).
        """
        return {}

    def authorize_url(self, credentials: dict, start: AuthorizationStart) -> str:
        """The platform's consent page for this plugin; raises PlatformError when the plugin's address is unusable."""
        raise NotImplementedError

    def callback_state(self, params: dict[str, str]) -> str:
        """The state token in the platform's answer."""
        return params.get("state", "")

    def verify_callback(self, params: dict[str, str]) -> None:
        """Raise CallbackRejected when the answer was not sent by the platform (checked before the state is used)."""

    def needs_received_credentials(self, params: dict[str, str]) -> bool:
        """Whether the platform's server must have POSTed keys (``receive``) before the merchant returns."""
        return False

    def finish(self, answer: AuthorizationAnswer) -> dict | None:
        """New credentials to merge into the plugin's, or None when the merchant cancelled.

        Raises CallbackRejected for an answer that cannot be for this plugin,
        and PlatformError when the platform refuses the exchange.
        """
        raise CallbackRejected(said("This platform's authorization cannot be finished here."))

    def receive(self, body: bytes) -> tuple[str, dict]:
        """(state, credentials) from a server-to-server POST; CallbackRejected when there is nothing to take."""
        raise CallbackRejected(said("This platform does not send keys here."))


NO_AUTHORIZATION = AuthorizationFlow()
