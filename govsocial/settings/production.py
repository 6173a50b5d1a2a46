"""Production settings: the base settings, with every secret required.

The process refuses to start when SECRET_KEY, ENCRYPTION_KEYS, AUDIT_HMAC_KEYS,
DATABASE_URL or REDIS_URL is missing, rather than falling back to a development value.
"""

from django.core.exceptions import ImproperlyConfigured

from govsocial.settings.base import *  # noqa: F403
from govsocial.settings.base import env

_REQUIRED = (
    "SECRET_KEY",
    "ENCRYPTION_KEYS",
    "AUDIT_HMAC_KEYS",
    "DATABASE_URL",
    "REDIS_URL",
    "ALLOWED_HOSTS",
)
_missing = [name for name in _REQUIRED if not env.str(name, default="")]
if _missing:
    raise ImproperlyConfigured(
        "Production settings need these environment variables: " + ", ".join(_missing)
    )

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")
ENCRYPTION_KEYS = env.list("ENCRYPTION_KEYS")
AUDIT_HMAC_KEYS = env.list("AUDIT_HMAC_KEYS")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Health probes (docker compose, load balancers) speak plain HTTP to the container.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
