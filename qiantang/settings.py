"""Settings, read from environment variables with safe defaults.

With nothing set, the system runs on a SQLite file and kombu's filesystem
broker under `var/`, so `make run` needs no services. Production sets
DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis).
"""
import sys
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_int, env_list, env_str, load_local_env_file

BASE_DIR = Path(__file__).resolve().parent.parent
# pytest-django imports these settings before any conftest runs; a test run is no server.
_RUNNING_TESTS = "pytest" in sys.modules
# The local, git-ignored `.env` that `make env` writes (DEBUG=1, a generated SECRET_KEY).
# A test run never reads it: the suite's settings must not depend on a developer's file.
LOCAL_ENV_FILE = None if _RUNNING_TESTS else load_local_env_file(BASE_DIR / ".env")
VAR_DIR = Path(env_str("QIANTANG_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not (DEBUG or _RUNNING_TESTS):
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (production: in the environment; "
            "on a development machine `make env` writes .env with one)."
        )
    SECRET_KEY = "dev-only-insecure-key-set-SECRET_KEY-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Absolute links in emails (digest) are built from this address.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "simple_history",  # who changed a project or milestone, when, old → new
    "csp",  # the Content-Security-Policy header (below)
    "projects",
    "qiantang_warnings.apps.WarningsConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "qiantang.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "qiantang.errors.BusyDatabaseMiddleware",
]

# Scripts only from our own static files: no inline script, no eval (htmx runs with allowEval
# off; static/js/app.js does what inline handlers did). Inline style attributes stay allowed
# (the trend chart's SVG, a few layout tweaks); nothing may frame the site.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
    },
}

ROOT_URLCONF = "qiantang.urls"
WSGI_APPLICATION = "qiantang.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "qiantang.dates.date_range",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'qiantang.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
        # A kept connection is checked before a request uses it: after a database restart,
        # web and worker reconnect instead of failing every request on a dead connection.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: wait for a writer instead of failing.
    # IMMEDIATE transactions take the write lock up front, so two overlapping
    # recomputes queue instead of one failing with "database is locked". WAL lets every
    # page read while a recompute or an import writes (readers never wait for the writer);
    # a writer that still waits too long gets the "busy, try again" page (qiantang/errors.py).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20, transaction_mode="IMMEDIATE",
        init_command="PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL",
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "qiantang.passwords.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)

# Staff sign-in (issue 5): sessions end after SESSION_COOKIE_AGE or when the browser
# closes; LOGIN_FAILURE_LIMIT failed sign-ins for one username (or from one address)
# within LOGIN_FAILURE_WINDOW seconds lock further attempts until the window passes.
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", True)
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_WINDOW = env_int("LOGIN_FAILURE_WINDOW", 15 * 60)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# Production serves hashed, compressed files, which exist only after `collectstatic`
# (the Docker image runs it). Test runs never collect, so they keep the plain storage,
# as Django's documentation advises for ManifestStaticFilesStorage.
STATIC_MANIFEST = env_bool("STATIC_MANIFEST", not DEBUG and not _RUNNING_TESTS)
if not STATIC_MANIFEST:
    # Files come from the finders; an empty STATIC_ROOT only silences WhiteNoise's warning.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Email: console in development; SMTP when EMAIL_HOST is set.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "预警系统 <noreply@qiantang.local>")

# Celery: Redis when CELERY_BROKER_URL is set, else kombu's filesystem broker
# under var/ (in and out must be the same folder: kombu reads and writes one queue folder).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "broker" / "queue"
    _control_dir = VAR_DIR / "broker" / "control"
    _queue_dir.mkdir(parents=True, exist_ok=True)
    _control_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "control_folder": str(_control_dir),
        "store_processed": False,
    }
else:
    # Redis redelivers an unacknowledged task after this long (longer than any task runs);
    # workers look for such tasks every 10 s (kombu's default throttle would make it 100 s).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
        "unacked_restore_throttle": 1,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
