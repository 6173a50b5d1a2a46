"""Settings for the test suite: the base settings with fast hashing and captured mail."""

import os
import uuid

from govsocial.settings.base import *  # noqa: F403
from govsocial.settings.base import CACHES, CELERY_BEAT_SCHEDULE

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
# The single sign-on tests run an OpenID Provider on http://127.0.0.1.
SSO_ALLOW_INSECURE_ISSUERS = True
# Tests never reach the real Bluesky; the live tests point these at the local network.
BLUESKY_PLC_URL = "https://plc.invalid"
BLUESKY_DEFAULT_SERVICE = "https://bsky.invalid"
# Each test run has its own cache keys: the test database starts again at id 1, and a
# cached session, device or count of an earlier run must not answer for this one.
# Worker processes a test starts inherit the variable, so they share this run's keys.
os.environ.setdefault("GOVSOCIAL_TEST_CACHE_PREFIX", f"govsocial-test-{uuid.uuid4().hex[:12]}")
CACHES = {
    name: {**options, "KEY_PREFIX": os.environ["GOVSOCIAL_TEST_CACHE_PREFIX"]}
    for name, options in CACHES.items()
}
# Tests count the practice audience's answers: it reacts on its own only where a test asks.
SANDBOX_AUDIENCE_REACTS = False
# Today's dashboard figures are read afresh in every test (a test that publishes and
# looks again expects to see it); analytics/tests/test_live_day_cache.py sets it on.
ANALYTICS_LIVE_SECONDS = 0
