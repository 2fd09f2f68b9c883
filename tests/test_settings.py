"""Settings come from the environment; production refuses to start half-configured."""

import os
import re
import subprocess
import sys

from django.conf import settings

PROBE = (
    "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'kitty_troubleshoot.settings');"
    "from django.conf import settings as s; db = s.DATABASES['default'];"
    "print(db['ENGINE'], db['NAME'], s.CELERY_TASK_ALWAYS_EAGER, s.DEBUG)"
)
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "x7#Kq!v2Lm9@pR4sT6wY8zA1bC3dE5fG7hJ9kL0nM2oP4qR6sU8",
    "CREDENTIALS_KEY": "Zm9yLXRlc3RzLW9ubHktbm90LWEtcmVhbC1rZXktMzI=",
    "ALLOWED_HOSTS": "help.example.com",
}


def run_manage_or_probe(args: list[str], env: dict[str, str | None]) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in env}
    full_env.update({k: v for k, v in env.items() if v is not None})
    full_env.pop("DJANGO_SETTINGS_MODULE", None)
    full_env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests
    return subprocess.run(
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_nothing_set_means_sqlite_under_var_and_eager_tasks():
    result = run_manage_or_probe(
        ["-c", PROBE],
        {"DATABASE_URL": None, "CELERY_BROKER_URL": None, "REDIS_URL": None, "DEBUG": "1"},
    )

    engine, name, eager, debug = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert name.endswith("/var/db.sqlite3")
    assert eager == "True"


def test_database_url_selects_postgresql_with_a_statement_timeout():
    result = run_manage_or_probe(
        ["-c", PROBE + ";print(db['HOST'], db['PORT'], db['OPTIONS'], db['CONN_HEALTH_CHECKS'])"],
        {
            "DATABASE_URL": "postgres://kitty:pw@db.internal:5433/kitty",
            "CELERY_BROKER_URL": "redis://r:6379/0",
            "DEBUG": "1",
        },
    )

    lines = result.stdout.splitlines()
    assert lines[0].split() == ["django.db.backends.postgresql", "kitty", "False", "True"]
    assert lines[1].startswith("db.internal 5433 {'options': '-c statement_timeout=15000'} True")


def test_production_without_a_secret_key_refuses_to_start():
    result = run_manage_or_probe(["manage.py", "check"], {**PRODUCTION, "SECRET_KEY": None})

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_without_a_credentials_key_refuses_to_start():
    result = run_manage_or_probe(["manage.py", "check"], {**PRODUCTION, "CREDENTIALS_KEY": None})

    assert result.returncode != 0
    assert "CREDENTIALS_KEY is not set" in result.stderr


def test_garbage_debug_value_is_a_clear_error():
    result = run_manage_or_probe(["manage.py", "check"], {"DEBUG": "maybe"})

    assert "DEBUG must be a boolean" in result.stderr


def test_deploy_check_is_clean_in_production():
    result = run_manage_or_probe(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_with_a_malformed_credentials_key_refuses_to_start():
    result = run_manage_or_probe(["manage.py", "check"], {**PRODUCTION, "CREDENTIALS_KEY": "notakey"})

    assert result.returncode != 0
    assert "CREDENTIALS_KEY must be Fernet keys" in result.stderr
    assert "notakey" not in result.stderr


def test_static_files_collected_for_production_serve_the_pages(tmp_path):
    # What the Dockerfile does: collect with production settings, then serve with them.
    dockerfile = (settings.BASE_DIR / "Dockerfile").read_text()
    collect_line = next(line for line in dockerfile.splitlines() if "DEBUG=" in line)
    assert "DEBUG=0" in collect_line
    env = {**PRODUCTION, "STATIC_ROOT": str(tmp_path / "static"), "ALLOWED_HOSTS": "testserver"}
    collected = run_manage_or_probe(["manage.py", "collectstatic", "--noinput"], env)
    assert collected.returncode == 0, collected.stderr

    served = run_manage_or_probe(
        [
            "-c",
            "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'kitty_troubleshoot.settings');"
            "django.setup(); from django.test import Client;"
            "r = Client().get('/accounts/login/', secure=True); print(r.status_code); print(r.content.decode())",
        ],
        env,
    )

    assert served.returncode == 0, served.stderr
    status, html = served.stdout.split("\n", 1)
    assert status == "200"
    assert re.search(r'href="/static/css/site\.[0-9a-f]{12}\.css"', html)  # the hashed, cacheable name


def test_a_platform_with_only_some_app_keys_refuses_to_start():
    result = run_manage_or_probe(
        ["manage.py", "check"], {"DEBUG": "1", "EBAY_CLIENT_ID": "app-id", "EBAY_CLIENT_SECRET": " "}
    )

    assert result.returncode != 0
    assert "eBay's app keys are set only in part: set EBAY_CLIENT_SECRET, EBAY_RU_NAME too" in result.stderr


def test_every_platforms_app_keys_are_read_from_the_environment_by_their_names():
    keys = {
        "SHOPIFY_CLIENT_ID": "shop-app",
        "SHOPIFY_CLIENT_SECRET": "shh",
        "ETSY_SHARED_SECRET": "etsy-secret",
    }
    probe = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'kitty_troubleshoot.settings');"
        "from django.conf import settings as s;"
        "print(s.SHOPIFY_CLIENT_ID, s.SHOPIFY_CLIENT_SECRET, s.ETSY_SHARED_SECRET, repr(s.EBAY_RU_NAME))"
    )

    result = run_manage_or_probe(["-c", probe], {"DEBUG": "1", **keys})

    assert result.stdout.split() == ["shop-app", "shh", "etsy-secret", "''"]


def test_each_app_key_is_named_on_one_registry_line_only():
    from apps.platforms.registry import PROVIDERS

    names = [name for line in PROVIDERS for name in (*line.app_settings, *line.optional_app_settings)]
    assert len(names) == len(set(names))
    source = (settings.BASE_DIR / "kitty_troubleshoot" / "settings.py").read_text()
    assert not [name for name in names if re.search(rf"^{name}\s*=", source, re.M)]  # no hand-written block
    assert all(hasattr(settings, name) for name in names)