# A task is acknowledged when it is done, and a worker killed mid-task (SIGKILL, OOM) gives
# it back: Redis redelivers it to the next worker after the visibility timeout. Every task is
# idempotent (the recompute writes only what changed, a digest is sent once per delivery
# row), so running one twice is harmless. The filesystem broker of `make run` cannot give a
# message back: there the next scheduled recompute (every 15 minutes) completes the work.
# (The visibility timeout is set with the broker above.)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# On SQLite a transaction takes the database's one write lock, whatever it writes: long work
# (the full recompute, a workbook import) commits in short transactions there, so that other
# users' saves wait a moment, not minutes (qiantang/transactions.py). PostgreSQL locks rows:
# there one transaction blocks only writers of the same rows and keeps the work all or nothing.
_SQLITE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
SHORT_TRANSACTIONS = env_bool("SHORT_TRANSACTIONS", _SQLITE)
# The full recompute (beat's task) above this many projects is spread over the workers in
# chunks, each one transaction (qiantang_warnings/spread.py); a district's 260 are done at once.
# With SHORT_TRANSACTIONS the in-process recompute commits chunks of the same size too; on
# SQLite a chunk of 500 holds the write lock for a few tenths of a second.
RECOMPUTE_SPREAD_ABOVE = env_int("RECOMPUTE_SPREAD_ABOVE", 5000)
RECOMPUTE_CHUNK_SIZE = env_int("RECOMPUTE_CHUNK_SIZE", 500 if _SQLITE else 2000)
# With SHORT_TRANSACTIONS a workbook import writes (and recomputes) this many rows a transaction.
IMPORT_BATCH_ROWS = env_int("IMPORT_BATCH_ROWS", 200)
# /healthz says "degraded" when the last finished full recompute (a RecomputeRun: beat's every
# 15 minutes and 00:05) is older than this: eight beats in a row missed means beat or every
# worker is down, even when staff saves keep some projects' computed day current.
HEALTH_RECOMPUTE_MAX_AGE_MINUTES = env_int("HEALTH_RECOMPUTE_MAX_AGE_MINUTES", 120)
CELERY_BEAT_SCHEDULE = {
    # Keep the board current: time alone turns nodes yellow, then red.
    "recompute-warnings-every-15-minutes": {
        "task": "qiantang_warnings.tasks.recompute_all_warnings",
        "schedule": crontab(minute="*/15"),
    },
    # Right after the date rolls over in Asia/Shanghai.
    "recompute-warnings-after-midnight": {
        "task": "qiantang_warnings.tasks.recompute_all_warnings",
        "schedule": crontab(hour=0, minute=5),
    },
}

# ---- Weekly warning digest (预警周报, qiantang_warnings.digest / delivery) ----
# Beat enqueues one send per recipient on Monday 08:30 Asia/Shanghai (CELERY_TIMEZONE), then
# sweeps every hour that Monday for failed sends and interrupted ones (a stale claim).
# Each send is exactly-once by its DigestDelivery row, so a sweep never sends twice.
# Development (no EMAIL_HOST): the console backend above prints the mails.
CELERY_BEAT_SCHEDULE.update(
    {
        "weekly-digest-monday-0830": {
            "task": "qiantang_warnings.tasks.enqueue_weekly_digest",
            "schedule": crontab(day_of_week="mon", hour=8, minute=30),
        },
        "weekly-digest-sweep-monday": {
            "task": "qiantang_warnings.tasks.enqueue_weekly_digest",
            "schedule": crontab(day_of_week="mon", hour="9-20", minute=45),
        },
    }
)
# ---- Cache: the dashboard's data, keyed by the data version (qiantang_warnings.dashboard) ----
# Redis when CACHE_URL names it (production: the broker's Redis, another database number),
# else files under var/cache, shared by make run's web processes; memory under pytest.
CACHE_URL = env_str("CACHE_URL", "")
if _RUNNING_TESTS:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
elif CACHE_URL == "dummy://":  # no cache at all (the dashboard bench's "miss" runs)
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
elif CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    # django-redis; a Redis that is down makes a cache miss (the page reads the database),
    # never an error page.
    CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": CACHE_URL,
                          "KEY_PREFIX": "qiantang", "OPTIONS": {"IGNORE_EXCEPTIONS": True}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(VAR_DIR / "cache"), "OPTIONS": {"MAX_ENTRIES": 2000}}}
