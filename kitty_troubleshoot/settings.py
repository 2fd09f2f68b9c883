"""Settings for Kitty Troubleshoot, read from the environment.

With nothing set, the project runs on a SQLite file under ``var/`` and Celery
runs tasks eagerly in-process: the zero-setup demo. ``DATABASE_URL`` and
``CELERY_BROKER_URL`` switch on the production stack (PostgreSQL, Redis).
README.md lists every variable.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from apps.platforms.registry import app_settings_from_env

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

# A development key only while DEBUG is on: a production process without a
# real secret must not start at all.
_DEVELOPMENT_SECRET_KEY = "development-only-key-never-used-when-debug-is-off-0123456789"
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY (50+ random characters), or DEBUG=1 for local development."
        )
    SECRET_KEY = _DEVELOPMENT_SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "apps.languages",
    "apps.help",
    "apps.checks",
    "apps.commerce",
    "apps.platforms",
    "apps.support",
    "apps.follow",
    "apps.incidents",
    "apps.insights",
    "apps.api",
    "kitty_troubleshoot",
    "ninja",
    # Translated articles: editors translate pages in Wagtail, segment by segment, and sync them
    # when the source changes. Its locales app replaces wagtail.locales.
    "wagtail_localize",
    "wagtail_localize.locales",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_htmx",
    "template_partials",
    "axes",
    "csp",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before the page cache, so cached pages carry the policy too.
    "kitty_troubleshoot.csp.SiteCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kitty_troubleshoot.middleware.RefuseUnstorableInputMiddleware",
    "apps.help.middleware.AnonymousPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language from the URL (/de/help/…, /fr/help/…); addresses without one: ReaderLanguageMiddleware.
    "django.middleware.locale.LocaleMiddleware",
    # The JSON API and the MCP server answer in the caller's Accept-Language (English by default).
    "apps.api.middleware.ApiLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Addresses that name no language (the inbox, sign in, the checks' htmx answers): the page an
    # htmx answer goes into, else the reader's saved choice, cookie or Accept-Language.
    "apps.languages.middleware.ReaderLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # request.account: the merchant account this request works in.
    "apps.checks.accounts.AccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into its answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kitty_troubleshoot.urls"
WSGI_APPLICATION = "kitty_troubleshoot.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.follow.context_processors.inbox",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    _db = dj_database_url.parse(DATABASE_URL)
    if _db["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_URL must be a postgres:// URL (or unset for SQLite).")
    # Persistent connections with health checks rather than psycopg's pool:
    # they behave with Celery's prefork children, and a check task must not
    # pay for a new connection each time.
    _db["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
    _db["CONN_HEALTH_CHECKS"] = True
    # A Celery soft time limit cannot interrupt a blocking query; this can.
    _timeout_ms = env_int("DATABASE_STATEMENT_TIMEOUT_MS", 15000)
    _db.setdefault("OPTIONS", {})["options"] = f"-c statement_timeout={_timeout_ms}"
    DATABASES = {"default": _db}
else:
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": {"timeout": 20},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, cross-process throttles ----------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
REDIS_URL = env_str("REDIS_URL") or (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else ""
)
# Every key this app writes to Redis starts with it (cache, limits, platform throttles),
# so two deployments can share one Redis.
CACHE_KEY_PREFIX = env_str("CACHE_KEY_PREFIX", "kt")
if REDIS_URL:
    CACHES = {
        "default": {
            # Reads miss and writes are dropped while Redis is unreachable: pages still render.
            "BACKEND": "kitty_troubleshoot.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ---------------------------------------------------------------
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = CELERY_BROKER_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Interactive work: a worker holds one message at a time and acknowledges it
# only when done, so a killed worker's task is redelivered, not lost.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Queues by urgency (README, "Running workers"). Three worker processes, each
# started with kitty_troubleshoot.celery.WORKER_LANES' arguments (`./dev worker`,
# docker-compose.yml, the tests, the benches):
# - "clicks" is one person's click on one step: its check, or a fix it applies
#   (services.queueing.check_task_queue). A process of its own with
#   CLICK_WORKER_THREADS threads, so a click never waits for, or shares an
#   interpreter with, the whole diagnoses of a burst.
# - "interactive" is "Check every step" (several steps' checks in one task),
#   served by a pool of INTERACTIVE_WORKER_THREADS threads: a check spends its time
#   waiting on a platform or the database, so a slow store holds a thread (of many),
#   never the lane. The same worker serves "housekeeping": the sweeps and e-mails
#   people wait for, short tasks that a backlog of syncs must never expire.
# - "bulk" everything else (syncs, backfills, aggregation), in bounded slices, by
#   BULK_WORKER_PROCESSES processes. A task nobody routed lands on bulk, so it can
#   never hold the interactive lanes.
CELERY_TASK_DEFAULT_QUEUE = "bulk"
CLICK_WORKER_THREADS = env_int("CLICK_WORKER_THREADS", 8)
INTERACTIVE_WORKER_THREADS = env_int("INTERACTIVE_WORKER_THREADS", 16)
BULK_WORKER_PROCESSES = env_int("BULK_WORKER_PROCESSES", 2)
# All declared, so a worker started without -Q (an old one-worker set-up)
# still serves checks, without the isolation; every documented one names its queues.
CELERY_TASK_QUEUES = tuple(
    Queue(name, Exchange(name), routing_key=name)
    for name in ("clicks", "interactive", "housekeeping", "bulk")
)
CELERY_TASK_ROUTES = {
    # "Check every step"; one step's check or a fix is sent to "clicks" (check_runs_enqueue).
    "apps.checks.tasks.run_checks": {"queue": "interactive"},
    # Housekeeping: quick, and someone notices when it waits (a sync shown
    # "running" for ever, a ticket or watch e-mail, a spinner).
    "apps.checks.tasks.expire_overdue_runs": {"queue": "housekeeping"},
    "apps.commerce.tasks.end_abandoned_syncs": {"queue": "housekeeping"},
    "apps.follow.tasks.follow_watches": {"queue": "housekeeping"},
    "apps.follow.tasks.send_watch_email": {"queue": "housekeeping"},
    "apps.support.tasks.send_ticket_email": {"queue": "housekeeping"},
    "apps.support.tasks.tickets_email_unsent": {"queue": "housekeeping"},
}
# Seconds of platform fetching one sync task does before it queues the rest
# as a new task (from where it stopped), so no sync holds a worker for minutes.
SYNC_TASK_SLICE_SECONDS = env_int("SYNC_TASK_SLICE_SECONDS", 30)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 20)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30)
# A check task still queued after this many seconds is dropped and its runs
# show "couldn't finish": a click's answer is no use minutes later.
CHECK_TASK_EXPIRES = env_int("CHECK_TASK_EXPIRES", 30)
# A start with nothing queued ahead waits up to this long (ms, at most 1500) for its
# checks to end, and answers with their results instead of "Checking…" and a look
# later; at most CHECK_START_WAITERS requests of a web process wait at once
# (apps/checks/services/ending.py). 0 answers every start at once.
CHECK_START_WAIT_MS = env_int("CHECK_START_WAIT_MS", 300)
CHECK_START_WAITERS = env_int("CHECK_START_WAITERS", 3)
# Syncs and backfills: their own limits; a SyncRun left running past the hard
# one (plus a little grace) is ended as failed by the sweeper (beat).
SYNC_TASK_SOFT_TIME_LIMIT = env_int("SYNC_TASK_SOFT_TIME_LIMIT", 300)
SYNC_TASK_TIME_LIMIT = env_int("SYNC_TASK_TIME_LIMIT", 360)
# Celery >= 5.6 closes Django's database connections before and after every
# task unless DB_REUSE_MAX is set (celery/celery#9824), whatever CONN_MAX_AGE
# says: a new PostgreSQL connection per task. Keep them; celery.py retires
# them by CONN_MAX_AGE and health checks, as Django does around requests.
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000)
# Longer than any hard time limit or countdown, or Redis redelivers in a loop.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    "socket_timeout": 5,
    "socket_connect_timeout": 2,
}
CELERY_BEAT_SCHEDULE = {
    "sync-all-plugins": {
        "task": "apps.commerce.tasks.sync_all_plugins",
        "schedule": 5 * 60,
        # A beat tick nobody picked up in time is superseded by the next one.
        "options": {"expires": 4 * 60},
    },
    # Runs whose worker died end as "couldn't finish" even if nobody looks at them.
    "expire-overdue-check-runs": {
        "task": "apps.checks.tasks.expire_overdue_runs",
        "schedule": 5 * 60,
        "options": {"expires": 4 * 60},
    },
    # SyncRuns whose worker died end as failed, so the next sync's page does not say "running".
    "end-abandoned-syncs": {
        "task": "apps.commerce.tasks.end_abandoned_syncs",
        "schedule": 60,
        "options": {"expires": 50},
    },
    # Tickets whose e-mail could not be sent (mail server or broker down) are sent again.
    "email-unsent-tickets": {
        "task": "apps.support.tasks.tickets_email_unsent",
        "schedule": 10 * 60,
        "options": {"expires": 9 * 60},
    },
    # The editors' outcome report reads daily counts; the last days are counted again hourly.
    "aggregate-article-outcomes": {
        "task": "apps.insights.tasks.aggregate_recent_outcomes",
        "schedule": 60 * 60,
        "options": {"expires": 50 * 60},
    },
    # Watched orders: arrivals a sync's own follow-up missed, deadlines, unsent e-mails.
    "follow-watches": {
        "task": "apps.follow.tasks.follow_watches",
        "schedule": 60,
        "options": {"expires": 50},
    },
    # Many stores failing one step on one platform opens an incident; recovery resolves it.
    "evaluate-incidents": {
        "task": "apps.incidents.tasks.incidents_evaluate",
        "schedule": 5 * 60,
        "options": {"expires": 4 * 60},
    },
}

# --- Incidents (apps/incidents) ---------------------------------------------
# Over the last INCIDENT_WINDOW_MINUTES, for each check on each platform, each
# merchant counts once (their latest finished run). An incident opens when at
# least INCIDENT_FAILURE_SHARE of those merchants failed or couldn't check,
# with at least INCIDENT_MIN_MERCHANTS of them failing and INCIDENT_MIN_RUNS
# finished runs in all. It resolves once the share falls below half the
# threshold; the banner says "resolved" for INCIDENT_RESOLVED_BANNER_HOURS.
INCIDENT_WINDOW_MINUTES = env_int("INCIDENT_WINDOW_MINUTES", 30)
INCIDENT_FAILURE_SHARE = env_float("INCIDENT_FAILURE_SHARE", 0.5)
INCIDENT_MIN_MERCHANTS = env_int("INCIDENT_MIN_MERCHANTS", 3)
INCIDENT_MIN_RUNS = env_int("INCIDENT_MIN_RUNS", 5)
INCIDENT_RESOLVED_BANNER_HOURS = env_int("INCIDENT_RESOLVED_BANNER_HOURS", 6)

# --- Auth -----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # Refuses locked-out sign-ins before any password is checked.
    "kitty_troubleshoot.signin.SignInThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Sign-in throttling (django-axes, attempts kept in the database): after
# SIGN_IN_FAILURE_LIMIT wrong passwords for one username, or from one address,
# that username or address is refused for SIGN_IN_LOCKOUT_MINUTES (each new
# try while locked starts the wait again). A right password resets the count.
SIGN_IN_FAILURE_LIMIT = env_int("SIGN_IN_FAILURE_LIMIT", 5)
SIGN_IN_LOCKOUT_MINUTES = env_int("SIGN_IN_LOCKOUT_MINUTES", 15)
# How many proxies in front of the app append to X-Forwarded-For (0: use the
# connection's address). Behind one, 0 would throttle every user as one address.
SIGN_IN_TRUSTED_PROXIES = env_int("SIGN_IN_TRUSTED_PROXIES", 0)
AXES_FAILURE_LIMIT = SIGN_IN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=SIGN_IN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one alone locks
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "kitty_troubleshoot.signin.client_address"
AXES_LOCKOUT_CALLABLE = "kitty_troubleshoot.signin.locked_out"
# Failed attempts are enough; a row per successful sign-in is not needed.
AXES_DISABLE_ACCESS_LOG = True
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/help/"
LOGOUT_REDIRECT_URL = "/help/"

# --- I18N -----------------------------------------------------------------
# English is the source language and has no URL prefix (every English address stays as it was);
# the help center is also at /de/help/ and /fr/help/ (Wagtail locales, translated with
# wagtail-localize). Which language a reader gets: README, "Languages".
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français")]
WAGTAIL_I18N_ENABLED = True
# The switcher's choice for a reader who is signed out (signed in, it is saved with the user).
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = not DEBUG
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES
# demo_setup imports the articles' German and French translations; most tests set up the demo
# without them (a few seconds each), and the tests of languages with them (pytest's "translations").
DEMO_TRANSLATIONS = True
# The PostgreSQL text search configuration each language's pages are indexed and searched with
# (apps/help/search_backend.py); SQLite's full-text search needs none.
SEARCH_CONFIGS = {"en": "english", "de": "german", "fr": "french"}
TIME_ZONE = "UTC"
USE_I18N = True
# What the software says is translated per app (apps/*/locale, kitty_troubleshoot/locale) and, for
# the project's templates, here; `./dev messages` brings them up to date with the code.
LOCALE_PATHS = [BASE_DIR / "templates" / "locale"]
USE_TZ = True

# --- Static files ---------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT")) if env_str("STATIC_ROOT") else VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Tests and the demo serve static files straight from the finders.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# --- E-mail ---------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
# For django.core.mail.backends.filebased.EmailBackend (e.g. a test worker's outbox).
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH") or None
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "help@commercekitty.example")
SUPPORT_EMAIL = env_str("SUPPORT_EMAIL", "support@commercekitty.example")
# The language support's inbox reads tickets in, whatever language the merchant wrote from.
SUPPORT_LANGUAGE = env_str("SUPPORT_LANGUAGE", "en")
if SUPPORT_LANGUAGE not in dict(LANGUAGES):
    raise ImproperlyConfigured(
        f"SUPPORT_LANGUAGE must be one of {', '.join(dict(LANGUAGES))}, not {SUPPORT_LANGUAGE!r}."
    )

# --- Security -------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Health checks come from inside the network, over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Wagtail's live preview shows the page in a same-origin iframe, which DENY
# would blank out; SAMEORIGIN still refuses every other site's frames.
X_FRAME_OPTIONS = "SAMEORIGIN"
SILENCED_SYSTEM_CHECKS = ["security.W019"]
# Content-Security-Policy (django-csp 4): scripts, styles and everything else
# from this site only; no inline script, no eval (htmx runs with allowEval off).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],
    }
}
# Added under Wagtail's admin only, its sign-in page excepted (see
# kitty_troubleshoot/csp.py): Wagtail's own widgets (date filters, inline
# panels) still write inline <script> and style attributes, and image uploads
# preview from blob: URLs. Still no eval and nothing from other sites there.
ADMIN_CSP_PREFIX = "/cms/"
ADMIN_CSP_EXTRA = {
    "script-src": ["'unsafe-inline'"],
    "style-src": ["'unsafe-inline'"],
    "img-src": ["blob:"],
}

# Platform credentials are encrypted with this key (Fernet, urlsafe base64 of
# 32 bytes). Development gets a fixed key; production must set its own.
CREDENTIALS_KEY = env_str("CREDENTIALS_KEY")
if not CREDENTIALS_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "CREDENTIALS_KEY is not set. Generate one with "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`."
        )
    CREDENTIALS_KEY = "ZGV2ZWxvcG1lbnQtb25seS1jcmVkZW50aWFscy1rZXk="

# --- Checks ---------------------------------------------------------------
# Where a merchant creates an order by hand (Commerce Kitty's order wizard).
ORDER_WIZARD_URL = env_str("ORDER_WIZARD_URL", "https://app.commercekitty.example/orders/new")
# How many checks one user may start in any 60 seconds: a diagnosis ("Check every step") is one
# start, one step's "Check this now" is one. Fixes have their own limit.
CHECK_STARTS_PER_MINUTE = env_int("CHECK_STARTS_PER_MINUTE", 30)
CHECK_FIXES_PER_MINUTE = env_int("CHECK_FIXES_PER_MINUTE", 20)
# "Tell me when it arrives" follows the plugin's syncs this long, then checks once more and ends.
ORDER_WATCH_HOURS = env_int("ORDER_WATCH_HOURS", 24)
# Per user and hour (kitty_troubleshoot/limits.py: refused, in words, while Redis is down):
# support tickets opened (each one e-mails the support inbox) and orders watched.
SUPPORT_TICKETS_PER_HOUR = env_int("SUPPORT_TICKETS_PER_HOUR", 10)
ORDER_WATCHES_PER_HOUR = env_int("ORDER_WATCHES_PER_HOUR", 20)

# Each platform's app keys (SHOPIFY_CLIENT_ID, EBAY_CLIENT_SECRET, …) are named once, on
# its line in apps/platforms/registry.py, and read here from environment variables of the
# same names: all of a platform's keys or none (only some refuses to start). With them,
# "Reauthorize" runs the platform's own consent flow; README lists them per platform.
globals().update(app_settings_from_env(os.environ))
# Where BigCommerce's app install and token exchange live; a local server in tests.
# BigCommerce's Auth Callback URL is https://<site>/account/oauth/bigcommerce/callback/.
BIGCOMMERCE_LOGIN_URL = env_str("BIGCOMMERCE_LOGIN_URL", "https://login.bigcommerce.com")
# eBay's consent page and API origins; local servers in tests. EBAY_RU_NAME is the RuName
# whose "auth accepted URL" is https://<site>/account/oauth/ebay/callback/.
EBAY_AUTH_URL = env_str("EBAY_AUTH_URL", "https://auth.ebay.com")
EBAY_API_URL = env_str("EBAY_API_URL", "https://api.ebay.com")
# Amazon (SP-API): the Login with Amazon keys refresh each plugin's access token; with
# AMAZON_SPAPI_APPLICATION_ID too, "Reauthorize" runs Seller Central's website
# authorization (AMAZON_SPAPI_DRAFT=1 while the app is unpublished).
AMAZON_LWA_TOKEN_URL = env_str("AMAZON_LWA_TOKEN_URL")
AMAZON_SPAPI_DRAFT = env_bool("AMAZON_SPAPI_DRAFT", False)
AMAZON_SELLER_CENTRAL_URL = env_str("AMAZON_SELLER_CENTRAL_URL", "https://sellercentral.amazon.com")
# Etsy (Open API v3): with ETSY_KEYSTRING (and ETSY_SHARED_SECRET for the API calls),
# "Reauthorize" runs Etsy's OAuth 2 consent with PKCE.
ETSY_TOKEN_URL = env_str("ETSY_TOKEN_URL")
ETSY_CONNECT_URL = env_str("ETSY_CONNECT_URL", "https://www.etsy.com/oauth/connect")
# Seconds a merchant has to approve on the platform; the state is then refused.
REAUTHORIZE_TIMEOUT = env_int("REAUTHORIZE_TIMEOUT", 10 * 60)

# --- Wagtail --------------------------------------------------------------
WAGTAIL_SITE_NAME = "Commerce Kitty Help Center"
WAGTAILADMIN_BASE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
# On PostgreSQL, each page is stemmed in its own language (SEARCH_CONFIGS: "imported" finds "import",
# "Berechtigungen" finds "Berechtigung") whatever the server's default text search configuration;
# English for anything without a language. Spelling variants are apps.help.selectors.spelling_variants'.
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "apps.help.search_backend", "SEARCH_CONFIG": "english"}}
# No avatars from gravatar.com: the admin loads nothing from other sites.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "key", "odt", "pdf", "pptx", "rtf", "txt", "xlsx", "zip"]
# How long the front (nginx, deploy/nginx/kitty.conf.template) may answer anonymous readers with a
# published help page it keeps (X-Accel-Expires): a published edit reaches them within this. 0: never kept.
HELP_PAGE_FRONT_CACHE_SECONDS = env_int("HELP_PAGE_FRONT_CACHE_SECONDS", 10)

# Extra views only the benchmarks in bench/ use (e.g. /_bench/baseline); off in production.
BENCHMARK_VIEWS = env_bool("BENCHMARK_VIEWS", False)

# --- Logging --------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"path_only_urls": {"()": "kitty_troubleshoot.logfilters.PathOnlyURLs"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # One line per background search-index update is noise, not news.
        "django_tasks": {"level": "WARNING"},
        # httpx logs every request's whole URL at INFO (a store's host, search=<order number>):
        # platform URLs are logged as their path only.
        "httpx": {"filters": ["path_only_urls"]},
    },
}
