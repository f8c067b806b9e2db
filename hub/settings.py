"""Settings, all read from the environment (django-environ).

Every variable is documented in `.env.example`. Values that would be unsafe
to guess fail loudly instead of silently taking a default.
"""

import secrets
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
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
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "hub.apps.HubAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_q",
    "hub.apps.HubConfig",
    "hub.simulators.apps.SimulatorsConfig",
    "flows.enrollment_requests.apps.EnrollmentRequestsConfig",
    "flows.device_status.apps.DeviceStatusConfig",
    "flows.enrollment_sync.apps.EnrollmentSyncConfig",
    "flows.device_scores.apps.DeviceScoresConfig",
    "flows.device_reservations.apps.DeviceReservationsConfig",
    "records.apps.RecordsConfig",
]

MIDDLEWARE = [
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

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

# The hub reads bodies itself so that it can store them before judging them;
# MAX_BODY_MB is its limit (inbound.py), not Django's.
MAX_BODY_MB = env.float("MAX_BODY_MB", default=64)
# A message still RECEIVED (stored, never answered: its web process died) after this long is
# marked REJECTED with a 500 by the sweeper (hub.inbound.messages_abandon_received).
RECEIVED_STALE_S = env.float("RECEIVED_STALE_S", default=300)
DATA_UPLOAD_MAX_MEMORY_SIZE = None
DATA_UPLOAD_MAX_NUMBER_FIELDS = None
FILE_UPLOAD_MAX_MEMORY_SIZE = 8 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.BasicAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# --- partners (the outbound chokepoint, hub/partners.py) -------------------
HUB_BASE_URL = env.str("HUB_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
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
RETRY_FIRST_S = env.float("RETRY_FIRST_S", default=5)
RETRY_MAX_S = env.float("RETRY_MAX_S", default=300)
RETRY_ATTEMPTS = env.int("RETRY_ATTEMPTS", default=8)
# …and never longer than this after a record's first failure (whichever bound comes first).
RETRY_WINDOW_S = env.float("RETRY_WINDOW_S", default=3600)
DACS_ENROLLMENT_SOURCE = env.str("DACS_ENROLLMENT_SOURCE", default="X1BY")

# Built-in partner stand-ins: on by default only while a partner URL points at them.
SIMULATORS_ENABLED = env.bool(
    "SIMULATORS_ENABLED",
    default="DACS_BASE_URL" not in env.ENVIRON or "DERMS_BASE_URL" not in env.ENVIRON,
)

# --- processing (hub/processing.py) ----------------------------------------
Q_WORKERS = env.int("Q_WORKERS", default=4)
Q_TIMEOUT_S = env.int("Q_TIMEOUT_S", default=300)
# A task keeps working on its message (waiting for retries that fall due)
# for at most this long, then hands the message back to the queue.
TASK_BUDGET_S = env.float("TASK_BUDGET_S", default=Q_TIMEOUT_S - 60)
HEARTBEAT_S = env.float("HEARTBEAT_S", default=5)
STALE_AFTER_S = env.float("STALE_AFTER_S", default=120)
if TASK_BUDGET_S >= Q_TIMEOUT_S:
    raise environ.ImproperlyConfigured("TASK_BUDGET_S must be below Q_TIMEOUT_S")
Q_CLUSTER = {
    "name": "hub",
    "orm": "default",
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

# --- email (hub/notify.py) -------------------------------------------------
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

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- processing, continued --------------------------------------------------
# A retry due within RETRY_HOLD_S is waited for inside the task; a later one
# hands the message back and the sweeper enqueues it when it falls due.
RETRY_HOLD_S = env.float("RETRY_HOLD_S", default=30)
SWEEP_LOOP_S = env.float("SWEEP_LOOP_S", default=100)
SWEEP_POLL_S = env.float("SWEEP_POLL_S", default=2)

# Partner paths, relative to the base URLs: settings because a real
# deployment's API gateway may route them differently.
PARTNER_PATHS = {
    name: env.str(name, default=default)
    for name, default in {
        "DACS_ENROLL_PATH": "rest/apis/cross/digitalAssets/programEnrollments/enroll",
        "DACS_STATUS_RESPONSE_PATH": "rest/apis/cross/digitalAssets/controllableDeviceStatus/response",
        "DACS_SYNC_ACK_PATH": "rest/apis/cross/digitalAssets/enrollmentSync/acknowledgement",
        "DACS_HEALTH_PATH": "rest/apis/cross/healthCheck",
        "DACS_RESERVE_PATH": "rest/apis/cross/service/programEventParticipation/reserveDevice",
        "DACS_LIFECYCLE_PATH": "rest/apis/cross/service/programEvent/lifecycle",
        "DACS_PRE_EVENT_CANCEL_PATH": "rest/apis/cross/service/programEventParticipation/preEventCancellation",
        "DERMS_ENROLLMENT_RESPONSE_PATH": "enrollment_response",
        "DERMS_STATUS_CHECK_PATH": "status_check",
        "DERMS_ENROLL_PATH": "enroll",
        "DERMS_DEVICE_SCORE_PATH": "device_score",
        "DERMS_RESERVATION_ACK_PATH": "reservation_ack",
    }.items()
}

# --- device score files (flow 4, flows/device_scores) -----------------------
SCORE_SOURCE_URL = env.str("SCORE_SOURCE_URL", default=f"file://{VAR_DIR / 'scores' / 'inbox'}")
SCORE_SOURCE_PASSWORD = env.str("SCORE_SOURCE_PASSWORD", default="")
SCORE_SOURCE_KEY_FILE = env.str("SCORE_SOURCE_KEY_FILE", default="")
SCORE_KNOWN_HOSTS = env.str("SCORE_KNOWN_HOSTS", default="")
SCORE_DESTINATION = env.str("SCORE_DESTINATION", default="rest")
SCORE_DESTINATION_PASSWORD = env.str("SCORE_DESTINATION_PASSWORD", default="")
SCORE_DESTINATION_KEY_FILE = env.str("SCORE_DESTINATION_KEY_FILE", default="")
SCORE_DESTINATION_KNOWN_HOSTS = env.str("SCORE_DESTINATION_KNOWN_HOSTS", default="")
SCORE_FILE_PREFIX = env.str("SCORE_FILE_PREFIX", default="SDCSE")
SCORE_DONE_PREFIXES = env.list("SCORE_DONE_PREFIXES", default=["Sent-", "Error-"])
SCORE_TEMP_SUFFIXES = env.list("SCORE_TEMP_SUFFIXES", default=[".part", ".tmp", ".filepart"])
SCORE_MIN_AGE_S = env.float("SCORE_MIN_AGE_S", default=5)
SCORE_SCHEDULE_MINUTES = env.int("SCORE_SCHEDULE_MINUTES", default=15)
SCORE_HEARTBEAT_S = env.float("SCORE_HEARTBEAT_S", default=10)
SCORE_SSH_TIMEOUT_S = env.float("SCORE_SSH_TIMEOUT_S", default=30)
SCORE_SFTP_REQUEST_BYTES = env.int("SCORE_SFTP_REQUEST_BYTES", default=255 * 1024)
# A run on the cluster stops taking files in time to finish the one in hand, waiting up to this
# long for DERMS's answer, within TASK_BUDGET_S: the wait must leave room for moving the file.
SCORE_SEND_TIMEOUT_S = env.float("SCORE_SEND_TIMEOUT_S", default=min(300, TASK_BUDGET_S / 2))
if not 0 < SCORE_SEND_TIMEOUT_S < TASK_BUDGET_S:
    raise environ.ImproperlyConfigured(
        f"SCORE_SEND_TIMEOUT_S ({SCORE_SEND_TIMEOUT_S:g}) must be positive and below TASK_BUDGET_S "
        f"({TASK_BUDGET_S:g}, itself below Q_TIMEOUT_S): a score run waiting that long for DERMS's answer "
        "would be killed by the worker's task timeout"
    )
# A file claim or a run silent this long lost its worker: the claim is taken back, the run ended.
# A live run is silent at most while it waits for an answer (DERMS's, or one SFTP operation's).
SCORE_CLAIM_STALE_S = env.float("SCORE_CLAIM_STALE_S", default=300)
if SCORE_CLAIM_STALE_S <= max(SCORE_SEND_TIMEOUT_S, SCORE_SSH_TIMEOUT_S) + SCORE_HEARTBEAT_S:
    raise environ.ImproperlyConfigured(
        f"SCORE_CLAIM_STALE_S ({SCORE_CLAIM_STALE_S:g}) must be above SCORE_SEND_TIMEOUT_S and "
        "SCORE_SSH_TIMEOUT_S plus SCORE_HEARTBEAT_S: a live run would be taken for a dead one"
    )
SCORE_NO_FILE_EMAIL = env.bool("SCORE_NO_FILE_EMAIL", default=False)
if SCORE_DESTINATION != "rest" and not SCORE_DESTINATION.startswith("sftp://"):
    raise environ.ImproperlyConfigured("SCORE_DESTINATION must be 'rest' or 'sftp://user@host:port/path'")
if not SCORE_SOURCE_URL.startswith(("sftp://", "file://")):
    raise environ.ImproperlyConfigured("SCORE_SOURCE_URL must be 'sftp://user@host:port/path' or 'file:///path'")

# --- operations: API docs, health, metrics, logs, backpressure, retention ---
INSTALLED_APPS += ["drf_spectacular", "drf_spectacular_sidecar", "hub.ops.apps.OpsConfig"]
MIDDLEWARE.insert(0, "hub.logs.LogContextMiddleware")
REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "hub.schema.FlowAutoSchema"
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
# /metrics asks for `Authorization: Bearer <METRICS_TOKEN>` when it is set.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Above this many accepted-but-unfinished messages new requests get 429 (0: no limit).
BACKLOG_LIMIT = env.int("BACKLOG_LIMIT", default=10_000)
BACKLOG_RETRY_AFTER_S = env.int("BACKLOG_RETRY_AFTER_S", default=60)
# /readyz is unavailable when no worker cluster showed life for this long.
WORKER_HEARTBEAT_MAX_AGE_S = env.float("WORKER_HEARTBEAT_MAX_AGE_S", default=300)
# Raw bodies and call bodies of finished work older than this are purged daily.
RETENTION_DAYS = env.int("RETENTION_DAYS", default=90)
if RETENTION_DAYS < 1:
    raise environ.ImproperlyConfigured("RETENTION_DAYS must be at least 1")
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
if LOG_FORMAT not in ("json", "plain"):
    raise environ.ImproperlyConfigured("LOG_FORMAT must be 'json' or 'plain'")
LOGGING["formatters"]["json"] = {"()": "hub.logs.JsonFormatter"}
LOGGING["filters"] = {"context": {"()": "hub.logs.ContextFilter"}}
LOGGING["handlers"]["stdout"].update(stream="ext://sys.stdout", formatter=LOG_FORMAT, filters=["context"])
# django-q2 adds a handler of its own to a logger that has none.
LOGGING["loggers"]["django-q"] = {"handlers": ["stdout"], "level": LOG_LEVEL, "propagate": False}
# Redis as the django-q2 broker, for task rates the ORM broker's polling does not keep up with.
Q_REDIS_URL = env.str("Q_REDIS_URL", default="")
if Q_REDIS_URL:
    Q_CLUSTER.pop("orm")
    Q_CLUSTER["redis"] = Q_REDIS_URL

# --- program events: device reservations and cancellations (flows 5 and 6) ----
RESERVATION_COLLECTION_SIZE = env.int("RESERVATION_COLLECTION_SIZE", default=500)
DACS_AVAILABILITY_WINDOW_S = env.float("DACS_AVAILABILITY_WINDOW_S", default=900)
# While DACS is up, its health is checked again before sending after this long.
DACS_HEALTH_RECHECK_S = env.float("DACS_HEALTH_RECHECK_S", default=60)
DACS_CANCELLATION_MODE = env.str("DACS_CANCELLATION_MODE", default="lifecycle")
if not 1 <= RESERVATION_COLLECTION_SIZE <= 5000:
    raise environ.ImproperlyConfigured("RESERVATION_COLLECTION_SIZE must be between 1 and 5000")
if DACS_CANCELLATION_MODE not in ("lifecycle", "legacy"):
    raise environ.ImproperlyConfigured("DACS_CANCELLATION_MODE must be 'lifecycle' or 'legacy'")

# --- operations console (hub/admin/, hub/dashboard.py) ---------------------
# An unfinished message older than this shows under "needs attention".
CONSOLE_OVERDUE_MIN = env.int("CONSOLE_OVERDUE_MIN", default=60)
# What "test connection" on the partners page calls: a harmless GET.
CONSOLE_TEST_PATHS = {
    "DACS": env.str("DACS_TEST_PATH", default=PARTNER_PATHS["DACS_HEALTH_PATH"]),
    "DERMS": env.str("DERMS_TEST_PATH", default=""),
}

# --- device status checks (flow 2) and enrollment synchronisation (flow 3) ----
# A status check DERMS has not answered this long after DACS asked is TIMED_OUT (DACS told FAILURE).
STATUS_CHECK_TIMEOUT_S = env.float("STATUS_CHECK_TIMEOUT_S", default=7200)
if STATUS_CHECK_TIMEOUT_S <= 0:
    raise environ.ImproperlyConfigured("STATUS_CHECK_TIMEOUT_S must be positive")
# A sync DERMS has not acknowledged this long after DACS sent it is flagged overdue (technical email).
SYNC_ACK_OVERDUE_S = env.float("SYNC_ACK_OVERDUE_S", default=7200)
if SYNC_ACK_OVERDUE_S <= 0:
    raise environ.ImproperlyConfigured("SYNC_ACK_OVERDUE_S must be positive")
