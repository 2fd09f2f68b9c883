"""A start whose limit cannot be counted in time (another start holds its lock) is refused in words.

Apart from test_start_limit.py: this test commits, so it makes its own demo (tests/conftest.py).
"""

import pytest
from wagtail.models import Page

from apps.checks.models import CheckRun
from tests.checks.conftest import plugin_named, start
from tests.html import text


@pytest.fixture
def page(demo):
    return Page.objects.get(slug="order-did-not-import").specific


@pytest.mark.django_db(transaction=True)
def test_a_start_the_limit_cannot_count_in_time_is_refused_in_words_not_an_error(
    merchant_client, page, other_session
):
    from django.db import connection

    merchant = merchant_client.session["_auth_user_id"]
    # Another start of the same user holds the limit's lock longer than the database lets this one wait.
    other_session.execute("BEGIN")
    other_session.execute("SELECT 1 FROM auth_user WHERE id = %s FOR NO KEY UPDATE", [int(merchant)])
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '200ms'")
    try:
        response = start(merchant_client, page, plugin_named("Main store"), step=1)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
        other_session.execute("ROLLBACK")

    assert response.status_code == 200
    assert "Checks are unavailable right now" in text(response.content.decode())
    assert not CheckRun.objects.exists()


@pytest.fixture
def other_session():
    import psycopg
    from django.db import connection

    from tests.conftest import postgresql_required

    postgresql_required("this race needs PostgreSQL's row locks (set DATABASE_URL)")

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    session = psycopg.connect(**params, autocommit=True)
    yield session
    session.close()
