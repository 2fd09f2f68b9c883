"""A demo store's access token is a credential: the admin never shows it whole."""

import pytest
from django.urls import reverse

from apps.platforms.models import SandboxStore

pytestmark = pytest.mark.django_db


def test_the_store_page_shows_only_the_tokens_last_characters(admin_client):
    store = SandboxStore.objects.create(handle="main", name="Main store")

    page = admin_client.get(reverse("admin:platforms_sandboxstore_change", args=[store.pk])).content.decode()

    assert store.access_token not in page
    assert f"…{store.access_token[-4:]}" in page
