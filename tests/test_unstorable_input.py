"""Every URL pattern, fed NUL, overlong and non-UTF-8 path parameters, answers 4xx, never 5xx."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

# As they appear in a raw request path: the test client unquotes them as a WSGI server would.
FUZZ = {
    "nul": "a%00b",
    "overlong": "9" * 10_000,
    "non_utf8": "%FF%FE%C3%28",
}
ROUTE_PARAM = re.compile(r"<(?:[^>:]+:)?[^>]+>")
REGEX_GROUP = re.compile(r"\((?:\?P<\w+>)?(?:[^()]|\([^()]*\))*\)[?*+]?")


def _route(pattern, value: str) -> str:
    if isinstance(pattern, RoutePattern):
        return ROUTE_PARAM.sub(value, str(pattern))
    assert isinstance(pattern, RegexPattern)
    source = REGEX_GROUP.sub(value, pattern.regex.pattern)
    source = re.sub(r"\.\*|\.\+", value, source)
    return source.lstrip("^").rstrip("$").replace("\\", "")


def every_pattern(patterns=None, prefix=("", "")):
    """(name, path with every parameter = each fuzz value) for each pattern in the URLconf."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from every_pattern(entry.url_patterns, (prefix[0] + str(entry.pattern), entry.pattern))
            continue
        assert isinstance(entry, URLPattern)
        yield prefix[0] + str(entry.pattern), entry.pattern, prefix


def urls_for(value: str) -> list[str]:
    urls = []
    for _name, pattern, (_parent_route, parent) in every_pattern():
        parent_path = _route(parent, value) if parent else ""
        urls.append("/" + parent_path + _route(pattern, value))
    return sorted(set(urls))


@pytest.fixture
def clients(db):
    merchant = MembershipFactory().user
    admin = get_user_model().objects.create_superuser("fuzz-admin", "admin@example.com", "x")
    signed_in, superuser = Client(raise_request_exception=False), Client(raise_request_exception=False)
    signed_in.force_login(merchant)
    superuser.force_login(admin)
    return {"anonymous": Client(raise_request_exception=False), "merchant": signed_in, "admin": superuser}


def test_the_walk_covers_the_whole_urlconf():
    urls = urls_for(FUZZ["nul"])

    assert len(urls) > 300
    assert "/support/tickets/a%00b/" in urls
    assert "/account/plugins/a%00b/reauthorize/" in urls
    assert any(url.startswith("/help/") and "a%00b" in url for url in urls)


@pytest.mark.parametrize("kind", sorted(FUZZ))
def test_no_url_answers_a_5xx_to_unstorable_parameters(kind, clients, article):
    value = FUZZ[kind]
    failures = []
    for url in urls_for(value):
        for who, client in clients.items():
            for method in ("get", "post"):
                response = getattr(client, method)(url, {"q": "x"} if method == "post" else None)
                if response.status_code >= 500:
                    failures.append(f"{method.upper()} {url[:120]} as {who}: {response.status_code}")

    assert failures == []


def test_a_ticket_reference_with_nul_is_not_found(client):
    assert client.get("/support/tickets/%00/").status_code == 404


def test_nul_in_a_form_value_is_a_400(client):
    assert client.post("/accounts/login/", {"username": "a\x00", "password": "x"}).status_code == 400


@pytest.mark.parametrize("url", ["/django-admin/auth/user/", "/cms/pages/search/", "/support/tickets/form/"])
def test_nul_in_a_query_is_dropped_not_a_500(clients, url):
    for client in clients.values():
        assert client.get(url, {"q": "order\x00", "page": "\x00", "next": "/\x00"}).status_code < 500


# Query parameters as a forger or a phone keyboard sends them: Unicode digits that are not
# ASCII (full-width, Arabic-Indic, superscript), a bare word as the return address, and a
# JSON body nested thousands deep.
ODD_QUERY = {"page": "²", "step": "١", "n": "²", "next": "help", "hmac": "１", "state": "１", "account": "²"}
DEEP_JSON = b"[" * 5000 + b"]" * 5000


def _odd_input_urls() -> list[str]:
    """Every URL with 1 for each parameter, and those that take a uuid with one."""
    some_uuid = "00000000-0000-4000-8000-000000000001"
    with_uuid = [u for u in urls_for(some_uuid) if "<uuid:" in _uuid_routes_marker(u, some_uuid)]
    return urls_for("1") + with_uuid


def _uuid_routes_marker(url: str, some_uuid: str) -> str:
    for _name, pattern, (_parent_route, parent) in every_pattern():
        if "/" + (_route(parent, some_uuid) if parent else "") + _route(pattern, some_uuid) == url:
            return str(parent) + str(pattern)
    return ""


def test_no_url_answers_a_5xx_to_unicode_digits_or_deep_json(clients, article):
    failures = []
    for url in _odd_input_urls():
        for who, client in clients.items():
            answers = {
                "GET": client.get(url, ODD_QUERY),
                "POST": client.post(
                    url, DEEP_JSON, content_type="application/json", QUERY_STRING="next=help"
                ),
            }
            failures += [
                f"{how} {url[:120]} as {who}: {r.status_code}"
                for how, r in answers.items()
                if r.status_code >= 500
            ]

    assert any("/feedback/search/00000000-" in url for url in _odd_input_urls())
    assert failures == []
