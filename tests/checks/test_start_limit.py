"""The per-user check start limit: a sliding 60-second window over the runs a user queued."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from apps.checks.models import CheckRun
from tests.checks.conftest import plugin_named
from tests.checks.test_widget import start, status_of, text

pytestmark = pytest.mark.django_db
REFUSED = "You have started a lot of checks in the last minute"


@pytest.fixture
def page(demo):
    from wagtail.models import Page

    return Page.objects.get(slug="order-did-not-import").specific


def age_all_runs(seconds: int) -> None:
    CheckRun.objects.update(queued_at=timezone.now() - timedelta(seconds=seconds))


def test_the_limit_is_read_from_settings_when_a_check_starts(merchant_client, page, settings):
    main = plugin_named("Main store")
    settings.CHECK_STARTS_PER_MINUTE = 3
    for _ in range(3):
        assert REFUSED not in text(start(merchant_client, page, main, step=1).content.decode())

    refused = text(start(merchant_client, page, main, step=1).content.decode())

    assert REFUSED in refused
    assert CheckRun.objects.count() == 3
    settings.CHECK_STARTS_PER_MINUTE = 4
    assert REFUSED not in text(start(merchant_client, page, main, step=1).content.decode())


def test_the_window_slides_instead_of_resetting_at_the_minute(merchant_client, page, settings):
    main = plugin_named("Main store")
    settings.CHECK_STARTS_PER_MINUTE = 5
    for _ in range(5):
        start(merchant_client, page, main, step=1)
    # Started 50 s ago: a new clock minute may have begun, the window has not moved past them.
    age_all_runs(50)

    refused = text(start(merchant_client, page, main, step=1).content.decode())

    assert REFUSED in refused
    assert "Wait 11 seconds" in refused or "Wait 10 seconds" in refused
    age_all_runs(61)
    assert REFUSED not in text(start(merchant_client, page, main, step=1).content.decode())


def test_check_every_step_counts_each_run_it_makes(merchant_client, page, settings):
    main = plugin_named("Main store")
    settings.CHECK_STARTS_PER_MINUTE = 10
    start(merchant_client, page, main, number="1001")
    runs = CheckRun.objects.count()
    assert runs == 8  # seven steps and "is it already here?"

    refused = text(start(merchant_client, page, main, number="1002").content.decode())

    assert REFUSED in refused
    assert CheckRun.objects.count() == runs  # nothing of the refused start is queued


def test_joining_an_identical_check_in_flight_does_not_count(merchant_client, page, settings, tasks_held):
    main = plugin_named("Main store")
    settings.CHECK_STARTS_PER_MINUTE = 1
    first = start(merchant_client, page, main, step=1).content.decode()

    again = start(merchant_client, page, main, step=1).content.decode()

    assert status_of(first) == status_of(again) == "running"
    assert REFUSED not in text(again)
    assert CheckRun.objects.count() == 1


def test_the_limit_is_per_user(merchant_client, page, settings):
    from apps.commerce.models import Membership
    from tests.factories import UserFactory

    main = plugin_named("Main store")
    settings.CHECK_STARTS_PER_MINUTE = 2
    for _ in range(3):
        start(merchant_client, page, main, step=1)
    teammate = Client()
    staff = UserFactory(username="teammate")
    Membership.objects.create(user=staff, merchant=main.merchant, role=Membership.Role.STAFF)
    teammate.force_login(staff)

    assert REFUSED not in text(start(teammate, page, main, step=2).content.decode())


def test_the_limit_holds_while_the_cache_is_down(merchant_client, page, settings):
    # Nothing listens on port 1: the cache degrades to a no-op, the limit must not.
    settings.CACHES = {
        "default": {
            "BACKEND": "kitty_troubleshoot.cache.ResilientRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    settings.CHECK_STARTS_PER_MINUTE = 3
    main = plugin_named("Main store")
    answers = [text(start(merchant_client, page, main, step=1).content.decode()) for _ in range(6)]

    assert [REFUSED in answer for answer in answers] == [False, False, False, True, True, True]


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
