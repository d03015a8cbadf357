"""Settings read from the environment (django-environ).

With nothing set the app runs embedded: a SQLite file, Celery tasks executed in-process, DEBUG on and a
generated dev secret. Setting ``DATABASE_URL`` and ``CELERY_BROKER_URL`` moves it to PostgreSQL and a real
Redis broker; ``TKPK_PRODUCTION=1`` adds the checks and headers a public deployment needs.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import environ
import pghistory
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEV_SECRET_FILE = BASE_DIR / ".dev-secret-key"


def _dev_secret() -> str:
    # Generated once per checkout so sessions survive restarts; never used when TKPK_PRODUCTION is on.
    if not DEV_SECRET_FILE.exists():
        DEV_SECRET_FILE.write_text("dev-insecure-" + secrets.token_urlsafe(40))
    return DEV_SECRET_FILE.read_text().strip()


PRODUCTION = env.bool("TKPK_PRODUCTION", default=False)
DEBUG = env.bool("DEBUG", default=not PRODUCTION)
SECRET_KEY = env.str("SECRET_KEY", default="") or _dev_secret()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("TKPK_PRODUCTION=1 tidak boleh berjalan dengan DEBUG aktif.")
    if SECRET_KEY.startswith("dev-insecure-") or len(SECRET_KEY) < 40:
        raise ImproperlyConfigured("TKPK_PRODUCTION=1 memerlukan SECRET_KEY rahasia (minimal 40 karakter).")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SESSION_COOKIE_HTTPONLY = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_tables2",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "django_celery_beat",
    "import_export",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "axes",
    "tkpk",
    "households",
    "programs",
    "csr",
    "reports",
]

# History event tables: bulk imports write one event per changed row, so each index there costs a write per row.
# Keep the two that history pages use (the object, the context); copied foreign keys (desa, household, ...) are
# plain, unindexed columns in the events.
PGHISTORY_FOREIGN_KEY_FIELD = pghistory.ForeignKey(db_index=False)
PGHISTORY_OBJ_FIELD = pghistory.ObjForeignKey(db_index=True)
PGHISTORY_CONTEXT_FIELD = pghistory.ContextForeignKey(db_index=True)

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "tkpk.middleware.DefaultLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tkpk.history.TkpkHistoryMiddleware",
    # axes must be last: it inspects the response of the login view.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tkpk.urls"
WSGI_APPLICATION = "tkpk.wsgi.application"

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
                "django.template.context_processors.i18n",
                "tkpk.context_processors.scope",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith(("postgresql", "postgis"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lock an account (username + IP) after five failed logins for one hour.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True

LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Bahasa Indonesia")), ("en", _("Inggris"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Jakarta"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Without collectstatic (development, tests) WhiteNoise serves straight from the finders.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5.html"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["tkpk.permissions.HasScope"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "tkpk.api.StableCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "tkpk.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env.str("API_USER_RATE", default="2000/hour")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "TKPK API",
    "DESCRIPTION": "API Tim Koordinasi Penanggulangan Kemiskinan (data terbatas sesuai peran dan wilayah).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One component name per choice set shared by several fields (spectacular warns otherwise).
    "ENUM_NAME_OVERRIDES": {
        "BuildingQualityEnum": "households.choices.BuildingQuality",
        "InterventionStatusEnum": "programs.models.InterventionStatus",
        "SectorEnum": "tkpk.models.CompanySector",
        "CsrCycleStatusEnum": "csr.models.CycleStatus",
        "AllocationStatusEnum": "csr.models.AllocationStatus",
        "ProposalStatusEnum": "csr.models.ProposalStatus",
    },
}

# Celery: with no broker configured, tasks run in-process (embedded default only).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL or "cache+memory://")
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=2 * 3600)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=2 * 3600 - 120)
# Redis redelivers unacknowledged tasks after this: keep it above the longest task.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 600}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_TASK_SEND_SENT_EVENT = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Beat schedule in code; the DatabaseScheduler copies it into django-celery-beat's tables at start.
CELERY_BEAT_SCHEDULE = {
    "households-import-jobs-fail-stuck": {
        "task": "households.tasks.import_jobs_fail_stuck",
        "schedule": env.float("IMPORT_STUCK_CHECK_SECONDS", default=60.0),
    },
    "reports-gap-nightly": {
        "task": "reports.tasks.gap_nightly",
        "schedule": crontab(
            hour=env.int("GAP_NIGHTLY_HOUR", default=1), minute=env.int("GAP_NIGHTLY_MINUTE", default=30)
        ),
    },
    "households-import-files-purge": {
        "task": "households.tasks.import_files_purge",
        "schedule": env.float("IMPORT_FILE_PURGE_CHECK_SECONDS", default=3600.0),
    },
    "csr-reminders-daily": {
        "task": "csr.tasks.send_reminders",
        "schedule": crontab(
            hour=env.int("CSR_REMINDER_HOUR", default=7), minute=env.int("CSR_REMINDER_MINUTE", default=0)
        ),
    },
}

# CSR reminders (csr/reminders.py): emails to required-sector companies with neither a submitted proposal nor
# a refusal this many days before their deadline (H-7, H-3, H-1), and once to partners whose agreed program's
# realisation is overdue. Links in emails start with SITE_URL (derived from ALLOWED_HOSTS when unset).
CSR_REMINDER_DAYS = tuple(env.list("CSR_REMINDER_DAYS", cast=int, default=[7, 3, 1]))
SITE_URL = env.str("SITE_URL", default="")
# Email through Django's backend: SMTP in production, printed to the console in the embedded default.
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="TKPK <noreply@tkpk.invalid>")

# Coverage-gap engine (reports/engine.py). A household covered by at least this many programs of one
# assistance kind in a year is flagged as a possible duplication (overlap).
GAP_OVERLAP_MIN_PROGRAMS = env.int("GAP_OVERLAP_MIN_PROGRAMS", default=3)
GAP_WORK_MEM = env.str("GAP_WORK_MEM", default="256MB")  # PostgreSQL work_mem of a computation
GAP_TASK_TIME_LIMIT = env.int("GAP_TASK_TIME_LIMIT", default=30 * 60)

# Bulk imports (households/importing). A running job whose heartbeat is older than this is shown as failed
# (its worker died; the engine's single transaction left the registry unchanged).
IMPORT_STUCK_AFTER_SECONDS = env.int("IMPORT_STUCK_AFTER_SECONDS", default=10 * 60)
# A queued import (or an upload's preview) that no worker has claimed for this long, while no worker was busy
# with another import either, is failed as lost (its broker message is gone, e.g. Redis was flushed); the
# user runs it again. Imports queued behind a long import are not lost: the wait counts from the last activity.
IMPORT_QUEUED_LOST_AFTER_SECONDS = env.int("IMPORT_QUEUED_LOST_AFTER_SECONDS", default=30 * 60)
# How often the running task writes rows_done and heartbeat_at (from its own connection).
IMPORT_HEARTBEAT_SECONDS = env.float("IMPORT_HEARTBEAT_SECONDS", default=1.0)
IMPORT_TASK_TIME_LIMIT = env.int("IMPORT_TASK_TIME_LIMIT", default=CELERY_TASK_TIME_LIMIT)
# The preview task parses every row of the uploaded files (about 30 s per million rows).
IMPORT_PREVIEW_TIME_LIMIT = env.int("IMPORT_PREVIEW_TIME_LIMIT", default=30 * 60)
# Uploaded files of finished jobs (and of uploads never confirmed) are deleted after this many days; the job,
# its summary, row errors and the files' SHA-256 (duplicate detection) stay. 0 keeps the files forever.
IMPORT_FILE_RETENTION_DAYS = env.int("IMPORT_FILE_RETENTION_DAYS", default=30)
IMPORT_MAX_UPLOAD_BYTES = env.int("IMPORT_MAX_UPLOAD_BYTES", default=300 * 1024 * 1024)
# The same files on an unchanged registry: reuse the earlier result instead of re-reading
# (households/importing/rerun.py).
IMPORT_SKIP_IDENTICAL_RERUN = env.bool("IMPORT_SKIP_IDENTICAL_RERUN", default=True)

# Activity reports of agencies and partners to the secretariat: "semester" (default) or "quarter".
ACTIVITY_REPORT_PERIOD = env.str("ACTIVITY_REPORT_PERIOD", default="semester")
if ACTIVITY_REPORT_PERIOD not in ("semester", "quarter"):
    raise ImproperlyConfigured("ACTIVITY_REPORT_PERIOD must be 'semester' or 'quarter'.")

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Demo accounts are created by seed_demo; their password is printed by `make run`.
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="demo-tkpk-2026")
