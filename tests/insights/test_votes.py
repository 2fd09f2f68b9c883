"""“Was this helpful?”: one vote per reader per revision, limited per address, comments as plain text."""

import pytest

from apps.insights.models import HelpfulVote
from apps.insights.services import VOTES_PER_ADDRESS_PER_HOUR, insights_aggregate_recent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ARTICLE = "/help/order-did-not-import/"
SAME_SITE = {"HTTP_ORIGIN": "http://testserver"}


def vote_url(article):
    return f"/feedback/helpful/{article.pk}/"


def vote(client, article, answer="yes", comment="", **headers):
    return client.post(vote_url(article), {"helpful": answer, "comment": comment}, **{**SAME_SITE, **headers})


def test_every_article_asks_whether_it_helped(client, article):
    page = client.get(ARTICLE).content.decode()

    assert "Was this article helpful?" in page
    assert f'action="{vote_url(article)}"' in page


def test_an_anonymous_vote_is_counted_and_thanked(client, article):
    response = vote(client, article, "no", "Step 3 does not say where the date is.")

    assert response.status_code == 302
    assert response["Location"] == f"{ARTICLE}?feedback=thanks#helpful"
    assert "Thank you for telling us" in client.get(response["Location"]).content.decode()
    saved = HelpfulVote.objects.get()
    article.refresh_from_db()
    assert (saved.helpful, saved.comment, saved.revision_id) == (
        False,
        "Step 3 does not say where the date is.",
        article.live_revision_id,
    )


def test_with_htmx_the_thanks_replaces_the_form(client, article):
    response = vote(client, article, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert "Thank you for telling us" in response.content.decode()
    assert "<form" not in response.content.decode()


def test_a_reader_voting_again_on_the_same_revision_changes_their_vote(client, article):
    vote(client, article, "yes")
    vote(client, article, "no", "Actually, no.")

    assert HelpfulVote.objects.count() == 1
    assert HelpfulVote.objects.get().helpful is False


def test_a_reader_may_vote_again_once_the_article_is_revised(client, article):
    vote(client, article, "no")
    article.save_revision().publish()

    vote(client, article, "yes")

    assert sorted(HelpfulVote.objects.values_list("helpful", flat=True)) == [False, True]
    assert HelpfulVote.objects.values("revision_id").distinct().count() == 2


def test_two_readers_are_two_votes(client, article):
    from django.test import Client

    vote(client, article, "yes")
    vote(Client(), article, "yes")

    assert HelpfulVote.objects.count() == 2


def test_signed_in_readers_vote_once_whatever_their_browser(article):
    from django.test import Client

    user = UserFactory()
    for _ in range(2):
        browser = Client()
        browser.force_login(user)
        vote(browser, article, "yes")

    assert HelpfulVote.objects.count() == 1


def test_votes_from_one_address_are_limited(article):
    from django.test import Client

    for _ in range(VOTES_PER_ADDRESS_PER_HOUR):
        assert vote(Client(), article)["Location"].endswith("feedback=thanks#helpful")

    refused = vote(Client(), article)

    assert refused["Location"] == f"{ARTICLE}?feedback=limited#helpful"
    assert HelpfulVote.objects.count() == VOTES_PER_ADDRESS_PER_HOUR
    assert "a lot of feedback in the last hour" in Client().get(refused["Location"]).content.decode()


def test_a_comment_is_kept_as_plain_text_and_shown_escaped(client, article, editor_client):
    vote(
        client, article, "no", '<script>alert(1)</script><b>Bold</b> & <a href="x">link</a>\x00' + "x" * 2000
    )
    insights_aggregate_recent()

    comment = HelpfulVote.objects.get().comment
    assert comment.startswith("Bold & link")
    assert "<" not in comment and "alert" not in comment and "\x00" not in comment
    assert len(comment) == 1000
    report = editor_client.get("/cms/reports/article-outcomes/").content.decode()
    assert "Bold &amp; link" in report


def test_votes_show_per_revision_in_the_report(client, article, editor_client):
    vote(client, article, "no", "Missing a step.")

    report = editor_client.get("/cms/reports/article-outcomes/").content.decode()

    assert 'data-figure="helpful">0 / 1<' in report
    assert "Not helpful, " in report and "Missing a step." in report


def test_a_vote_from_another_site_is_refused(client, article):
    assert vote(client, article, HTTP_ORIGIN="https://evil.example").status_code == 403
    assert client.post(vote_url(article), {"helpful": "yes"}).status_code == 403  # no Origin at all
    assert not HelpfulVote.objects.exists()


def test_a_vote_needs_an_answer_and_a_published_article(client, article):
    assert vote(client, article, "maybe").status_code == 400
    assert client.post("/feedback/helpful/999999/", {"helpful": "yes"}, **SAME_SITE).status_code == 404


def test_voting_keeps_the_article_cacheable_for_anonymous_readers(client, article):
    response = vote(client, article)

    assert "sessionid" not in response.cookies
    assert "csrftoken" not in response.cookies


def test_while_redis_is_down_votes_are_refused_in_words(article, settings):
    from django.test import Client

    from tests.test_limits import DEAD_REDIS, redis_cache

    settings.CACHES = redis_cache(DEAD_REDIS)

    refused = vote(Client(), article)

    assert refused["Location"] == f"{ARTICLE}?feedback=unavailable#helpful"
    assert not HelpfulVote.objects.exists()
    assert "We cannot take feedback right now." in Client().get(refused["Location"]).content.decode()
