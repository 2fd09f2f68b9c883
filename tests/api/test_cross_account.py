"""Another account's token opens every API operation with the demo account's ids, and learns nothing.

Account A is the demo's main account, with a diagnosis of 1004, a watch on
1006, a fixable diagnosis of 2001, its plugins and a notification. A token
acting for account B, with every scope, opens each operation the served schema
lists (a new operation fails this test until it is added here) with A's ids:
it gets a 404 (or, for a list, B's own things only), never a 403 that would
say A's thing exists, and no answer carries A's plugin names, order numbers
or ids. A token acts for one account: a person in both accounts whose token
acts for B gets the same.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest

from apps.api.models import ApiCall
from apps.commerce.models import Notification, Plugin
from apps.follow.models import OrderWatch
from tests.factories import MembershipFactory, PluginFactory, UserFactory

from .conftest import bearer, main_plugin, token_for

pytestmark = pytest.mark.django_db
ARTICLE = "order-did-not-import"
A_ORDERS = ("1004", "1006", "2001")

# What a token of account B gets from each operation when it names A's things.
NOT_FOUND = "404"  # A's thing is not there, for B
OWN_ONLY = "B's own"  # a list of B's own things only
PUBLIC = "public"  # the help center's articles: the same for everyone, none of A's data in them


@dataclass(frozen=True)
class AccountA:
    merchant_id: int
    plugin_id: int
    diagnosis: str  # 1004: Step 4's missing SKU
    fixable: str  # 2001 on the plugin with Import Orders off: "turn on" is offered
    watched: str  # 1006, pending payment, and watched
    watch: str
    markers: tuple[str, ...]  # what must not appear in anything B is answered


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # as the schema lists it, with {placeholders}
    expect: str
    params: dict | None = None
    query: dict | None = None
    body: dict | None = None

    def url(self) -> str:
        return self.path.format(**(self.params or {}))


def requests_with_ids_of(a: AccountA) -> dict[str, Request]:
    """Every operation of the API by its operationId, asked with A's ids where it takes one."""
    return {
        "articles_list": Request("GET", "/api/v1/articles", PUBLIC),
        "article_read": Request("GET", "/api/v1/articles/{ref}", PUBLIC, params={"ref": ARTICLE}),
        "help_search": Request("GET", "/api/v1/search", PUBLIC, query={"q": "order import plugin"}),
        "plugins_list": Request("GET", "/api/v1/plugins", OWN_ONLY),
        "notifications_list": Request("GET", "/api/v1/notifications", OWN_ONLY),
        "diagnoses_list": Request("GET", "/api/v1/diagnoses", OWN_ONLY),
        "watches_list": Request("GET", "/api/v1/watches", OWN_ONLY),
        "diagnosis_start": Request(
            "POST",
            "/api/v1/diagnoses",
            NOT_FOUND,
            body={"article": ARTICLE, "plugin_id": a.plugin_id, "inputs": {"order_number": "1004"}},
        ),
        "diagnosis_read": Request(
            "GET",
            "/api/v1/diagnoses/{diagnosis_id}",
            NOT_FOUND,
            params={"diagnosis_id": a.diagnosis},
            query={"wait": "1"},
        ),
        "check_again": Request(
            "POST",
            "/api/v1/diagnoses/{diagnosis_id}/checks",
            NOT_FOUND,
            params={"diagnosis_id": a.diagnosis},
            body={"step": 4},
        ),
        "fix_apply": Request(
            "POST",
            "/api/v1/diagnoses/{diagnosis_id}/fixes",
            NOT_FOUND,
            params={"diagnosis_id": a.fixable},
            body={"step": 1, "fix": "turn_on_import_orders"},
        ),
        "watch_create": Request("POST", "/api/v1/watches", NOT_FOUND, body={"diagnosis": a.watched}),
        "watch_read": Request("GET", "/api/v1/watches/{watch_id}", NOT_FOUND, params={"watch_id": a.watch}),
        "watch_cancel": Request(
            "DELETE", "/api/v1/watches/{watch_id}", NOT_FOUND, params={"watch_id": a.watch}
        ),
    }


def send(client, request: Request, auth: dict):
    url = request.url()
    if request.method == "GET":
        return client.get(url, request.query or {}, **auth)
    if request.method == "DELETE":
        return client.delete(url, **auth)
    return client.post(url, data=json.dumps(request.body or {}), content_type="application/json", **auth)


def start(client, auth: dict, plugin_id: int, number: str) -> dict:
    body = {"article": ARTICLE, "plugin_id": plugin_id, "inputs": {"order_number": number}}
    answer = client.post("/api/v1/diagnoses", data=json.dumps(body), content_type="application/json", **auth)
    assert answer.status_code == 202, answer.content
    return answer.json()


