"""Settings for development and the embedded default.

Everything comes from the environment (django-environ). With nothing set, the
app runs on SQLite under ``var/`` and Celery on kombu's filesystem transport,
so a fresh clone needs no server. Development secrets are generated once into
``var/dev-secrets.json``; none is kept in the repository.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path
from typing import Any

import environ
from cryptography.fernet import Fernet
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A .env file at the root fills in variables the environment lacks; GOVSOCIAL_ENV_FILE
# names another file (tests point it at a missing one to see the bare environment).
env_file = Path(env.str("GOVSOCIAL_ENV_FILE", default=str(BASE_DIR / ".env")))
if env_file.exists():
    environ.Env.read_env(str(env_file))

# Read after .env so GOVSOCIAL_VAR_DIR may be set there too.
VAR_DIR = Path(env.str("GOVSOCIAL_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _dev_secrets() -> dict[str, Any]:
    """Secrets for development, made once per checkout and kept out of git."""
    path = VAR_DIR / "dev-secrets.json"
    if path.exists():
        return dict(json.loads(path.read_text()))
    values = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ENCRYPTION_KEYS": [Fernet.generate_key().decode()],
    }
    path.write_text(json.dumps(values))
    path.chmod(0o600)
    return values


DEBUG = env.bool("DEBUG", default=True)
_dev = _dev_secrets() if not env.str("SECRET_KEY", default="") else {}
SECRET_KEY = env.str("SECRET_KEY", default="") or _dev["SECRET_KEY"]
# Fernet keys for credentials at rest, newest first; rotate with
# `manage.py rotate_encryption_keys` after putting a new key in front.
ENCRYPTION_KEYS: list[str] = env.list("ENCRYPTION_KEYS", default=[]) or list(
    (_dev or _dev_secrets())["ENCRYPTION_KEYS"]
)
# Keys of the audit log's HMAC chain, newest first: the newest signs new entries and
# checkpoints, every listed key verifies (each entry stores its key's id). Rotate by
# putting a new key in front and keeping the old ones. Production requires them; in
# development one is derived from SECRET_KEY so a fresh checkout needs nothing.
AUDIT_HMAC_KEYS: list[str] = env.list("AUDIT_HMAC_KEYS", default=[]) or [
    hashlib.sha256(b"govsocial-dev-audit-key:" + SECRET_KEY.encode()).hexdigest()
]
# Signed checkpoints of each organization's audit chain head, written by beat outside
# the database: one JSON-lines file per chain in this directory (put it on storage the
# database's administrators cannot rewrite), and e-mailed to the organization's
# auditors when AUDIT_CHECKPOINT_EMAIL_AUDITORS is on.
AUDIT_CHECKPOINT_DIR = Path(
    env.str("AUDIT_CHECKPOINT_DIR", default=str(VAR_DIR / "audit-checkpoints"))
)
AUDIT_CHECKPOINT_SECONDS = env.int("AUDIT_CHECKPOINT_SECONDS", default=60 * 60)
AUDIT_CHECKPOINT_EMAIL_AUDITORS = env.bool("AUDIT_CHECKPOINT_EMAIL_AUDITORS", default=False)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://localhost:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # django-otp's core only: its TOTP and static-token plugins keep secrets readable,
    # so governance has its own devices (governance/models/second_factor.py).
    "django_otp",
    # Passkeys (WebAuthn) as a django-otp device: governance/services/passkeys.py.
    "django_otp_webauthn",
    "axes",
    "csp",
    "django_htmx",
    "governance",
    "accounts",
    "publishing",
    "inbox",
    "archive",
    "listening",
    "analytics",
    "govsocial",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "publishing.middleware.ShortLinkMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "governance.middleware.RejectNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "governance.middleware.CachedOTPMiddleware",
    "governance.middleware.ActiveMembershipMiddleware",
    "governance.middleware.TwoFactorRequiredMiddleware",
    "governance.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "govsocial.errorpages.MethodNotAllowedPageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "govsocial.urls"
WSGI_APPLICATION = "govsocial.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "governance.context_processors.organization",
                "publishing.context_processors.pause_banner",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'govsocial.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web, worker and beat processes share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )
# Keep each process's database connection between requests and tasks (a new
# PostgreSQL backend per request cost ~6% of a web worker's CPU). The health check
# re-tests a kept connection before its first use in a request or task, so a
# restarted database costs one failed ping, not a failed request. 0 closes per request.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "govsocial",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

AUTH_USER_MODEL = "governance.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Signing in with a passkey alone, where the organization allows it.
    "django_otp_webauthn.backends.WebAuthnBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "governance:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "governance:login"

# Sessions are read from the cache (Redis, or the file cache without it) and
# written through to the database, so a request costs no session query.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 10)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False
# JSON under /api/, Django's page elsewhere.
CSRF_FAILURE_VIEW = "govsocial.views.csrf_failure"

# django-axes: lock an e-mail address and source after repeated failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "governance.views.auth.lockout_response"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = False
# Whom the lockout page tells people to contact (a service desk address, say);
# empty means "an administrator of your organization or your IT service desk".
LOGIN_HELP_CONTACT = env.str("LOGIN_HELP_CONTACT", default="")
# The practice (Sandbox) audience answers each new post on its own, this long after it.
SANDBOX_AUDIENCE_REACTS = env.bool("SANDBOX_AUDIENCE_REACTS", default=True)
SANDBOX_AUDIENCE_DELAY_SECONDS = env.int("SANDBOX_AUDIENCE_DELAY_SECONDS", default=20)

OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="GovSocial")
# Passkeys: the relying party is the host people reach GovSocial at (its name without
# the port); the origin checked is the request's own, which ALLOWED_HOSTS limits.
OTP_WEBAUTHN_RP_ID_CALLABLE = "governance.services.passkeys.relying_party_id"
OTP_WEBAUTHN_RP_NAME = env.str("OTP_WEBAUTHN_RP_NAME", default="GovSocial")
OTP_WEBAUTHN_HELPER_CLASS = "governance.services.passkeys.PasskeyHelper"
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = True  # and then only where the organization allows it
OTP_WEBAUTHN_EXCEPTION_LOGGER_NAME = "govsocial.passkeys"
# The expected origin is derived per request (PasskeyHelper), not listed here.
SILENCED_SYSTEM_CHECKS = ["otp_webauthn.E030"]

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("fi", _("Finnish")),
    ("sv", _("Swedish")),
    ("tr", _("Turkish")),
    ("id", _("Indonesian")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One date and time format per language, used everywhere (govsocial/formats).
FORMAT_MODULE_PATH = ["govsocial.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(VAR_DIR / "static"))
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "govsocial" / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(VAR_DIR / "media"))
# Uploads larger than this go to a temporary file on disk, never held in memory (videos).
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# The largest video the media library takes (bytes); Facebook takes 10 GB, most far less.
VIDEO_MAX_UPLOAD_BYTES = env.int("VIDEO_MAX_UPLOAD_BYTES", default=1024 * 1024 * 1024)
# Videos sent from the browser in chunks are assembled here (a folder outside MEDIA_ROOT,
# on the same disk so the finished file is moved, not copied); an upload nobody touched
# for VIDEO_UPLOAD_SESSION_HOURS is removed by beat.
VIDEO_UPLOAD_DIR = env.str("VIDEO_UPLOAD_DIR", default=str(VAR_DIR / "uploads"))
VIDEO_UPLOAD_CHUNK_BYTES = env.int("VIDEO_UPLOAD_CHUNK_BYTES", default=8 * 1024 * 1024)
VIDEO_UPLOAD_SESSION_HOURS = env.int("VIDEO_UPLOAD_SESSION_HOURS", default=24)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="GovSocial <govsocial@localhost>")

INVITATION_TTL_HOURS = env.int("INVITATION_TTL_HOURS", default=72)
# How long an outside reviewer's e-mailed approval link works.
OUTSIDE_REVIEW_TTL_HOURS = env.int("OUTSIDE_REVIEW_TTL_HOURS", default=72)

# Connectors refuse loopback, private, link-local and reserved addresses, because a
# Mastodon instance or PDS address is typed in by a person. Local test servers need this on.
CONNECTORS_ALLOW_PRIVATE_NETWORKS = env.bool("CONNECTORS_ALLOW_PRIVATE_NETWORKS", default=False)
# Single sign-on: identity providers' issuer addresses must be https unless this is on
# (a provider on a test machine).
SSO_ALLOW_INSECURE_ISSUERS = env.bool("SSO_ALLOW_INSECURE_ISSUERS", default=False)
# Bluesky: the PLC directory that maps did:plc identities to their servers (PDS), and
# the service that resolves a handle typed in by a person when no server is given.
BLUESKY_PLC_URL = env.str("BLUESKY_PLC_URL", default="https://plc.directory")
BLUESKY_DEFAULT_SERVICE = env.str("BLUESKY_DEFAULT_SERVICE", default="https://bsky.social")
# LinkedIn's API version (YYYYMM) for every call. Versions are sunset a year after
# release; admins are warned in the app two months before (accounts.connectors.linkedin).
LINKEDIN_API_VERSION = env.str("LINKEDIN_API_VERSION", default="202609")
LINKEDIN_API_URL = env.str("LINKEDIN_API_URL", default="https://api.linkedin.com")
LINKEDIN_AUTH_URL = env.str("LINKEDIN_AUTH_URL", default="https://www.linkedin.com")
# Threads: the API host and the authorization window (tests point both at a local server).
THREADS_API_URL = env.str("THREADS_API_URL", default="https://graph.threads.net")
THREADS_AUTHORIZE_URL = env.str(
    "THREADS_AUTHORIZE_URL", default="https://threads.com/oauth/authorize"
)
# X: the API and the consent page (changed only to point at a local test server).
X_API_URL = env.str("X_API_URL", default="https://api.x.com")
X_AUTHORIZE_URL = env.str("X_AUTHORIZE_URL", default="https://x.com/i/oauth2/authorize")
# YouTube: the Data API host (uploads go to its /upload/ paths), Google's consent page
# and token endpoint (changed only to point at a local test server).
YOUTUBE_API_URL = env.str("YOUTUBE_API_URL", default="https://www.googleapis.com")
YOUTUBE_AUTHORIZE_URL = env.str(
    "YOUTUBE_AUTHORIZE_URL", default="https://accounts.google.com/o/oauth2/v2/auth"
)
YOUTUBE_TOKEN_URL = env.str("YOUTUBE_TOKEN_URL", default="https://oauth2.googleapis.com")
TIKTOK_API_URL = env.str("TIKTOK_API_URL", default="https://open.tiktokapis.com")
TIKTOK_AUTH_URL = env.str("TIKTOK_AUTH_URL", default="https://www.tiktok.com")
# Meta (Facebook Pages, Instagram): the Graph API and the Facebook Login dialog. Only
# tests point these elsewhere (at the local Graph server).
META_GRAPH_URL = env.str("META_GRAPH_URL", default="https://graph.facebook.com")
# Facebook Page videos are published on the video host (video-api/guides/publishing).
META_GRAPH_VIDEO_URL = env.str("META_GRAPH_VIDEO_URL", default="https://graph-video.facebook.com")
META_DIALOG_URL = env.str("META_DIALOG_URL", default="https://www.facebook.com")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "governance.api.auth.ApiTokenAuthentication",
        "governance.api.auth.OTPSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "governance.api.schema.AutoSchema",
    # limit/offset validated and capped (1-200): governance.api.pagination.
    "DEFAULT_PAGINATION_CLASS": "governance.api.pagination.PagePagination",
    "PAGE_SIZE": 50,
    # Request bodies are JSON, and the schema says only that (forms are still read, but
    # cannot say null or a list). JSON nested past a sane depth is a 400, not a
    # RecursionError.
    "DEFAULT_PARSER_CLASSES": [
        "governance.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "governance.api.errors.json_exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "GovSocial API",
    "DESCRIPTION": "Social media management for public-sector communications teams.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        # One Error body for every error status of every operation.
        "governance.api.schema.error_envelope_hook",
    ],
    # Swagger UI and Redoc served from our own static files (drf-spectacular-sidecar):
    # the CSP allows scripts only from 'self', and a deployment may have no internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No link inside each operation's button (axe: nested-interactive).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "REDOC_DIST": "SIDECAR",
    # Choice sets that share a field name ("status") get distinct schema names.
    "ENUM_NAME_OVERRIDES": {
        "InvitationStatusEnum": "governance.serializers.InvitationStatus",
        "ApiTokenStatusEnum": "governance.serializers.ApiTokenStatus",
        "ChannelAccountStatusEnum": "accounts.models.AccountStatus",
        "ErrorKindEnum": "accounts.connectors.base.ErrorKind",
        "PostStatusEnum": "publishing.models.PostStatus",
        "PublishJobStatusEnum": "publishing.models.JobStatus",
        "VideoCopyKindEnum": "publishing.models.VideoCopyKind",
        "VideoCopyStatusEnum": "publishing.models.VideoCopyStatus",
        "HandoverStatusEnum": "governance.models.handover.HandoverStatus",
        "RecordsExportStatusEnum": "governance.models.records.ExportStatus",
        "RegistryNetworkEnum": "governance.models.registry.RegistryNetwork",
        "VaultSecretKindEnum": "governance.models.vault.SecretKind",
        "PolicyKindEnum": "governance.models.policies.PolicyKind",
        "LoginIdentityKindEnum": "governance.selectors.registry.IDENTITY_KINDS",
        "InboxItemStatusEnum": "inbox.models.ItemStatus",
        "InboxItemKindEnum": "inbox.models.ItemKind",
        "InboxReplyStatusEnum": "inbox.models.ReplyStatus",
        "InboxPriorityEnum": "inbox.models.Priority",
        "RecordKindEnum": "archive.models.RecordKind",
        "MisinformationCaseStatusEnum": "listening.models.CaseStatus",
        # The interface languages, whatever the field is called (language,
        # default_language, preferred_language).
        "LanguageEnum": LANGUAGES,
    },
}

# Content Security Policy (django-csp 4): no inline script anywhere; behaviour
# comes from static files through data- attributes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# Celery. The database holds every schedule; the broker only carries
# "do this now". Without REDIS_URL, kombu's filesystem transport under var/.
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
if not REDIS_URL:
    _broker_dir = VAR_DIR / "celery-broker"
    for _sub in ("out", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        # Broadcast (pidbox) exchanges; kombu's default is ./control in the working directory.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
    # kombu's Redis transport with the fix that keeps a busy worker alive when Redis
    # restarts (see govsocial/broker.py). Sentinel URLs keep kombu's own.
    if REDIS_URL.split("://", 1)[0] in ("redis", "rediss"):
        CELERY_BROKER_TRANSPORT = "govsocial.broker:Transport"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES_NAMES = ("publish", "sync", "default", "media")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    # A signed checkpoint of every audit chain head that moved, written outside the database.
    "governance-audit-checkpoints": {
        "task": "governance.tasks.write_audit_checkpoints",
        "schedule": float(AUDIT_CHECKPOINT_SECONDS),
        "options": {"queue": "default", "expires": max(AUDIT_CHECKPOINT_SECONDS - 5, 5)},
    },
    "worker-heartbeat": {
        "task": "govsocial.tasks.heartbeat",
        "schedule": 30.0,
        "options": {"queue": "default", "expires": 25},
    },
    # The dispatcher's tick: claims due publish jobs in the database. A tick that
    # waits longer than its interval is dropped (the next one does the same work).
    # Every half second, so a post due just after a tick still reaches the network
    # within a second (an idle tick costs two small queries).
    "publishing-dispatch-due": {
        "task": "publishing.tasks.dispatch_due",
        "schedule": 0.5,
        "options": {"queue": "publish", "expires": 2},
    },
    # Approval reminders (publishing/services/reminders.py): stages that waited past their
    # policy's limit remind their approvers, then the managers; each claimed once in the database.
    "publishing-remind-waiting-approvals": {
        "task": "publishing.tasks.remind_waiting_approvals",
        "schedule": 5 * 60.0,
        "options": {"queue": "default", "expires": 4 * 60},
    },
    # Subscribed iCal calendars (the organization's own events): refreshed every few hours.
    "publishing-refresh-calendar-sources": {
        "task": "publishing.tasks.refresh_calendar_sources",
        "schedule": 60 * 60.0,
        "options": {"queue": "sync", "expires": 55 * 60},
    },
    # Recurring posts (publishing/services/recurrence.py): occurrences that came within
    # a series' horizon are made as scheduled posts; unique per series and start.
    # Video copies whose message or worker was lost (publishing/services/video_copies.py).
    "publishing-sweep-video-copies": {
        "task": "publishing.tasks.sweep_video_copies",
        "schedule": 5 * 60.0,
        "options": {"queue": "default", "expires": 4 * 60},
    },
    "publishing-extend-recurring-posts": {
        "task": "publishing.tasks.extend_recurring_posts",
        "schedule": 60 * 60.0,
        "options": {"queue": "default", "expires": 50 * 60},
    },
    # Chunked video uploads left unfinished past their expiry: their partial files removed.
    "publishing-expire-video-uploads": {
        "task": "publishing.tasks.expire_video_uploads",
        "schedule": 15 * 60.0,
        "options": {"queue": "default", "expires": 14 * 60},
    },
    # Short-link clicks are counted in Redis and moved to the database this often, so
    # analytics and the post page lag the redirects by a few seconds at most.
    "publishing-flush-short-link-clicks": {
        "task": "publishing.tasks.flush_short_link_clicks",
        "schedule": 5.0,
        "options": {"queue": "default", "expires": 5},
    },
    "publishing-sweep-leases": {
        "task": "publishing.tasks.sweep_leases",
        "schedule": 2.0,
        "options": {"queue": "publish", "expires": 2},
    },
    # Channel accounts (accounts/tasks.py): health checks, renewing credentials
    # that end soon, and the daily notice about sign-ins that end within 14 days.
    "accounts-check-health": {
        "task": "accounts.tasks.check_all_health",
        "schedule": 30 * 60.0,
        "options": {"queue": "sync", "expires": 25 * 60},
    },
    "accounts-refresh-credentials": {
        "task": "accounts.tasks.refresh_expiring_credentials",
        "schedule": 15 * 60.0,
        "options": {"queue": "sync", "expires": 14 * 60},
    },
    "accounts-expiring-credentials": {
        "task": "accounts.tasks.notify_expiring_credentials",
        "schedule": 24 * 60 * 60.0,
        "options": {"queue": "sync", "expires": 12 * 60 * 60},
    },
    # Inbox (inbox/tasks.py): one sync task per account every minute, from its stored
    # cursor; and a look-up of recent items now and then to notice deletions.
    "inbox-sync-all": {
        "task": "inbox.tasks.sync_all",
        "schedule": 60.0,
        "options": {"queue": "sync", "expires": 55},
    },
    "inbox-check-deleted": {
        "task": "inbox.tasks.check_deleted_all",
        "schedule": 30 * 60.0,
        "options": {"queue": "sync", "expires": 25 * 60},
    },
    # The complete record (archive/services/archive.py): every five minutes, one archive
    # task per account from its stored cursor (a pass ends, then waits its interval),
    # and the inbox's own texts added to the records search.
    "archive-sync-all": {
        "task": "archive.tasks.sync_all",
        "schedule": 5 * 60.0,
        "options": {"queue": "sync", "expires": 4 * 60},
    },
    # Analytics (analytics/tasks.py): every minute, track newly published posts and send
    # one metrics pull per account with something due (due times live in the database);
    # hourly, bring the recent days' rollups up to date and send the scheduled reports
    # that fell due (Mondays and the 1st at 07:00 local time).
    "analytics-pull-due": {
        "task": "analytics.tasks.pull_due",
        "schedule": 60.0,
        "options": {"queue": "sync", "expires": 55},
    },
    # Listening (listening/tasks.py): every minute, one search per (watch, account) whose
    # next search is due (every five minutes, later after a rate limit); hourly, a reach
    # point for each open misinformation case. All on ``sync``: publishing never waits.
    "listening-poll-due": {
        "task": "listening.tasks.poll_due",
        "schedule": 60.0,
        "options": {"queue": "sync", "expires": 55},
    },
    "listening-case-reach": {
        "task": "listening.tasks.case_reach",
        "schedule": 60 * 60.0,
        "options": {"queue": "sync", "expires": 55 * 60},
    },
    "analytics-rebuild-recent": {
        "task": "analytics.tasks.rebuild_recent",
        "schedule": 60 * 60.0,
        "options": {"queue": "default", "expires": 55 * 60},
    },
    "analytics-send-due-reports": {
        "task": "analytics.tasks.send_due_reports",
        "schedule": 60 * 60.0,
        "options": {"queue": "default", "expires": 55 * 60},
    },
    # Governance reminders (governance/tasks/reminders.py), daily: access reviews that fell due,
    # vault secrets past their rotation date, the governance model's own review.
    # Each reminder is claimed in the database, so it goes out once per due date.
    "governance-remind-access-reviews": {
        "task": "governance.tasks.remind_access_reviews",
        "schedule": 24 * 60 * 60.0,
        "options": {"queue": "default", "expires": 12 * 60 * 60},
    },
    "governance-remind-vault-rotations": {
        "task": "governance.tasks.remind_vault_rotations",
        "schedule": 24 * 60 * 60.0,
        "options": {"queue": "default", "expires": 12 * 60 * 60},
    },
    "governance-remind-governance-reviews": {
        "task": "governance.tasks.remind_governance_reviews",
        "schedule": 24 * 60 * 60.0,
        "options": {"queue": "default", "expires": 12 * 60 * 60},
    },
    # Records (governance/tasks/records.py): the daily disposal run under the retention
    # rules and legal holds, and re-sending export builds whose message was lost.
    "governance-dispose-records": {
        "task": "governance.tasks_records.dispose_records",
        "schedule": 24 * 60 * 60.0,
        "options": {"queue": "default", "expires": 12 * 60 * 60},
    },
    "governance-sweep-records-exports": {
        "task": "governance.tasks_records.sweep_records_exports",
        "schedule": 15 * 60.0,
        "options": {"queue": "default", "expires": 14 * 60},
    },
}
CELERY_TASK_ROUTES = {
    # A spreadsheet import is long and must never delay a post.
    "publishing.tasks.import_posts": {"queue": "default"},
    # An exact name wins over the pattern: approval reminders never wait behind publishing.
    "publishing.tasks.remind_waiting_approvals": {"queue": "default"},
    # Fetching subscribed calendars is outside work, like the inbox's: never in the publish queue.
    "publishing.tasks.refresh_calendar_sources": {"queue": "sync"},
    "publishing.tasks.refresh_calendar_source": {"queue": "sync"},
    "publishing.tasks.extend_recurring_posts": {"queue": "default"},
    "publishing.tasks.expire_video_uploads": {"queue": "default"},
    "publishing.tasks.flush_short_link_clicks": {"queue": "default"},
    # ffmpeg's copies of videos take minutes of CPU: a queue of their own, never publish.
    "publishing.tasks.make_video_copy": {"queue": "media"},
    "publishing.tasks.sweep_video_copies": {"queue": "default"},
    "publishing.tasks.*": {"queue": "publish"},
}
# /healthz calls the worker stale when its last heartbeat is older than this.
HEARTBEAT_STALE_SECONDS = env.int("HEARTBEAT_STALE_SECONDS", default=120)
# Today's dashboard and home-page figures are read from the raw tables at most this
# often per organization (the page says "figures as of" when); 0 reads them every view.
ANALYTICS_LIVE_SECONDS = env.int("ANALYTICS_LIVE_SECONDS", default=60)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Beat's every-second tick is logged only when it did something (govsocial/logfilters.py).
    "filters": {"quiet_ticks": {"()": "govsocial.logfilters.QuietTicks"}},
    "loggers": {
        "axes": {"level": "WARNING"},
        # Authlib logs each sign-in's PKCE verifier at DEBUG: never let LOG_LEVEL=DEBUG show it.
        "authlib": {"level": "INFO"},
        "celery.beat": {"filters": ["quiet_ticks"]},
        "celery.worker.strategy": {"filters": ["quiet_ticks"]},
        "celery.app.trace": {"filters": ["quiet_ticks"]},
    },
}
