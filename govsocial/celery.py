"""The Celery app. Queues: ``publish`` (never waits behind slow work), ``sync``, ``default``."""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govsocial.settings.base")

app = Celery("govsocial")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue("publish"), Queue("sync"), Queue("default")]
app.autodiscover_tasks()
