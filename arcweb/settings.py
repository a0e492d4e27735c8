"""One settings module, driven by the environment, with embedded defaults.

With nothing set it runs on SQLite under var/ and runs tasks in-process; with DATABASE_URL and
REDIS_URL it runs on PostgreSQL, Redis and Celery workers. docs/deploy.md lists every variable.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("ARC_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", env_bool("DEBUG", "SECRET_KEY" not in os.environ))
SECRET_KEY = os.environ.get("SECRET_KEY") or (
    "insecure-development-key-only-for-DEBUG-0123456789abcdefghijklmnop" if DEBUG else ""
)
if not SECRET_KEY:
    raise RuntimeError("SECRET_KEY must be set when DEBUG is off (see docs/deploy.md)")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "arcweb",
    "traces",
    "evaluations",
    "judges",
    "reports",
    "experiments",
    "alerts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "arcweb.middleware.RejectNul",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "arcweb.urls"
WSGI_APPLICATION = "arcweb.wsgi.application"

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
                "django.template.context_processors.csp",
                "arcweb.context.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'arc.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
else:
    # A request never waits on a dead database for long: it gets a 503 and the client retries.
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 3
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
         "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# allauth: email is the login; signing up creates the user's first organisation.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("ACCOUNT_EMAIL_VERIFICATION", "optional")
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_ADAPTER = "arcweb.accounts.AccountAdapter"
ACCOUNT_SIGNUP_FORM_CLASS = "arcweb.accounts.SignupForm"  # asks for the first organisation's name
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Arc Eval] "
LOGIN_REDIRECT_URL = "home"
LOGIN_URL = "account_login"
MAILERS = {
    "default": {
        "BACKEND": os.environ.get(
            "MAIL_BACKEND",
            "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
        ),
        "OPTIONS": {k.lower(): os.environ[f"MAIL_{k}"] for k in ("HOST", "USERNAME", "PASSWORD")
                    if f"MAIL_{k}" in os.environ},
    }
}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Arc Eval <noreply@arc-eval.local>")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "arcweb.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["arcweb.authentication.IsOrganisationMember"],
    "DEFAULT_THROTTLE_CLASSES": ["arcweb.authentication.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": os.environ.get("ARC_API_RATE", "1200/min")},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "arcweb.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "URL_FORMAT_OVERRIDE": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Arc Eval API",
    "DESCRIPTION": "Send agent traces; read reliability, cost, failures, scenarios and fixes.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

ARC_MAX_BATCH_TRACES = 1000
ARC_MAX_BODY_BYTES = 10 * 1024 * 1024
# Outbound calls to tenant-given URLs (arcweb/outbound.py): private targets only when the operator allows them.
ARC_MODEL_ENDPOINTS_ALLOW_PRIVATE = env_bool("ARC_MODEL_ENDPOINTS_ALLOW_PRIVATE")
ARC_WEBHOOKS_ALLOW_PRIVATE = env_bool("ARC_WEBHOOKS_ALLOW_PRIVATE")
# Fernet keys for secrets at rest, newest first (arcweb/encryption.py); derived from SECRET_KEY when unset.
ARC_ENCRYPTION_KEYS = env_list("ARC_ENCRYPTION_KEYS")
# Pending runs a worker takes per transaction, and how often beat wakes the workers for runs no message announced.
ARC_EVALUATION_BATCH = int(os.environ.get("ARC_EVALUATION_BATCH", "200"))
ARC_WAKE_SECONDS = float(os.environ.get("ARC_WAKE_SECONDS", "10"))
ARC_METRICS_TOKEN = os.environ.get("ARC_METRICS_TOKEN", "")
# Judges (judges/): concurrent calls per worker, a call's timeout, the run's share of the prompt, backfill's reach,
# and the labelled runs below which a judge is shown as uncalibrated.
ARC_JUDGE_CONCURRENCY = int(os.environ.get("ARC_JUDGE_CONCURRENCY", "32"))
ARC_JUDGE_TIMEOUT_S = float(os.environ.get("ARC_JUDGE_TIMEOUT_S", "60"))
ARC_JUDGE_MAX_PROMPT_CHARS = int(os.environ.get("ARC_JUDGE_MAX_PROMPT_CHARS", "48000"))
ARC_JUDGE_BACKFILL_MAX = int(os.environ.get("ARC_JUDGE_BACKFILL_MAX", "5000"))
ARC_JUDGE_MIN_LABELLED = int(os.environ.get("ARC_JUDGE_MIN_LABELLED", "30"))

CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
# With the broker down a publish fails fast (the runs wait in the database for the sweeper); ingestion must not hang on it.
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 5, "visibility_timeout": 600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker or beat that loses the broker reconnects for as long as it takes (Celery's default gives up after 100
# attempts, about 45 minutes, and exits). A batch running meanwhile finishes and commits: its message is only a
# wake-up, so cancelling it on connection loss would only throw the work away.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_BEAT_SCHEDULE = {
    # The sweeper: pending runs whose wake-up was lost (broker down at publish, broker restarted) are taken within
    # ARC_WAKE_SECONDS of the broker answering, by whichever worker is up; an unneeded wake-up expires unread.
    "evaluate-pending-runs": {"task": "evaluations.tasks.evaluate_pending", "schedule": ARC_WAKE_SECONDS,
                              "options": {"expires": ARC_WAKE_SECONDS}},
    "weekly-reports": {"task": "reports.tasks.make_weekly_reports", "schedule": 3600.0},
    "enforce-retention": {"task": "traces.tasks.enforce_retention", "schedule": 3600.0},
    # Monitors are checked as verdicts are saved; this is the safety net (and what notices silence).
    "check-monitors": {"task": "alerts.tasks.evaluate_all_monitors", "schedule": 60.0, "options": {"expires": 60}},
}

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.SELF],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # "django" logs through the root handler only (Django's own console handler printed every line twice).
    "loggers": {"django": {"level": "INFO"}, "django.request": {"level": "ERROR"}},
}
