"""Settings for the Celery worker and beat processes that tests start.

The test settings, plus: publishing on a queue of the test's own (so no other
worker on the same broker takes its messages), short leases and a fast sweeper
(so a killed worker's job is recovered in seconds, not minutes), all from the
environment the test gives the process.
"""

import os

from govsocial.settings.test import *  # noqa: F403

_queue = os.environ.get("PUBLISHING_TEST_QUEUE", "publish")

CELERY_TASK_ROUTES = {"publishing.tasks.*": {"queue": _queue}}
CELERY_BEAT_SCHEDULE = {
    "publishing-dispatch-due": {
        "task": "publishing.tasks.dispatch_due",
        "schedule": float(os.environ.get("PUBLISHING_TEST_TICK_SECONDS", "1")),
        "options": {"queue": _queue, "expires": 2},
    },
    "publishing-sweep-leases": {
        "task": "publishing.tasks.sweep_leases",
        "schedule": float(os.environ.get("PUBLISHING_TEST_SWEEP_SECONDS", "2")),
        "options": {"queue": _queue, "expires": 2},
    },
}
# The product's own leases unless the test asks for others.
for _name, _env in (
    ("CLAIM_LEASE_SECONDS", "PUBLISHING_TEST_CLAIM_LEASE"),
    ("RUN_LEASE_SECONDS", "PUBLISHING_TEST_RUN_LEASE"),
    ("LEASE_RENEW_SECONDS", "PUBLISHING_TEST_LEASE_RENEW"),
    ("IDEMPOTENCY_MARGIN_SECONDS", "PUBLISHING_TEST_IDEMPOTENCY_MARGIN"),
    ("LOOKUP_MAX_POSTS", "PUBLISHING_TEST_LOOKUP_MAX_POSTS"),
    ("MAX_QUEUED", "PUBLISHING_TEST_MAX_QUEUED"),
):
    if os.environ.get(_env):
        globals()[f"PUBLISHING_{_name}"] = float(os.environ[_env])
PUBLISHING_DISPATCH_BATCH = int(os.environ.get("PUBLISHING_TEST_BATCH", "100"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
}
