"""Django admin for the account: every list loads with its filters and search; audit rows are read-only."""

import pytest

from apps.commerce.demo import demo_account_seed
from apps.commerce.models import Notification, SyncRun
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    demo_account_seed(owner=UserFactory(username="merchant"))
    return client


@pytest.mark.parametrize(
    "model,query",
    [
        ("merchant", "q=Whisker"),
        ("membership", "role__exact=owner"),
        ("channel", "q=web"),
        ("plugin", "import_orders__exact=1&platform__exact=sandbox"),
        ("product", "q=MUG"),
        ("customer", "q=example.com"),
        ("order", "q=1001"),
        ("notification", "kind__exact=missing_product"),
        ("syncrun", "outcome__exact=succeeded"),
    ],
)
def test_admin_lists_load_filtered_and_searched(admin_client, model, query):
    response = admin_client.get(f"/django-admin/commerce/{model}/?{query}")

    assert response.status_code == 200
    assert "0 results" not in response.content.decode() or model == "membership"


def test_order_search_finds_the_imported_order(admin_client):
    page = admin_client.get("/django-admin/commerce/order/?q=1001").content.decode()

    assert "1 result" in page


@pytest.mark.parametrize("model", [Notification, SyncRun])
def test_audit_rows_are_read_only(admin_client, model):
    row = model.objects.first()
    name = model._meta.model_name

    assert admin_client.get(f"/django-admin/commerce/{name}/add/").status_code == 403
    change = admin_client.get(f"/django-admin/commerce/{name}/{row.pk}/change/")
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()
    assert admin_client.post(f"/django-admin/commerce/{name}/{row.pk}/delete/").status_code == 403
