"""The JSON API (/api/v1/): the page's diagnosis, verdicts and fixes through a token, and its refusals."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from apps.api.models import ApiCall
from apps.api.tokens import token_revoke
from apps.checks.models import CheckRun, Diagnosis
from apps.checks.selectors.summary import diagnosis_summary
from apps.commerce.models import Plugin
from tests.factories import MembershipFactory, PluginFactory, UserFactory

from .conftest import bearer, main_plugin, token_for

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"


def post(client, path, body, auth):
    return client.post(path, data=json.dumps(body), content_type="application/json", **auth)


def start_1004(client, auth, account, **extra):
    body = {
        "article": "order-did-not-import",
        "plugin_id": main_plugin(account).pk,
        "inputs": {"order_number": "1004"},
        **extra,
    }
    return post(client, "/api/v1/diagnoses", body, auth)


def test_an_article_has_its_steps_checks_and_inputs(client, reader):
    article = client.get("/api/v1/articles/order-did-not-import", **reader).json()
    assert [step["number"] for step in article["steps"]] == [1, 2, 3, 4, 5, 6, 7]
    assert article["steps"][0]["check"]["key"] == "import_orders_enabled"
    assert article["steps"][3]["url"].endswith("#step-4")
    assert "catalog" in article["steps"][3]["text"].lower()
    assert [i["name"] for i in article["check_set"]["inputs"]] == ["order_number", "placed_date"]
    assert article["check_set"]["inputs"][0]["identifies"] is True
    by_id = client.get(f"/api/v1/articles/{article['id']}", **reader).json()
    assert by_id["title"] == article["title"]


def test_search_points_at_the_step_that_matches(client, reader):
    hits = client.get("/api/v1/search", {"q": "reauthorize"}, **reader).json()
    hit = next(h for h in hits if h["article"]["slug"] == "order-did-not-import")
    assert hit["step"] == 5 and hit["url"].endswith("#step-5")
    assert "Reauthorize" in hit["snippet"] and "<mark>" not in hit["snippet"]


def test_plugins_are_the_token_accounts_only_and_never_their_credentials(client, reader, main_account):
    PluginFactory(name="Someone else's shop")
    answer = client.get("/api/v1/plugins", **reader)
    names = {p["name"] for p in answer.json()}
    assert names == set(Plugin.objects.filter(merchant_id=main_account).values_list("name", flat=True))
    assert "Someone else's shop" not in names
    assert "credential" not in answer.content.decode().lower()


def test_a_diagnosis_of_1004_names_step_4_and_the_missing_sku(client, diagnoser, main_account):
    answer = start_1004(client, diagnoser, main_account)
    assert answer.status_code == 202
    diagnosis = answer.json()
    assert answer["Location"] == f"/api/v1/diagnoses/{diagnosis['id']}"
    # Without a broker the checks ran inline: the answer is final.
    assert diagnosis["done"] is True
    assert diagnosis["summary"]["state"] == "cause"
    assert diagnosis["summary"]["cause_step"] == 4
    step4 = diagnosis["steps"][3]
    assert step4["status"] == "failed"
    assert "MUG-RED-404" in step4["verdict"] + " ".join(step4["evidence"])
    assert diagnosis["about"] == "order #1004"
    # The same words the page shows: the one summary.
    row = Diagnosis.objects.get(uuid=diagnosis["id"])
    assert diagnosis["summary"]["headline"] == diagnosis_summary(row).headline
    assert diagnosis["summary"]["lines"][0]["url"].endswith("#step-4")
    # Read again, it says the same.
    again = client.get(f"/api/v1/diagnoses/{diagnosis['id']}", **diagnoser).json()
    assert again["summary"] == diagnosis["summary"]
    # Recorded with its token, like the page's runs.
    call = ApiCall.objects.get()
    assert call.door == "api" and call.action == "diagnosis.start" and call.diagnosis == row
    assert set(call.run_uuids) == {str(u) for u in row.runs.values_list("uuid", flat=True)}


def test_one_step_checks_only_that_step(client, diagnoser, main_account):
    diagnosis = start_1004(client, diagnoser, main_account, step=4).json()
    statuses = [s["status"] for s in diagnosis["steps"]]
    assert statuses[3] == "failed" and statuses.count("idle") == 6
    again = post(client, f"/api/v1/diagnoses/{diagnosis['id']}/checks", {"step": 1}, diagnoser)
    assert again.status_code == 202
    assert again.json()["steps"][0]["status"] == "passed"


def test_a_page_diagnosis_and_an_api_one_are_the_same_diagnosis(client, diagnoser, main_account, merchant):
    first = start_1004(client, diagnoser, main_account).json()
    second = start_1004(client, diagnoser, main_account).json()
    assert first["id"] == second["id"]
    listed = client.get("/api/v1/diagnoses", **diagnoser).json()
    assert [d["id"] for d in listed] == [first["id"]]


def test_a_fix_through_the_api_is_applied_and_every_step_checked_again(client, main_account, merchant):
    fixer = bearer(token_for(merchant, main_account, "diagnose", "fix"))
    outlet = Plugin.objects.get(merchant_id=main_account, name__contains="Outlet")
    started = post(
        client,
        "/api/v1/diagnoses",
        {"article": "order-did-not-import", "plugin_id": outlet.pk, "inputs": {"order_number": "2001"}},
        fixer,
    ).json()
    step1 = started["steps"][0]
    assert step1["status"] == "failed"
    fix = step1["fixes"][0]
    assert fix == {**fix, "key": "turn_on_import_orders", "kind": "apply", "can_apply": True, "why_not": ""}
    answer = post(client, f"/api/v1/diagnoses/{started['id']}/fixes", {"step": 1, "fix": fix["key"]}, fixer)
    assert answer.status_code == 202
    after = answer.json()
    assert after["steps"][0]["status"] == "passed"
    assert after["steps"][0]["fixes_applied"][0]["key"] == "turn_on_import_orders"
    outlet.refresh_from_db()
    assert outlet.import_orders is True
    assert ApiCall.objects.filter(action="fix.apply").count() == 1


def test_a_fix_needs_the_fix_scope_and_says_so(client, diagnoser, main_account):
    diagnosis = start_1004(client, diagnoser, main_account).json()
    assert diagnosis["steps"][3]["fixes"] == [] or not any(
        f["can_apply"] for f in diagnosis["steps"][3]["fixes"]
    )
    answer = post(client, f"/api/v1/diagnoses/{diagnosis['id']}/fixes", {"step": 4, "fix": "x"}, diagnoser)
    assert answer.status_code == 403 and answer["Content-Type"] == PROBLEM
    assert "fix" in answer.json()["detail"]


def test_a_fix_not_on_offer_is_a_conflict_in_words(client, fixer, main_account):
    diagnosis = start_1004(client, fixer, main_account).json()
    answer = post(client, f"/api/v1/diagnoses/{diagnosis['id']}/fixes", {"step": 1, "fix": "nope"}, fixer)
    assert answer.status_code == 409
    assert answer.json()["detail"] == "That fix is not offered for this result any more. Run the check again."


def test_a_read_token_cannot_start(client, reader, main_account):
    answer = start_1004(client, reader, main_account)
    assert answer.status_code == 403 and answer["Content-Type"] == PROBLEM
    assert "diagnose" in answer.json()["detail"]
    assert not Diagnosis.objects.exists()


@pytest.mark.parametrize(
    "auth",
    [{}, {"HTTP_AUTHORIZATION": "Basic abc"}, bearer("kt_nope"), bearer("kt_" + "A" * 12 + "." + "b" * 40)],
)
def test_without_a_good_token_everything_is_401_with_a_challenge(client, demo, auth):
    for path in ("/api/v1/articles", "/api/v1/plugins", "/api/v1/diagnoses"):
        answer = client.get(path, **auth)
        assert answer.status_code == 401, path
        assert answer["WWW-Authenticate"].startswith("Bearer")
        assert answer.json()["status"] == 401


def test_a_revoked_token_is_401_at_once(client, merchant, main_account):
    from apps.api.models import ApiToken

    raw = token_for(merchant, main_account, "diagnose")
    assert client.get("/api/v1/plugins", **bearer(raw)).status_code == 200
    token_revoke(token=ApiToken.objects.get())
    answer = client.get("/api/v1/plugins", **bearer(raw))
    assert answer.status_code == 401 and answer.json()["detail"] == "That token has been revoked."


def test_another_accounts_ids_are_404(client, diagnoser, main_account):
    outsider = UserFactory()
    other = MembershipFactory(user=outsider).merchant
    other_plugin = PluginFactory(merchant=other)
    theirs = bearer(token_for(outsider, other.pk, "diagnose", "fix"))
    mine = start_1004(client, diagnoser, main_account).json()
    assert client.get(f"/api/v1/diagnoses/{mine['id']}", **theirs).status_code == 404
    assert (
        post(client, f"/api/v1/diagnoses/{mine['id']}/fixes", {"step": 4, "fix": "x"}, theirs).status_code
        == 404
    )
    assert post(client, f"/api/v1/diagnoses/{mine['id']}/checks", {"step": 4}, theirs).status_code == 404
    assert post(client, "/api/v1/watches", {"diagnosis": mine["id"]}, theirs).status_code == 404
    # And my token cannot run checks on their plugin.
    answer = post(
        client,
        "/api/v1/diagnoses",
        {"article": "order-did-not-import", "plugin_id": other_plugin.pk, "inputs": {"order_number": "1"}},
        diagnoser,
    )
    assert answer.status_code == 404 and answer["Content-Type"] == PROBLEM


@pytest.mark.parametrize(
    "body, status, field",
    [
        (
            {"article": "order-did-not-import", "plugin_id": 1, "inputs": {"order_number": "#1004x!"}},
            422,
            "order_number",
        ),
        ({"article": "order-did-not-import", "plugin_id": 1, "inputs": {"colour": "red"}}, 422, "colour"),
        ({"article": "order-did-not-import", "plugin_id": 2**70, "inputs": {}}, 422, "plugin_id"),
        ({"article": "no-such-article", "plugin_id": 1}, 404, None),
        ({"article": "order-did-not-import\x00", "plugin_id": 1}, 422, "article"),
        ({"article": "order-did-not-import", "plugin_id": 1, "step": 99}, 422, "step"),
    ],
)
def test_bad_input_is_a_problem_document_never_a_500(client, diagnoser, main_account, body, status, field):
    if body.get("plugin_id") == 1:
        body = {**body, "plugin_id": main_plugin(main_account).pk}
    answer = post(client, "/api/v1/diagnoses", body, diagnoser)
    assert answer.status_code == status, answer.content
    problem = answer.json()
    assert answer["Content-Type"] == PROBLEM and problem["status"] == status and problem["detail"]
    if field:
        assert problem["field"] == field


def test_a_body_nested_deep_or_not_json_is_refused_in_words(client, diagnoser):
    deep = "[" * 5000 + "]" * 5000
    answer = client.post("/api/v1/diagnoses", data=deep, content_type="application/json", **diagnoser)
    assert answer.status_code == 422 and "nested" in answer.json()["detail"]
    answer = client.post("/api/v1/diagnoses", data=b"\xff{", content_type="application/json", **diagnoser)
    assert answer.status_code == 422


def test_garbage_ids_are_refused_in_words(client, reader):
    for path in ("/api/v1/diagnoses/not-a-uuid", "/api/v1/watches/１２", "/api/v1/articles/%00"):
        answer = client.get(path, **reader)
        assert answer.status_code in (404, 422), path
        assert answer["Content-Type"] == PROBLEM


@override_settings(CHECK_STARTS_PER_MINUTE=1)
def test_the_start_limit_is_the_users_and_answers_429_with_retry_after(client, merchant, main_account):
    first = bearer(token_for(merchant, main_account, "diagnose", name="one"))
    second = bearer(token_for(merchant, main_account, "diagnose", name="two"))
    assert start_1004(client, first, main_account).status_code == 202
    other_order = {
        "article": "order-did-not-import",
        "plugin_id": main_plugin(main_account).pk,
        "inputs": {"order_number": "1005"},
    }
    # Another token of the same person does not get a second allowance.
    answer = post(client, "/api/v1/diagnoses", other_order, second)
    assert answer.status_code == 429
    assert 1 <= int(answer["Retry-After"]) <= 60
    assert answer.json()["detail"].startswith("You have started a lot of checks")
    assert Diagnosis.objects.count() == 1


def test_watches_are_created_listed_and_cancelled(client, diagnoser, main_account):
    # 1006 is pending payment: it may still arrive by itself.
    body = {
        "article": "order-did-not-import",
        "plugin_id": main_plugin(main_account).pk,
        "inputs": {"order_number": "1006"},
    }
    diagnosis = post(client, "/api/v1/diagnoses", body, diagnoser).json()
    assert diagnosis["summary"]["watch"]["possible"] is True
    created = post(client, "/api/v1/watches", {"diagnosis": diagnosis["id"]}, diagnoser)
    assert created.status_code == 201
    watch = created.json()
    assert watch["order_number"] == "1006" and watch["state"] == "watching"
    assert post(client, "/api/v1/watches", {"diagnosis": diagnosis["id"]}, diagnoser).status_code == 200
    assert [w["id"] for w in client.get("/api/v1/watches", **diagnoser).json()] == [watch["id"]]
    cancelled = client.delete(f"/api/v1/watches/{watch['id']}", **diagnoser)
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"


def test_a_watch_on_an_order_that_cannot_arrive_is_refused_with_the_summarys_words(
    client, diagnoser, main_account
):
    diagnosis = start_1004(client, diagnoser, main_account).json()
    answer = post(client, "/api/v1/watches", {"diagnosis": diagnosis["id"]}, diagnoser)
    assert answer.status_code == 409
    assert answer.json()["detail"] == diagnosis["summary"]["watch"]["why_not"]


def test_notifications_are_the_inbox(client, reader, main_account):
    from apps.follow.selectors import account_notifications

    notes = client.get("/api/v1/notifications", **reader).json()
    assert [n["id"] for n in notes] == list(
        account_notifications(main_account).values_list("pk", flat=True)[:100]
    )
    assert any(n["url"] and "#step-" in n["url"] for n in notes)


def test_the_schema_and_docs_are_served(client, demo):
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["info"]["title"] == "Kitty Troubleshoot API"
    responses = schema["paths"]["/api/v1/diagnoses"]["post"]["responses"]
    assert set(responses) >= {"202", "401", "403", "404", "422", "429", "503"}
    assert PROBLEM in responses["429"]["content"]
    assert client.get("/api/v1/docs").status_code == 200


def test_runs_started_through_the_api_belong_to_the_tokens_user(client, diagnoser, main_account, merchant):
    start_1004(client, diagnoser, main_account)
    assert set(CheckRun.objects.values_list("user", flat=True)) == {merchant.pk}


def test_an_article_read_again_comes_from_the_cache_until_its_content_changes(
    client, reader, django_assert_max_num_queries
):
    from wagtail.models import Page

    first = client.get("/api/v1/articles/order-did-not-import", **reader).json()
    # Again: only the token is looked up (and the membership it acts in), not the article.
    with django_assert_max_num_queries(3):
        assert client.get("/api/v1/articles/order-did-not-import", **reader).json() == first
    page = Page.objects.get(slug="order-did-not-import").specific
    page.title = "An Order Never Arrived"
    page.save_revision().publish()
    assert (
        client.get("/api/v1/articles/order-did-not-import", **reader).json()["title"]
        == "An Order Never Arrived"
    )
