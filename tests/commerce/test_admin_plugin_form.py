"""The plugin form in Django admin: channels of the plugin's own merchant only; credentials never shown."""

import pytest

from apps.commerce.models import Plugin
from tests.factories import ChannelFactory, MerchantFactory, UserFactory

pytestmark = pytest.mark.django_db
ADD_URL = "/django-admin/commerce/plugin/add/"


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def plugin_form(merchant, channels, **overrides):
    data = {
        "merchant": merchant.pk,
        "platform": "sandbox",
        "name": "Main store",
        "channels": [c.pk for c in channels],
        "import_orders": "on",
        "new_credentials": "",
    }
    data.update(overrides)
    return data


def test_a_plugin_cannot_be_put_on_another_merchants_channel(admin_client):
    mine, theirs = MerchantFactory(name="Whisker & Co."), MerchantFactory(name="Someone else")
    foreign = ChannelFactory(merchant=theirs, name="Their web store")

    response = admin_client.post(ADD_URL, plugin_form(mine, [foreign]))

    assert response.status_code == 200  # the form again, with the reason
    assert "These channels belong to another merchant: Their web store (Someone else)." in (
        response.content.decode()
    )
    assert not Plugin.objects.exists()


def test_an_existing_plugin_offers_only_its_merchants_channels(admin_client):
    mine, theirs = MerchantFactory(name="Whisker & Co."), MerchantFactory(name="Someone else")
    own = ChannelFactory(merchant=mine, name="Web store", code="web")
    ChannelFactory(merchant=theirs, name="Their web store")
    admin_client.post(ADD_URL, plugin_form(mine, [own]))
    plugin = Plugin.objects.get()

    page = admin_client.get(f"/django-admin/commerce/plugin/{plugin.pk}/change/").content.decode()

    assert "Web store (web, Whisker &amp; Co.)" in page
    assert "Their web store" not in page


def test_typed_credentials_are_not_shown_again_when_the_form_has_errors(admin_client):
    merchant = MerchantFactory()
    secret = '{"store": "main", "access_token": "shpat_typed_secret_123"}'

    response = admin_client.post(ADD_URL, plugin_form(merchant, [], name="", new_credentials=secret))

    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert "shpat_typed_secret_123" not in response.content.decode()
