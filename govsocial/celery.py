"""The Celery app. Queues: ``publish`` (never waits behind slow work), ``sync``, ``default``,
``media`` (ffmpeg's copies of videos).

Database connections in workers: Celery's Django fix-up closes every connection
before and after each task, so each publish opened a new PostgreSQL backend.
Here a task closes only what Django's request cycle would close (a connection
that is broken, in error, or older than ``CONN_MAX_AGE``), and the health check
(``CONN_HEALTH_CHECKS``) re-tests a kept connection before the task first uses
it. A forked pool process still drops the connections it inherited.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, Task
from celery.fixups.django import DjangoFixup, DjangoWorkerFixup
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govsocial.settings.base")


class PersistentConnectionsWorkerFixup(DjangoWorkerFixup):
    """Celery's worker fix-up, closing stale connections per task instead of all."""

    def close_stale_connections(self) -> None:
        self._db.close_old_connections()

    def on_task_prerun(self, sender: Task, **kwargs: Any) -> None:
        if not getattr(sender.request, "is_eager", False):
            self.close_stale_connections()

    def on_task_postrun(self, sender: Task, **kwargs: Any) -> None:
        if not getattr(sender.request, "is_eager", False):
            self.close_stale_connections()
            self.close_cache()


class PersistentConnectionsFixup(DjangoFixup):
    @property
    def worker_fixup(self) -> DjangoWorkerFixup:
        if self._worker_fixup is None:  # type: ignore[has-type]
            self._worker_fixup = PersistentConnectionsWorkerFixup(self.app)
        return self._worker_fixup

    @worker_fixup.setter
    def worker_fixup(self, value: DjangoWorkerFixup) -> None:
        self._worker_fixup = value


def persistent_connections_fixup(app: Celery) -> DjangoFixup:
    return PersistentConnectionsFixup(app).install()


app = Celery("govsocial", fixups=[persistent_connections_fixup])
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue("publish"), Queue("sync"), Queue("default"), Queue("media")]
app.autodiscover_tasks()
