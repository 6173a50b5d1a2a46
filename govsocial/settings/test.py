"""Settings for the test suite: the base settings with fast hashing and captured mail."""

import os
import uuid

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
# One run's cache entries never reach another run's (ids restart with each test
# database): a prefix per run, which the worker processes a test starts inherit.
os.environ.setdefault("GOVSOCIAL_TEST_CACHE_PREFIX", f"govsocial-test-{uuid.uuid4().hex[:12]}")
for _cache in CACHES.values():  # noqa: F405
    _cache["KEY_PREFIX"] = os.environ["GOVSOCIAL_TEST_CACHE_PREFIX"]
