"""Who reaches which admin page: merchant, support editor, support agent and admin, on every admin URL.

Editors work in Wagtail and never see a merchant's rows; agents see tickets
and diagnoses (and re-check them) in Django admin and nothing else there;
merchants reach neither admin; admins reach everything.
"""

from io import StringIO

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.api.tokens import api_call_record, token_authenticate, token_create
from apps.checks.models import CheckRun, Diagnosis
from tests.factories import order_inputs
from tests.support.factories import SupportTicketFactory

pytestmark = pytest.mark.django_db

ROLES = {
    "anonymous": None,
    "merchant": "kitty-merchant",
    "editor": "kitty-editor",
    "agent": "kitty-agent",
    "admin": "kitty-admin",
}
# What a support agent may open in Django admin (model → may change rows).
AGENT_MODELS = {
    "support.supportticket": True,
    "checks.diagnosis": False,
    "checks.checkrun": False,
    "api.apitoken": False,
    "api.apicall": False,
}


@pytest.fixture
def clients(article):
    call_command("demo_setup", stdout=StringIO())
    diagnosis = Diagnosis.objects.create(
        merchant_id=1, subject_id=1, subject_label="Main store", **order_inputs("1")
    )
    CheckRun.objects.create(
        diagnosis=diagnosis,
        merchant_id=1,
        check_key="import_orders_enabled",
        status="passed",
        summary="On.",
        deadline=timezone.now(),
    )
    SupportTicketFactory(merchant_id=1)
    # A merchant's API token and a call made with it: agents read both, nobody edits them.
    merchant = get_user_model().objects.get(username="merchant")
    account = merchant.memberships.order_by("pk").first().merchant_id
    _token, raw = token_create(user=merchant, merchant_id=account, name="Support bot", scopes=["diagnose"])
    api_call_record(token_authenticate(raw), door="api", action="diagnosis.start", diagnosis=diagnosis)
    signed_in = {}
    for role, password in ROLES.items():
        client = Client()
        if password:
            assert client.login(username=role, password=password)
        signed_in[role] = client
    return signed_in


def admin_urls() -> list[tuple[str, str, str]]:
    """(model label, what, url) for every registered model's list, add and first row pages."""
    urls = []
    for model in admin.site._registry:
        label = f"{model._meta.app_label}.{model._meta.model_name}"
        info = (model._meta.app_label, model._meta.model_name)
        urls.append((label, "list", reverse("admin:{}_{}_changelist".format(*info))))
        urls.append((label, "add", reverse("admin:{}_{}_add".format(*info))))
        row = model._default_manager.order_by("pk").first()
        if row is not None:
            urls.append((label, "change", reverse("admin:{}_{}_change".format(*info), args=[row.pk])))
    return urls


def expected(role: str, label: str, what: str) -> int:
    """200 where the role may look, 403 where a signed-in staff user may not, 302 to sign in otherwise."""
    if role in ("anonymous", "merchant", "editor"):
        return 302  # not staff: Django admin sends them to its sign-in page
    if role == "admin":
        model = next(m for m in admin.site._registry if f"{m._meta.app_label}.{m._meta.model_name}" == label)
        may_add = admin.site._registry[model].has_add_permission(_AdminRequest())
        return 403 if what == "add" and not may_add else 200
    if label in AGENT_MODELS:
        return 403 if what == "add" else 200
    return 403


class _AdminRequest:
    """Enough of a request for has_add_permission of a superuser."""

    class user:
        is_active = is_staff = is_superuser = True

        @staticmethod
        def has_perm(perm, obj=None):
            return True


def test_every_django_admin_url_by_role(clients):
    wrong = []
    for label, what, url in admin_urls():
        for role, client in clients.items():
            status = client.get(url).status_code
            if status != expected(role, label, what):
                wrong.append((role, url, status, expected(role, label, what)))
    assert not wrong, wrong


@pytest.mark.parametrize(
    "role,status",
    [("anonymous", 302), ("merchant", 302), ("editor", 200), ("agent", 302), ("admin", 200)],
)
def test_wagtail_admin_by_role(clients, role, status):
    assert clients[role].get("/cms/").status_code == status


def test_an_agent_changes_a_tickets_status_but_nothing_else(clients):
    from apps.support.models import SupportTicket

    ticket = SupportTicket.objects.get()
    url = reverse("admin:support_supportticket_change", args=[ticket.pk])

    response = clients["agent"].post(url, {"status": "closed", "order_number": "HACKED"})

    ticket.refresh_from_db()
    assert response.status_code == 302
    assert ticket.status == "closed" and ticket.order_number != "HACKED"


def test_the_matrix_covers_every_registered_model(clients):
    labels = {label for label, _, _ in admin_urls()}

    assert {
        "support.supportticket",
        "checks.diagnosis",
        "commerce.order",
        "commerce.plugin",
        "auth.user",
        "api.apitoken",
        "api.apicall",
    } <= labels
    assert clients["agent"].get(reverse("admin:commerce_order_changelist")).status_code == 403
    assert clients["agent"].get(reverse("admin:support_supportticket_changelist")).status_code == 200
    assert clients["agent"].get(reverse("admin:api_apicall_changelist")).status_code == 200


# Wagtail pages for editors: the outcome report and incidents; aggregates and platform-wide notes only.
EDITOR_PAGES = ["/cms/reports/article-outcomes/", "/cms/incidents/"]


@pytest.mark.parametrize("url", EDITOR_PAGES)
@pytest.mark.parametrize(
    "role,status",
    [("anonymous", 302), ("merchant", 302), ("editor", 200), ("agent", 302), ("admin", 200)],
)
def test_editor_pages_in_wagtail_by_role(clients, url, role, status):
    assert clients[role].get(url).status_code == status