DASHBOARD_CACHE_SECONDS = env_int("DASHBOARD_CACHE_SECONDS", 600)

# ---- Chat push (群机器人, qiantang_warnings.chat) ----
# Robots are configured in the admin; these say where their messages go (a government
# deployment points them at its own gateway) and how the sender behaves.
CHAT_DINGTALK_HOST = env_str("CHAT_DINGTALK_HOST", "https://oapi.dingtalk.com").rstrip("/")
CHAT_WECOM_HOST = env_str("CHAT_WECOM_HOST", "https://qyapi.weixin.qq.com").rstrip("/")
CHAT_RATE_PER_MINUTE = env_int("CHAT_RATE_PER_MINUTE", 20)  # both robots refuse more than 20 a minute
CHAT_TIMEOUT_SECONDS = env_int("CHAT_TIMEOUT_SECONDS", 10)
CHAT_STALE_CLAIM_SECONDS = env_int("CHAT_STALE_CLAIM_SECONDS", 120)  # well above the timeout
CHAT_BACKOFF_MAX_SECONDS = env_int("CHAT_BACKOFF_MAX_SECONDS", 1800)
CHAT_LOOKBACK_HOURS = env_int("CHAT_LOOKBACK_HOURS", 48)  # events older than this are not pushed
CHAT_RED_MERGE_SECONDS = env_int("CHAT_RED_MERGE_SECONDS", 60)  # a red recorded again within it: one message
CELERY_BEAT_SCHEDULE.update(
    {
        "chat-push-every-minute": {
            "task": "qiantang_warnings.tasks.push_chat",
            "schedule": crontab(),
        },
        "chat-weekly-summary-monday-0830": {
            "task": "qiantang_warnings.tasks.chat_weekly_summary",
            "schedule": crontab(day_of_week="mon", hour=8, minute=30),
        },
    }
)

# ---- The escalation ladder (qiantang_warnings.escalations.ladder): daily after the 00:05 recompute.
CELERY_BEAT_SCHEDULE["escalation-ladder-daily-0030"] = {
    "task": "qiantang_warnings.tasks.suggest_escalations",
    "schedule": crontab(hour=0, minute=30),
}

# ---- The monthly ledger (月度台账, qiantang_warnings.ledger) ----
# Frozen on the month's last day at 23:50 Asia/Shanghai (the task checks that tomorrow is the
# 1st), with a catch-up on the 1st at 00:20 should beat have been down; exactly once per month.
CELERY_BEAT_SCHEDULE.update(
    {
        "ledger-month-end-2350": {
            "task": "qiantang_warnings.tasks.freeze_monthly_ledger",
            "schedule": crontab(day_of_month="28-31", hour=23, minute=50),
        },
        "ledger-catch-up-on-the-1st": {
            "task": "qiantang_warnings.tasks.freeze_monthly_ledger",
            "schedule": crontab(day_of_month="1", hour=0, minute=20),
        },
    }
)

# A claim older than this is a sender that died mid-send: resent with the same Message-ID.
# Must exceed EMAIL_TIMEOUT by far (a slow SMTP conversation is not a dead one).
DIGEST_STALE_CLAIM_SECONDS = env_int("DIGEST_STALE_CLAIM_SECONDS", 900)
# The right-hand side of the digest's stable Message-ID <digest.WEEK.USER_ID@domain>.
DIGEST_MESSAGE_ID_DOMAIN = env_str("DIGEST_MESSAGE_ID_DOMAIN", "qiantang.local")

# Console lines carry the fields the recompute, the digest and the robots log (`extra=`) as
# key=value after the message; LOG_FORMAT=json writes one JSON object a line instead.
LOG_JSON = env_str("LOG_FORMAT", "text").strip().lower() == "json"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"structured": {"()": "qiantang.logging.StructuredFormatter", "json": LOG_JSON}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
    # HTTPS, for a deployment served over TLS only (off by default: a site on a plain-HTTP
    # government intranet must keep working). Behind a proxy that terminates TLS, set
    # BEHIND_TLS_PROXY=1 so Django trusts its X-Forwarded-Proto header.
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the container's own health check speaks plain HTTP
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if env_bool("BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
