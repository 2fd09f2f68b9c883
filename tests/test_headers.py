"""Every page carries the Content-Security-Policy, cached ones too."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_article_served_from_the_page_cache_still_carries_the_policy(article):
    first = Client().get(article.url)
    again = Client().get(article.url)

    assert first.status_code == again.status_code == 200
    for response in (first, again):
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy
        assert "unsafe-inline" not in policy


def test_only_wagtails_admin_behind_its_sign_in_allows_inline(admin_client):
    assert "'unsafe-inline'" in admin_client.get("/cms/").headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in Client().get("/cms/login/").headers["Content-Security-Policy"]
