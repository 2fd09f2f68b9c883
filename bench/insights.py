"""The editors' outcome report on a million check runs: the daily count, and the report's speed.

Builds a fresh PostgreSQL database (``kitty_bench_insights``) with the demo
article published in 3 revisions and, straight in SQL, 1,000,000 check runs
(125,000 diagnoses of 8 runs: "already here?" and the 7 steps) spread over
the last 90 days, a revision for each 30 days, ~5% of diagnoses ending in a
ticket. Then it times the daily count over all 90 days (as after a backfill),
the scheduled task (the last 3 days), and the report view for 30 and 90
days, in process through Django's test client with ``DEBUG=0`` and manifest
static files, as a support editor. Targets: report p95 ≤ 200 ms.

    uv run python bench/insights.py [--runs 1000000] [--requests 100] [--keep]

Nothing but 127.0.0.1 is contacted; the database is dropped afterwards
unless ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

from stack import (
    HOST,
    BenchError,
    database_drop,
    database_name,
    database_recreate,
    database_url,
    django_setup,
    log,
    manage,
    pg_connect,
    random_secret_key,
)

DB_NAME = "kitty_bench_insights"
DAYS = 90
RUNS_PER_DIAGNOSIS = 8
TARGET_P95_MS = 200


def environment(db_name: str, static_root: str) -> dict[str, str]:
    from cryptography.fernet import Fernet

    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    for name in ("CELERY_BROKER_URL", "REDIS_URL"):
        env.pop(name, None)  # eager tasks, cache in memory: nothing to share with other work
    env.update(
        DJANGO_SETTINGS_MODULE="kitty_troubleshoot.settings",
        DEBUG="0",
        SECRET_KEY=random_secret_key(),
        CREDENTIALS_KEY=Fernet.generate_key().decode(),
        ALLOWED_HOSTS=f"{HOST},testserver",
        SECURE_SSL_REDIRECT="0",
        SECURE_HSTS_SECONDS="0",
        DATABASE_URL=database_url(db_name),
        STATIC_ROOT=static_root,
        LOG_LEVEL="WARNING",
    )
    return env


def publish_revisions() -> tuple[int, list[int]]:
    """The demo article published twice more (a step retitled each time): its page id and 3 revisions."""
    from apps.help.models import TroubleshootingPage

    page = TroubleshootingPage.objects.get(slug="order-did-not-import")
    revisions = [page.live_revision_id]
    for edit in (1, 2):
        page = TroubleshootingPage.objects.get(pk=page.pk)
        step = next(block for block in page.body if block.block_type == "step")
        step.value["title"] = f"{step.value['title']} (edit {edit})"
        revision = page.save_revision()
        revision.publish()
        revisions.append(revision.pk)
    return page.pk, revisions


def generate(db_name: str, page_id: int, revisions: list[int], runs: int) -> None:
    """Diagnoses, their runs and tickets, written by PostgreSQL itself (generate_series)."""
    from apps.checks.selectors.steps import ALREADY_HERE_BLOCK, step_targets
    from apps.checks.sets import set_of
    from apps.commerce.models import Plugin
    from apps.help.models import TroubleshootingPage

    page = TroubleshootingPage.objects.get(pk=page_id)
    steps = [(ALREADY_HERE_BLOCK, None, set_of(page).before_step_one)] + [
        (t.block_id, t.step_number, t.check_key) for t in step_targets(page)
    ]
    if len(steps) != RUNS_PER_DIAGNOSIS:
        raise BenchError(f"the demo article has {len(steps) - 1} checked steps, not {RUNS_PER_DIAGNOSIS - 1}")
    plugin = Plugin.objects.order_by("pk").first()
    diagnoses = runs // RUNS_PER_DIAGNOSIS
    values = ", ".join(
        f"({i}, '{block}', {number if number is not None else 'NULL'}, '{key}')"
        for i, (block, number, key) in enumerate(steps)
    )
    with pg_connect(db_name) as conn:
        conn.execute("SELECT setseed(0.42)")
        started = time.perf_counter()
        conn.execute(
            """
            INSERT INTO checks_diagnosis (uuid, merchant_id, page_id, subject_id, subject_label, check_set,
                                          reference, inputs, created_at, updated_at, read_only)
            SELECT gen_random_uuid(), %(merchant)s, %(page)s, %(plugin)s, 'Bench plugin', 'order-import',
                   'B' || n, jsonb_build_object('order_number', 'B' || n, 'placed_date', ''), t, t, false
            FROM generate_series(1, %(diagnoses)s) AS n,
                 LATERAL (SELECT now() - (n %% %(days)s) * interval '1 day'
                                 - (random() * 86000) * interval '1 second' AS t) AS moment
            """,
            {
                "merchant": plugin.merchant_id,
                "page": page_id,
                "plugin": plugin.pk,
                "diagnoses": diagnoses,
                "days": DAYS,
            },
        )
        # Each day's revision: the oldest for the first 30 days, then the next two.
        conn.execute(
            f"""
            INSERT INTO checks_checkrun (uuid, diagnosis_id, merchant_id, page_id, page_revision_id, block_id,
                step_number, check_key, inputs, status, summary, evidence, data, fixes_offered, fix_requested,
                fixes_applied, queued_at, started_at, finished_at, deadline, task_seconds, task_id)
            SELECT gen_random_uuid(), d.id, d.merchant_id, d.page_id,
                   (ARRAY[{revisions[2]}, {revisions[1]}, {revisions[0]}])[1 + LEAST(2, (now()::date - d.created_at::date) / 30)],
                   s.block_id, s.step_number, s.check_key, '{{}}'::jsonb, o.status,
                   CASE o.status WHEN 'unknown' THEN 'The platform did not answer in time.'
                                 WHEN 'failed' THEN 'This step keeps the order out.' ELSE 'Fine.' END,
                   '[]'::jsonb, '{{}}'::jsonb,
                   CASE WHEN o.status = 'failed' AND s.step_number = 3
                        THEN '[{{"key": "backfill", "label": "Import orders since a date"}}]'::jsonb
                        ELSE '[]'::jsonb END,
                   '{{}}'::jsonb, '[]'::jsonb,
                   d.created_at, d.created_at, d.created_at + interval '1 second',
                   d.created_at + interval '1 minute', 0.01, ''
            FROM checks_diagnosis d
            CROSS JOIN (VALUES {values}) AS s(i, block_id, step_number, check_key)
            CROSS JOIN LATERAL (SELECT CASE
                WHEN s.i = 0 THEN (CASE WHEN random() < 0.1 THEN 'passed' ELSE 'failed' END)
                WHEN random() < 0.04 THEN 'unknown'
                WHEN random() < 0.05 + s.i * 0.01 THEN 'failed'
                ELSE 'passed' END AS status) AS o
            """
        )
        conn.execute(
            """
            INSERT INTO support_supportticket (reference, merchant_id, diagnosis_id, page_id, order_number,
                platform, plugin_label, plugin_id, tried, message, transcript, verdict, status, created_at)
            SELECT 'CK-B' || d.id, d.merchant_id, d.id, d.page_id, d.order_number, 'sandbox', d.subject_label,
                   d.subject_id, '', '', '[]'::jsonb, '', 'closed', d.created_at + interval '10 minutes'
            FROM checks_diagnosis d WHERE d.order_number LIKE 'B%%' AND random() < 0.05
            """
        )
        conn.execute("ANALYZE")
        count = conn.execute("SELECT count(*) FROM checks_checkrun").fetchone()[0]
    log(f"generated {count:,} runs of {diagnoses:,} diagnoses in {time.perf_counter() - started:.1f} s")


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def time_report(client, page_id: int, days: int, requests: int) -> list[float]:
    url = f"/cms/reports/article-outcomes/?article={page_id}&days={days}"
    response = client.get(url)
    if response.status_code != 200 or b'id="chart-cause"' not in response.content:
        raise BenchError(f"the report did not render ({response.status_code})")
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--db-name", type=database_name, default=DB_NAME)
    parser.add_argument("--keep", action="store_true", help="leave the database in place")
    args = parser.parse_args()
    static_root = tempfile.mkdtemp(prefix="kitty-bench-static-")
    env = environment(args.db_name, static_root)
    database_recreate(args.db_name)
    try:
        manage(env, "migrate", "-v0", timeout=600)
        manage(env, "collectstatic", "--noinput", "-v0", timeout=600)
        manage(env, "demo_setup")
        os.environ.update(env)
        django_setup()
        from django.contrib.auth import get_user_model
        from django.test import Client
        from django.utils import timezone

        from apps.insights.services import insights_aggregate_days, insights_aggregate_recent

        page_id, revisions = publish_revisions()
        generate(args.db_name, page_id, revisions, args.runs)

        today = timezone.now().date()
        from datetime import timedelta

        started = time.perf_counter()
        counted = insights_aggregate_days(today - timedelta(days=n) for n in range(DAYS, -1, -1))
        all_days = time.perf_counter() - started
        log(f"daily count of all {DAYS + 1} days: {counted:,} diagnoses in {all_days:.1f} s "
            f"({all_days / (DAYS + 1) * 1000:.0f} ms a day)")  # fmt: skip
        started = time.perf_counter()
        insights_aggregate_recent()
        recent = time.perf_counter() - started
        log(f"scheduled task (last 3 days): {recent * 1000:.0f} ms")

        client = Client()
        client.force_login(get_user_model().objects.get(username="editor"))
        failed = False
        for days in (30, 90):
            samples = time_report(client, page_id, days, args.requests)
            p50, p95 = percentile(samples, 50), percentile(samples, 95)
            log(f"report, {days} days: p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {max(samples):.0f} ms "
                f"(mean {statistics.mean(samples):.0f} ms, {len(samples)} requests)")  # fmt: skip
            failed |= p95 > TARGET_P95_MS
        print(f"{'FAIL' if failed else 'PASS'}: report p95 ≤ {TARGET_P95_MS} ms", flush=True)
        return 1 if failed else 0
    except BenchError as exc:
        print(f"FAIL: {exc}", file=sys.stderr)
        return 2
    finally:
        if not args.keep:
            from django.apps import apps

            if apps.ready:
                from django.db import connections

                connections.close_all()
            database_drop(args.db_name)


if __name__ == "__main__":
    sys.exit(main())
