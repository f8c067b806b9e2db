"""Settings, all read from the environment (django-environ), one section per concern.

Every variable is documented in `.env.example`. Values that would be unsafe
to guess fail loudly instead of silently taking a default. Each flow package
declares its own settings in its conf.py, read at the end.
"""

import secrets
from pathlib import Path
from typing import Any

import environ

from hub.env import BASE_DIR, env, flow_packages_installed, flow_settings

# --- files and secrets ---------------------------------------------------------
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _local_secret_key() -> str:
    """A key generated once for the local default, kept under var/, never in the repo."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="") or _local_secret_key()

# --- HTTP and security -----------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The address the hub is reached at (links in emails, the stand-ins' default base URLs).
HUB_BASE_URL = env.str("HUB_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- applications ----------------------------------------------------------------
INSTALLED_APPS = [
    "hub.apps.HubAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "hub.apps.HubConfig",
    "hub.ops.apps.OpsConfig",
    "hub.simulators.apps.SimulatorsConfig",
    # The flows: each package a hub.registry.FlowApp.
    "flows.enrollment_requests.apps.EnrollmentRequestsConfig",
    "flows.device_status.apps.DeviceStatusConfig",
    "flows.enrollment_sync.apps.EnrollmentSyncConfig",
    "flows.device_scores.apps.DeviceScoresConfig",
    "flows.device_reservations.apps.DeviceReservationsConfig",
    "flows.event_cancellations.apps.EventCancellationsConfig",
    "flows.event_outcomes.apps.EventOutcomesConfig",
    "flows.event_status.apps.EventStatusConfig",
    "flows.event_opt_outs.apps.EventOptOutsConfig",
    "flows.customer_unavailability.apps.CustomerUnavailabilityConfig",
    "flows.headend_registrations.apps.HeadendRegistrationsConfig",
    # Enrollments, devices and events as records, kept by the flows' records.py (records/).
    "records.apps.RecordsConfig",
    # A deployment's own flow packages (AppConfig paths), added without changing the hub.
    *env.list("HUB_EXTRA_APPS", default=[]),
]

MIDDLEWARE = [
    "hub.logs.LogContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "hub.urls"
WSGI_APPLICATION = "hub.wsgi.application"
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
            ]
        },
    }
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- database --------------------------------------------------------------------
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'hub.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while a worker writes; IMMEDIATE avoids
    # the lock-upgrade deadlock between concurrent writers.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Raw bodies and call bodies of finished work older than this are purged daily.
RETENTION_DAYS = env.int("RETENTION_DAYS", default=90)
if RETENTION_DAYS < 1:
    raise environ.ImproperlyConfigured("RETENTION_DAYS must be at least 1")

# --- static files ----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

# --- the inbound API (hub/inbound.py, hub/api.py, hub/schema.py) --------------------
# The hub reads bodies itself so that it can store them before judging them;
# MAX_BODY_MB is its limit (inbound.py), not Django's.
MAX_BODY_MB = env.float("MAX_BODY_MB", default=64)
DATA_UPLOAD_MAX_MEMORY_SIZE = None
DATA_UPLOAD_MAX_NUMBER_FIELDS = None
FILE_UPLOAD_MAX_MEMORY_SIZE = 8 * 1024 * 1024
# A message still RECEIVED (stored, never answered: its web process died) after this long is
# marked REJECTED with a 500 by the sweeper (hub.inbound.messages_abandon_received).
RECEIVED_STALE_S = env.float("RECEIVED_STALE_S", default=300)
# Above this many accepted-but-unfinished messages new requests get 429 (0: no limit).
BACKLOG_LIMIT = env.int("BACKLOG_LIMIT", default=10_000)
BACKLOG_RETRY_AFTER_S = env.int("BACKLOG_RETRY_AFTER_S", default=60)
# A partner's HTTP Basic password, once verified, is trusted for this long without hashing it
# again (hub/authentication.py); a changed password or a deactivated user counts at once. 0: off.
BASIC_AUTH_CACHE_S = env.float("BASIC_AUTH_CACHE_S", default=300)
if BASIC_AUTH_CACHE_S < 0:
    raise environ.ImproperlyConfigured("BASIC_AUTH_CACHE_S must be 0 (off) or more")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "hub.authentication.CachedBasicAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_SCHEMA_CLASS": "hub.schema.FlowAutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "DERMS–DACS integration hub",
    "DESCRIPTION": "The endpoints DERMS and DACS call. Authentication: HTTP Basic or `Authorization: Token <key>` "
    "of a user in group DERMS or DACS; each system may call only its own endpoints.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "PREPROCESSING_HOOKS": ["hub.schema.only_partner_api"],
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- partners (the outbound chokepoint, hub/partners.py) -------------------------------
DACS_BASE_URL = env.str("DACS_BASE_URL", default=f"{HUB_BASE_URL}/sim/dacs").rstrip("/")
DERMS_BASE_URL = env.str("DERMS_BASE_URL", default=f"{HUB_BASE_URL}/sim/derms").rstrip("/")
PARTNERS = {}
for _name in ("DACS", "DERMS"):
    PARTNERS[_name] = {
        "base_url": DACS_BASE_URL if _name == "DACS" else DERMS_BASE_URL,
        "auth": env.str(f"{_name}_AUTH", default="basic"),
        "username": env.str(f"{_name}_USERNAME", default=""),
        "password": env.str(f"{_name}_PASSWORD", default=""),
        "token_url": env.str(f"{_name}_TOKEN_URL", default=""),
        "client_id": env.str(f"{_name}_CLIENT_ID", default=""),
        "client_secret": env.str(f"{_name}_CLIENT_SECRET", default=""),
        "scope": env.str(f"{_name}_SCOPE", default=""),
    }
    if PARTNERS[_name]["auth"] not in ("basic", "oauth2"):
        raise environ.ImproperlyConfigured(f"{_name}_AUTH must be 'basic' or 'oauth2'")
PARTNER_CONNECT_TIMEOUT_S = env.float("PARTNER_CONNECT_TIMEOUT_S", default=5)
PARTNER_READ_TIMEOUT_S = env.float("PARTNER_READ_TIMEOUT_S", default=30)
PARTNER_CONCURRENCY = env.int("PARTNER_CONCURRENCY", default=16)
# Partner paths are relative to the base URLs; each flow declares its own (flows/<name>/conf.py). DACS's
# health check is the hub's: the availability check and "test connection" both call it.
DACS_HEALTH_PATH = env.str("DACS_HEALTH_PATH", default="rest/apis/cross/healthCheck")
# What "test connection" on the console's partners page calls: a harmless GET.
DACS_TEST_PATH = env.str("DACS_TEST_PATH", default=DACS_HEALTH_PATH)
DERMS_TEST_PATH = env.str("DERMS_TEST_PATH", default="")
# Built-in partner stand-ins: on by default only while a partner URL points at them.
SIMULATORS_ENABLED = env.bool(
    "SIMULATORS_ENABLED",
    default="DACS_BASE_URL" not in env.ENVIRON or "DERMS_BASE_URL" not in env.ENVIRON,
)

# --- retries (hub/retry.py) --------------------------------------------------------
RETRY_FIRST_S = env.float("RETRY_FIRST_S", default=5)
RETRY_MAX_S = env.float("RETRY_MAX_S", default=300)
RETRY_ATTEMPTS = env.int("RETRY_ATTEMPTS", default=8)
# …and never longer than this after a record's first failure (whichever bound comes first).
RETRY_WINDOW_S = env.float("RETRY_WINDOW_S", default=3600)
# A retry due within RETRY_HOLD_S is waited for inside the task; a later one
# hands the message back and the sweeper enqueues it when it falls due.
RETRY_HOLD_S = env.float("RETRY_HOLD_S", default=30)

# --- processing: workers, claims, the sweeper (hub/runner.py, hub/claims.py, hub/sweeper.py) ---
Q_WORKERS = env.int("Q_WORKERS", default=4)
Q_TIMEOUT_S = env.int("Q_TIMEOUT_S", default=300)
# A task keeps working on its message (waiting for retries that fall due)
# for at most this long, then hands the message back to the queue.
TASK_BUDGET_S = env.float("TASK_BUDGET_S", default=Q_TIMEOUT_S - 60)
if TASK_BUDGET_S >= Q_TIMEOUT_S:
    raise environ.ImproperlyConfigured("TASK_BUDGET_S must be below Q_TIMEOUT_S")
HEARTBEAT_S = env.float("HEARTBEAT_S", default=5)
STALE_AFTER_S = env.float("STALE_AFTER_S", default=120)
SWEEP_LOOP_S = env.float("SWEEP_LOOP_S", default=100)
SWEEP_POLL_S = env.float("SWEEP_POLL_S", default=2)
# Redis as the django-q2 broker, for task rates the ORM broker's polling does not keep up with.
Q_REDIS_URL = env.str("Q_REDIS_URL", default="")
Q_CLUSTER = {
    "name": "hub",
    **({"redis": Q_REDIS_URL} if Q_REDIS_URL else {"orm": "default"}),
    "workers": Q_WORKERS,
    "timeout": Q_TIMEOUT_S,
    "retry": Q_TIMEOUT_S + 60,
    "ack_failures": True,
    "max_attempts": 3,
    "save_limit": 1000,
    "catch_up": False,
    "poll": 0.1,
    "sync": env.bool("Q_SYNC", default=False),
}
# /readyz is unavailable when no worker cluster showed life for this long.
WORKER_HEARTBEAT_MAX_AGE_S = env.float("WORKER_HEARTBEAT_MAX_AGE_S", default=300)

# --- email (hub/notify.py) ---------------------------------------------------------
if "EMAIL_URL" in env.ENVIRON:
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
    EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
# Seconds per SMTP operation: a server that accepts and never answers fails the attempt, which is retried,
# well before the sweeper takes the send back as stale (STALE_AFTER_S).
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="derms-dacs-hub@localhost")
NOTIFY_TECHNICAL_EMAILS = env.list("NOTIFY_TECHNICAL_EMAILS", default=[])
NOTIFY_BUSINESS_EMAILS = env.list("NOTIFY_BUSINESS_EMAILS", default=[])
# Put before every email's subject, so mail rules can sort the hub's emails.
NOTIFY_SUBJECT_PREFIX = env.str("NOTIFY_SUBJECT_PREFIX", default="[DERMS-DACS hub]")

# --- logs and metrics (hub/logs.py, hub/metrics.py) -------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
if LOG_FORMAT not in ("json", "plain"):
    raise environ.ImproperlyConfigured("LOG_FORMAT must be 'json' or 'plain'")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "hub.logs.JsonFormatter"},
    },
    "filters": {"context": {"()": "hub.logs.ContextFilter"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # django-q2 adds a handler of its own to a logger that has none.
        "django-q": {"handlers": ["stdout"], "level": LOG_LEVEL, "propagate": False},
    },
}
# /metrics asks for `Authorization: Bearer <METRICS_TOKEN>` when it is set.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# --- operations console (hub/admin/, hub/dashboard.py) -----------------------------------
# An unfinished message older than this shows under "needs attention".
CONSOLE_OVERDUE_MIN = env.int("CONSOLE_OVERDUE_MIN", default=60)

# --- each installed flow package's own settings (flows/<name>/conf.py) -------------------
# Read last: a flow's conf.py may build on the hub's settings above (hub.env.hub_settings).
for _package in flow_packages_installed(INSTALLED_APPS):
    globals().update(flow_settings(_package, globals()))
