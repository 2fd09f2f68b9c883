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


def test_compose_runs_postgres_redis_web_worker_and_beat(compose_config):
    for service in ("postgres:", "redis:", "web:", "worker:", "beat:"):
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


def test_gunicorn_is_started_without_a_control_socket_everywhere():
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
    compose = (settings.BASE_DIR / "docker-compose.yml").read_text()
    web = compose.split("\n  web:\n", 1)[1].split("\n  worker:\n", 1)[0]
    assert "gunicorn" in web and "- --no-control-socket" in web
