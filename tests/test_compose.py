"""docker-compose.yml describes the production stack; `docker compose config` validates it."""

import os
import shutil
import subprocess

import pytest
from django.conf import settings

from tests.conftest import service_missing


@pytest.fixture
def compose_config() -> str:
    # Compose v2 is a docker plugin; Debian ships v1 as docker-compose.
    if shutil.which("docker-compose"):
        command = ["docker-compose", "config"]
    elif shutil.which("docker"):
        command = ["docker", "compose", "config"]
    else:
        service_missing("neither docker compose nor docker-compose is installed")
    env = {**os.environ, "SECRET_KEY": "s" * 50, "CREDENTIALS_KEY": "k" * 44}
    result = subprocess.run(
        command, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_compose_runs_postgres_redis_web_workers_and_beat(compose_config):
    for service in ("postgres:", "redis:", "web:", "worker-interactive:", "worker-bulk:", "beat:"):
        assert f"  {service}" in compose_config
    assert "gunicorn" in compose_config
    assert "celery" in compose_config and "beat" in compose_config
    assert "DATABASE_URL: postgres://" in compose_config
    assert "CELERY_BROKER_URL: redis://" in compose_config
    assert "noeviction" in compose_config


def test_dockerfile_installs_from_the_lock_file():
    dockerfile = (settings.BASE_DIR / "Dockerfile").read_text()

    assert "uv sync --frozen" in dockerfile
    assert "uv.lock" in dockerfile


def test_gunicorn_is_started_without_a_control_socket_everywhere(compose_config):
    import json
    import re
    import sys
    from pathlib import Path

    # The flag exists in the locked gunicorn (older ones would refuse to start with it).
    gunicorn = Path(sys.executable).parent / "gunicorn"
    assert (
        "--no-control-socket"
        in subprocess.run([str(gunicorn), "--help"], capture_output=True, text=True, timeout=60).stdout
    )
    cmd = re.search(r"^CMD (\[.*\])$", (settings.BASE_DIR / "Dockerfile").read_text(), re.M).group(1)
    assert "--no-control-socket" in json.loads(cmd)
    commands = _service_commands(compose_config)
    for web in ("web", "web-diagnoses"):
        assert commands[web][0] == "gunicorn" and "--no-control-socket" in commands[web]


def _service_blocks(compose_config: str) -> dict[str, str]:
    """Each service's block of ``config``'s normalized YAML, by name."""
    import re

    return dict(re.findall(r"^  ([a-z-]+):\n((?:    .*\n|\n)*)", compose_config, re.M))


def _service_commands(compose_config: str) -> dict[str, list[str]]:
    """Each service's command, from ``config``'s normalized YAML (block lists, two-space indents)."""
    import re

    services = compose_config.split("services:\n", 1)[1]
    commands = {}
    for block in re.split(r"^  (?=[\w-]+:\n)", services, flags=re.M)[1:]:
        name = block.split(":", 1)[0]
        command = re.search(r"^    command:\n((?:    - .*\n)+)", block, re.M)
        items = re.findall(r"^    - (.*)$", command.group(1), re.M) if command else []
        commands[name] = [item.strip("'\"") for item in items]
    return commands


def test_each_lane_has_a_worker_of_its_own_started_with_its_arguments(compose_config):
    """Clicks, whole diagnoses and housekeeping never wait behind each other or syncs: a worker per lane."""
    from kitty_troubleshoot.celery import worker_arguments

    commands = _service_commands(compose_config)
    served = {}
    for name, command in commands.items():
        if "worker" not in command:
            continue
        assert "-Q" in command, f"{name} would serve every queue"
        lane = name.removeprefix("worker-")
        expected = [arg for arg in worker_arguments(lane, concurrency=0) if arg != "--concurrency=0"]
        assert [arg for arg in command if arg in expected] == expected, name
        served[name] = command[command.index("-Q") + 1].split(",")
    assert sorted(served.values()) == [["bulk"], ["clicks"], ["interactive", "housekeeping"]]


def test_dev_worker_starts_each_lane_with_its_arguments():
    from kitty_troubleshoot.celery import WORKER_LANES, worker_arguments

    dev = (settings.BASE_DIR / "dev").read_text()
    for lane in WORKER_LANES:
        queues, pool = worker_arguments(lane, concurrency=0)[1:3]
        assert f"-Q {queues} {pool}" in dev, lane


def test_checks_go_to_interactive_housekeeping_to_its_queue_and_everything_else_to_bulk():
    from kitty_troubleshoot.celery import app

    def queue_of(task_name: str) -> str:
        return app.amqp.router.route({}, task_name)["queue"].name

    assert queue_of("apps.checks.tasks.run_checks") == "interactive"
    for housekeeping in (
        "apps.checks.tasks.expire_overdue_runs",
        "apps.commerce.tasks.end_abandoned_syncs",
        "apps.support.tasks.send_ticket_email",
        "apps.support.tasks.tickets_email_unsent",
        "apps.follow.tasks.follow_watches",
        "apps.follow.tasks.send_watch_email",
    ):
        assert queue_of(housekeeping) == "housekeeping", housekeeping
    for bulk in (
        "apps.commerce.tasks.sync_plugin",
        "apps.commerce.tasks.sync_all_plugins",
        "apps.insights.tasks.aggregate_recent_outcomes",
        "a.task.nobody.routed",
    ):
        assert queue_of(bulk) == "bulk", bulk


def test_web_serves_pages_from_threads_so_cached_pages_never_queue_behind_checks(compose_config):
    import json
    import re

    web = _service_commands(compose_config)["web"]
    assert "--worker-class=gthread" in web and any(arg.startswith("--threads=") for arg in web)
    cmd = json.loads(
        re.search(r"^CMD (\[.*\])$", (settings.BASE_DIR / "Dockerfile").read_text(), re.M).group(1)
    )
    assert cmd[cmd.index("--worker-class") + 1] == "gthread"


def test_the_only_way_in_is_the_front_that_tests_test_front_runs(compose_config):
    import re

    blocks = _service_blocks(compose_config)
    published = {name for name, block in blocks.items() if re.search(r"^    ports:", block, re.M)}

    assert published == {"proxy"}
    assert "KITTY_UPSTREAM: web:8000" in blocks["proxy"]
    assert "KITTY_DIAGNOSES_UPSTREAM: web-diagnoses:8000" in blocks["proxy"]
    assert "KITTY_API_UPSTREAM: web-api:8000" in blocks["proxy"]
    # The same app, the same way, at a lower CPU weight and in fewer processes.
    same = blocks["web-diagnoses"].replace("    cpu_shares: 512\n", "").replace("WEB_CONCURRENCY: '1'", "")
    assert same == blocks["web"].replace("WEB_CONCURRENCY: '3'", "")
    assert "deploy/nginx/kitty.conf.template:/etc/nginx/templates/default.conf.template:ro" in blocks["proxy"]
    assert "SIGN_IN_TRUSTED_PROXIES: '1'" in blocks["web"]


def test_the_every_step_lane_yields_the_cpu_to_clicks_and_pages(compose_config):
    """On a busy host a click on one step, a fix or a page gets the CPU before a burst of whole diagnoses."""
    import re

    blocks = _service_blocks(compose_config)

    def shares(name: str) -> int:
        found = re.search(r"^    cpu_shares: (\d+)$", blocks[name], re.M)
        return int(found.group(1)) if found else 1024  # Docker's default weight

    # "Check every step" is answered by web-diagnoses and run by worker-interactive; a click by web and worker-clicks.
    assert shares("web-diagnoses") == shares("worker-interactive") < shares("web")
    assert shares("web") == shares("worker-clicks") == shares("proxy") == 1024


def test_the_every_step_lane_is_one_process_so_a_burst_leaves_cores_to_the_workers(compose_config):
    """Its threads share one core: a burst of starts never takes the CPU the check workers need."""
    blocks = _service_blocks(compose_config)
    commands = _service_commands(compose_config)

    # gunicorn reads WEB_CONCURRENCY when the command does not name a number of workers.
    assert not [
        arg for web in ("web", "web-diagnoses") for arg in commands[web] if arg.startswith("--workers")
    ]
    assert "WEB_CONCURRENCY: '1'" in blocks["web-diagnoses"]
    assert "WEB_CONCURRENCY: '3'" in blocks["web"]
