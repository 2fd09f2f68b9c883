"""Signing in and out, and the three demo users."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_login_page_matches_the_site_and_signs_in(client, demo):
    page = client.get("/accounts/login/?next=/help/order-did-not-import/")
    assert page.status_code == 200
    assert "Commerce Kitty" in page.content.decode()

    response = client.post(
        "/accounts/login/",
        {
            "username": "merchant",
            "password": "kitty-merchant",
            "next": "/help/order-did-not-import/",
        },
    )

    assert response.headers["Location"] == "/help/order-did-not-import/"
    article = client.get("/help/order-did-not-import/").content.decode()
    assert "Signed in as <strong>merchant</strong>" in article


def test_wrong_password_says_so_without_a_500(client, demo):
    response = client.post("/accounts/login/", {"username": "merchant", "password": "nope"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_logout_asks_then_signs_out(client, demo):
    client.login(username="merchant", password="kitty-merchant")
    assert "Sign out" in client.get("/accounts/logout/").content.decode()

    response = client.post("/accounts/logout/", follow=True)

    assert "You are signed out." in response.content.decode()
    assert response.context["user"].is_anonymous


def test_demo_creates_merchant_editor_and_admin_and_prints_logins(db):

    out = StringIO()
    call_command("demo_setup", stdout=out)
    call_command("demo_setup", stdout=StringIO())  # running it again is harmless

    printed = out.getvalue()
    for line in [
        "merchant / kitty-merchant",
        "editor / kitty-editor",
        "agent / kitty-agent",
        "admin / kitty-admin",
    ]:
        assert line in printed
    User = get_user_model()
    merchant, editor, admin = (User.objects.get(username=n) for n in ("merchant", "editor", "admin"))
    assert not merchant.is_staff
    assert editor.groups.filter(name="Support editors").exists() and not editor.is_superuser
    assert admin.is_superuser


def test_support_editor_edits_help_pages_in_wagtail_but_not_django_admin(client, demo):
    from apps.help.models import TroubleshootingPage

    client.login(username="editor", password="kitty-editor")
    page = TroubleshootingPage.objects.get(slug="order-did-not-import")

    assert client.get("/cms/").status_code == 200
    assert client.get(f"/cms/pages/{page.pk}/edit/").status_code == 200
    assert client.get("/django-admin/auth/user/").status_code in (302, 403)


def test_editor_sees_what_each_check_does_when_attaching_one_to_a_step(client, demo):
    from html import unescape

    from apps.help.models import TroubleshootingPage

    client.login(username="editor", password="kitty-editor")
    page = TroubleshootingPage.objects.get(slug="order-did-not-import")

    editor = unescape(client.get(f"/cms/pages/{page.pk}/edit/").content.decode())

    # The chooser travels as escaped JSON inside the page: each check's card, with what it looks at and where.
    assert "On exactly one channel?" in editor
    assert "The channels the plugin is on: an order imports only when it is on exactly one." in editor
    assert "An Order Did Not Import, Step 2" in editor


def test_merchant_cannot_open_the_wagtail_admin(client, demo):
    client.login(username="merchant", password="kitty-merchant")

    response = client.get("/cms/")

    assert response.status_code == 302
    assert "/cms/login/" in response.headers["Location"]


def test_admin_reaches_both_admins(client, demo):
    client.login(username="admin", password="kitty-admin")

    assert client.get("/django-admin/").status_code == 200
    assert client.get("/cms/").status_code == 200
