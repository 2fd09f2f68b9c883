"""A platform added to the registry needs no migration: its key is validated against the table, not choices=."""

from __future__ import annotations

import io

import pytest
from django.contrib.admin.sites import site
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import RequestFactory

from apps.commerce.admin import PluginAdminForm
from apps.commerce.models import Plugin
from apps.incidents.models import Incident
from apps.platforms import registry
from tests.factories import MerchantFactory, UserFactory
from tests.platforms.test_providers import OneLineClient  # noqa: F401 (the provider line names it)

pytestmark = pytest.mark.django_db


@pytest.fixture
def extra_platform(monkeypatch):
    """A provider module and its one registry line, as a platform added later would bring."""
    line = registry.Provider("oneline", "One Line", "tests.platforms.test_providers", client="OneLineClient")
    monkeypatch.setitem(registry._BY_KEY, "oneline", line)
    return line


def test_a_new_platform_needs_no_migration(extra_platform):
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)  # SystemExit(1) if it found changes

    assert "No changes detected" in out.getvalue()


@pytest.mark.parametrize("model", [Plugin, Incident])
def test_the_field_accepts_a_registered_platform_and_refuses_an_unknown_one(extra_platform, model):
    field = model._meta.get_field("platform")

    field.run_validators("oneline")  # the new line is accepted as soon as it is in the table
    with pytest.raises(ValidationError) as caught:
        field.run_validators("myspace")
    assert caught.value.messages[0].startswith("Unknown platform 'myspace'; known platforms: ")
    assert "oneline" in caught.value.messages[0]


def test_full_clean_refuses_a_plugin_of_an_unknown_platform():
    plugin = Plugin(merchant=MerchantFactory(), platform="myspace", name="Old store")

    with pytest.raises(ValidationError) as caught:
        plugin.full_clean()

    assert list(caught.value.message_dict) == ["platform"]


def test_the_label_of_a_new_platform_is_shown_like_a_choice(extra_platform):
    assert Plugin(platform="oneline").get_platform_display() == "One Line"
    assert Plugin(platform="shopify").get_platform_display() == "Shopify"
    assert Incident(platform="oneline").platform_label == "One Line"


def test_the_admin_form_offers_a_select_of_the_registered_platforms(extra_platform):
    merchant = MerchantFactory()
    form = PluginAdminForm(data={"merchant": merchant.pk, "platform": "myspace", "name": "Store"})

    offered = [value for value, _ in form.fields["platform"].choices]
    assert offered == ["", *(p.key for p in registry.PROVIDERS), "oneline"]
    assert 'value="oneline">One Line</option>' in str(form["platform"])
    assert not form.is_valid()
    assert "Select a valid choice. myspace is not one of the available choices." in form.errors["platform"]


def test_the_admin_filters_plugins_by_the_platforms_labels(extra_platform):
    request = RequestFactory().get("/django-admin/commerce/plugin/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    changelist = site.get_model_admin(Plugin).get_changelist_instance(request)

    platform_filter = next(
        f for f in changelist.filter_specs if getattr(f, "field", None) and f.field.name == "platform"
    )
    shown = [choice["display"] for choice in platform_filter.choices(changelist)]
    assert shown == ["All", *(p.label for p in registry.PROVIDERS), "One Line"]
