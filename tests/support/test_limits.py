"""Tickets are limited per person (each one e-mails support), and the limit fails closed."""

from apps.support.models import SupportTicket
from tests.test_limits import DEAD_REDIS, redis_cache

from .test_views import HTMX, NEW_TICKET_URL, ticket_post


def test_a_merchant_who_sends_too_many_tickets_is_told_when_to_send_again(owner_client, diagnosis, settings):
    settings.SUPPORT_TICKETS_PER_HOUR = 2
    for _ in range(2):  # support closes each one, so the same order may be sent again
        owner_client.post(NEW_TICKET_URL, ticket_post(diagnosis), **HTMX)
        SupportTicket.objects.update(status=SupportTicket.Status.CLOSED)

    response = owner_client.post(
        NEW_TICKET_URL, ticket_post(diagnosis, tried="Asked the buyer twice."), **HTMX
    )

    html = response.content.decode()
    assert "You have sent 2 tickets in the last hour." in html
    assert "Asked the buyer twice." in html  # the merchant's text is kept
    assert "Some details need another look" not in html
    assert SupportTicket.objects.count() == 2


def test_while_redis_is_down_a_ticket_is_refused_in_words_not_a_server_error(
    owner_client, diagnosis, settings
):
    settings.CACHES = redis_cache(DEAD_REDIS)

    plain = owner_client.post(NEW_TICKET_URL, ticket_post(diagnosis, tried="Restarted the plugin."))

    assert plain.status_code == 429
    html = plain.content.decode()
    assert "We cannot take tickets for a moment." in html
    assert settings.SUPPORT_EMAIL in html
    assert "Restarted the plugin." in html
    assert not SupportTicket.objects.exists()