@pytest.fixture
def account_a(client, merchant, main_account) -> AccountA:
    """The demo's main account with a diagnosis, a watch, a fixable result and a notification of its own."""
    mine = bearer(token_for(merchant, main_account, "diagnose", "fix"))
    plugin = main_plugin(main_account)
    outlet = Plugin.objects.get(merchant_id=main_account, name__contains="Outlet")
    diagnosis = start(client, mine, plugin.pk, "1004")
    fixable = start(client, mine, outlet.pk, "2001")
    assert fixable["steps"][0]["fixes"][0]["can_apply"] is True
    watched = start(client, mine, plugin.pk, "1006")
    made = client.post(
        "/api/v1/watches",
        data=json.dumps({"diagnosis": watched["id"]}),
        content_type="application/json",
        **mine,
    )
    assert made.status_code == 201, made.content
    note = Notification.objects.create(
        merchant_id=main_account,
        plugin=plugin,
        order_number="1004",
        kind=Notification.Kind.MISSING_PRODUCT,
        message="Order #1004 was not imported: MUG-RED-404 is not in the catalog.",
    )
    names = Plugin.objects.filter(merchant_id=main_account).values_list("name", flat=True)
    return AccountA(
        merchant_id=main_account,
        plugin_id=plugin.pk,
        diagnosis=diagnosis["id"],
        fixable=fixable["id"],
        watched=watched["id"],
        watch=made.json()["id"],
        markers=(*names, diagnosis["id"], fixable["id"], watched["id"], made.json()["id"], note.message),
    )


@dataclass(frozen=True)
class AccountB:
    merchant_id: int
    auth: dict
    plugin_ids: set[int]
    notification_ids: set[int]


@pytest.fixture(params=["member of B only", "member of both, token for B"])
def account_b(request, merchant) -> AccountB:
    """A token of another account with every scope: its user's only account, or also a member of A."""
    if request.param == "member of B only":
        user = UserFactory()
        b = MembershipFactory(user=user).merchant
        plugin = PluginFactory(merchant=b, name="B's own shop")
    else:
        # The demo merchant is also in a second account, Purrfect Prints; the token acts for that one.
        user = merchant
        b = merchant.memberships.order_by("pk").last().merchant
        plugin = Plugin.objects.filter(merchant=b).first()
    note = Notification.objects.create(
        merchant=b,
        plugin=plugin,
        order_number="42",
        kind=Notification.Kind.RATE_LIMIT,
        message="B's own note",
    )
    return AccountB(
        merchant_id=b.pk,
        auth=bearer(token_for(user, b.pk, "diagnose", "fix", name="B's bot")),
        plugin_ids=set(Plugin.objects.filter(merchant=b).values_list("pk", flat=True)),
        notification_ids={note.pk},
    )


def served_operations(client, auth: dict) -> dict[str, tuple[str, str]]:
    schema = client.get("/api/v1/openapi.json", **auth).json()
    return {
        operation["operationId"]: (method.upper(), path)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }


def leaks(body: str, a: AccountA) -> list[str]:
    found = [marker for marker in a.markers if marker in body]
    found += [number for number in A_ORDERS if re.search(rf"(?<![\d.]){number}(?![\d])", body)]
    return found


def test_another_accounts_token_gets_nothing_of_this_account_from_any_operation(client, account_a, account_b):
    requests = requests_with_ids_of(account_a)
    served = served_operations(client, account_b.auth)
    assert set(served) == set(requests), "every operation the API serves is opened here with A's ids"
    calls_before = ApiCall.objects.count()
    for operation_id, request in requests.items():
        assert served[operation_id] == (request.method, request.path), operation_id
        answer = send(client, request, account_b.auth)
        # As a client reads it: JSON escapes (the plugin names' dash is \u2013) undone.
        body = json.dumps(answer.json(), ensure_ascii=False)
        assert answer.status_code != 403, f"{operation_id}: a 403 says A's thing exists"
        assert not leaks(body, account_a), f"{operation_id} answered B with A's {leaks(body, account_a)}"
        if request.expect == NOT_FOUND:
            assert answer.status_code == 404, f"{operation_id}: {answer.status_code} {body}"
            assert answer["Content-Type"] == "application/problem+json"
        else:
            assert answer.status_code == 200, f"{operation_id}: {answer.status_code} {body}"
        if request.expect == OWN_ONLY:
            listed = answer.json()
            if operation_id == "plugins_list":
                assert {p["id"] for p in listed} == account_b.plugin_ids
            elif operation_id == "notifications_list":
                assert {n["id"] for n in listed} == account_b.notification_ids
            else:
                assert listed == [], f"{operation_id}: B has none of its own"
    # And nothing of A's was changed or started in B's name.
    assert ApiCall.objects.count() == calls_before
    assert OrderWatch.objects.get(uuid=account_a.watch).state == "watching"
    assert (
        Plugin.objects.get(merchant_id=account_a.merchant_id, name__contains="Outlet").import_orders is False
    )


def test_a_token_reads_its_own_account_with_the_same_requests(client, merchant, account_a):
    """The same requests with A's own token find A's things: the 404s above are about the account, not the ids."""
    own = bearer(token_for(merchant, account_a.merchant_id, "diagnose", "fix"))
    requests = requests_with_ids_of(account_a)
    for operation_id in ("diagnosis_read", "watch_read", "check_again"):
        answer = send(client, requests[operation_id], own)
        assert answer.status_code in (200, 202), f"{operation_id}: {answer.status_code}"
    listed = client.get("/api/v1/diagnoses", **own).json()
    assert {d["id"] for d in listed} >= {account_a.diagnosis, account_a.fixable, account_a.watched}
