"""Platform credentials are encrypted at rest and never shown."""

import pytest
from django.db import connection

from apps.commerce.models import Plugin
from tests.factories import PluginFactory, UserFactory

pytestmark = pytest.mark.django_db

TOKEN = "shpat_super_secret_token_1234567890"


def test_raw_column_holds_no_token():
    plugin = PluginFactory(platform="shopify", credentials={"shop": "kitty", "access_token": TOKEN})

    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM commerce_plugin WHERE id = %s", [plugin.pk])
        (raw,) = cursor.fetchone()

    assert TOKEN not in raw
    assert "access_token" not in raw
    assert Plugin.objects.get(pk=plugin.pk).credentials["access_token"] == TOKEN


def test_admin_never_renders_credentials_and_blank_keeps_them(client):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    plugin = PluginFactory(platform="shopify", credentials={"shop": "kitty", "access_token": TOKEN})
    url = f"/django-admin/commerce/plugin/{plugin.pk}/change/"

    page = client.get(url).content.decode()
    assert TOKEN not in page
    assert "Replace credentials" in page

    form = {
        "merchant": plugin.merchant_id,
        "platform": "shopify",
        "name": "Renamed",
        "channels": [c.pk for c in plugin.channels.all()],
        "import_orders": "on",
        "new_credentials": "",
    }
    assert client.post(url, form).status_code == 302
    plugin.refresh_from_db()
    assert plugin.name == "Renamed"
    assert plugin.credentials["access_token"] == TOKEN


def test_admin_replaces_credentials_and_rejects_garbage(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    plugin = PluginFactory()
    url = f"/django-admin/commerce/plugin/{plugin.pk}/change/"
    form = {
        "merchant": plugin.merchant_id,
        "platform": "sandbox",
        "name": plugin.name,
        "channels": [c.pk for c in plugin.channels.all()],
    }

    bad = client.post(url, {**form, "new_credentials": "{not json"})
    assert bad.status_code == 200
    assert "Not valid JSON." in bad.content.decode()

    client.post(url, {**form, "new_credentials": '{"store": "x", "access_token": "new"}'})
    plugin.refresh_from_db()
    assert plugin.credentials == {"store": "x", "access_token": "new"}


def test_a_connection_never_shows_its_credentials():
    from apps.platforms.base import Connection

    connection = Connection(bucket="plugin:1", credentials={"access_token": "shpat_never_print_me"})

    assert "shpat_never_print_me" not in repr(connection)
    assert "plugin:1" in repr(connection)
