"""The JSON API where the demo alone is not enough: its articles in every language, and real workers.

Apart from test_rest.py, whose tests share one demo made for the whole module (tests/conftest.py).
"""

import pytest

from .conftest import bearer, token_for
from .test_rest import start_1004

pytestmark = pytest.mark.django_db


@pytest.mark.translations
def test_articles_list_both_demo_articles_with_their_checks(client, reader):
    answer = client.get("/api/v1/articles", **reader)
    assert answer.status_code == 200
    by_slug = {a["slug"]: a for a in answer.json()}
    assert set(by_slug) == {"order-did-not-import", "order-imported-twice"}
    assert by_slug["order-did-not-import"]["checks"] == 7
    assert by_slug["order-did-not-import"]["url"].endswith("/help/order-did-not-import/")
    german = client.get("/api/v1/articles", {"language": "de"}, **reader).json()
    assert len(german) == 2 and {a["language"] for a in german} == {"de"}
    assert {a["checks"] for a in german} == {a["checks"] for a in by_slug.values()}
    assert client.get("/api/v1/articles", {"language": "xx"}, **reader).status_code == 422


def test_on_real_workers_a_wait_answers_once_every_check_has_ended(client, live_demo):
    from django.contrib.auth import get_user_model

    from apps.commerce.models import Membership

    user = get_user_model().objects.get(username="merchant")
    account = Membership.objects.filter(user=user).order_by("pk").first().merchant_id
    auth = bearer(token_for(user, account, "diagnose"))
    started = start_1004(client, auth, account)
    assert started.status_code == 202
    diagnosis = started.json()
    answer = client.get(f"/api/v1/diagnoses/{diagnosis['id']}", {"wait": 20}, **auth).json()
    assert answer["done"] is True, answer["summary"]
    assert answer["summary"]["cause_step"] == 4
    assert "MUG-RED-404" in " ".join(answer["steps"][3]["evidence"]) + answer["steps"][3]["verdict"]
