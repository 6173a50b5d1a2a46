"""Settings for the test suite: the base settings with fast hashing and captured mail."""

from govsocial.settings.base import *  # noqa: F403
from govsocial.settings.base import CELERY_BEAT_SCHEDULE

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
AXES_FAILURE_LIMIT = 5
CELERY_BEAT_SCHEDULE = dict(CELERY_BEAT_SCHEDULE)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The connector tests talk to servers on 127.0.0.1.
CONNECTORS_ALLOW_PRIVATE_NETWORKS = True
# Tests never reach the real Bluesky; the live tests point these at the local network.
BLUESKY_PLC_URL = "https://plc.invalid"
BLUESKY_DEFAULT_SERVICE = "https://bsky.invalid"
