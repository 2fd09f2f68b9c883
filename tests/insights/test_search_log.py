"""Search that learns: results point at the matching step, every search is logged, editors see the misses."""

import re

import pytest

from apps.insights.models import SearchLog

pytestmark = pytest.mark.django_db


def results(client, query):
    return client.get("/help/", {"q": query}).content.decode()


def test_a_result_shows_a_snippet_and_links_to_the_matching_step(client, article):
    page = results(client, "authorized")

    found = re.search(r'<li class="article-card">(.*?)</li>', page, re.S).group(1)
    assert "Step 5" in found
    assert "<mark>authorization</mark>" in found
    link = re.search(r'href="([^"]+)"', found).group(1).replace("&amp;", "&")
    response = client.get(link)
    assert response.status_code == 302
    assert response["Location"] == "/help/order-did-not-import/#step-5"


def test_every_search_is_logged_normalized_and_without_who(client, article):
    results(client, "  Order   IMPORT ")
    results(client, "zebra crossing")

    logged = list(SearchLog.objects.order_by("created_at").values("query", "results"))
    assert logged == [{"query": "order import", "results": 1}, {"query": "zebra crossing", "results": 0}]
    field_names = {f.name for f in SearchLog._meta.get_fields()}
    assert not field_names & {"user", "session", "address", "ip", "user_agent"}


def test_a_click_is_recorded_once(client, article):
    page = results(client, "authorized")
    link = re.search(r'href="(/feedback/search/[^"]+)"', page).group(1).replace("&amp;", "&")

    client.get(link)
    client.get(link)

    search = SearchLog.objects.get()
    assert (search.clicked_page_id, search.clicked_step) == (article.pk, 5)


def test_a_click_never_leaves_the_help_center(client, article):
    page = results(client, "authorized")
    link = re.search(r'href="(/feedback/search/[^"?]+)', page).group(1)

    assert client.get(link, {"page": "999999"}).status_code == 404
    assert client.get(link, {"page": article.pk, "step": "https://evil.example"})["Location"] == (
        "/help/order-did-not-import/"
    )


def test_editors_see_searches_with_no_results_and_with_no_click(client, article, editor_client):
    for _ in range(3):
        results(client, "refund policy")
    results(client, "Refund  Policy")
    results(client, "shipping label")
    results(client, "import")  # found, and nobody clicked
    clicked = results(client, "authorized")
    client.get(re.search(r'href="(/feedback/search/[^"]+)"', clicked).group(1).replace("&amp;", "&"))

    report = editor_client.get("/cms/reports/article-outcomes/").content.decode()

    no_results = re.search(r'<table id="no-results">(.*?)</table>', report, re.S).group(1)
    assert re.findall(r"<td>([^<]+)</td><td class=\"num\">(\d+)", no_results) == [
        ("refund policy", "4"),
        ("shipping label", "1"),
    ]
    no_clicks = re.search(r'<table id="no-clicks">(.*?)</table>', report, re.S).group(1)
    assert "import" in no_clicks
    assert "authorized" not in no_clicks
