from __future__ import annotations

import socket

from celery import shared_task
from django.utils import timezone

from governance.models import WorkerHeartbeat


# Its own soft limit too: the global soft limit (240 s) above this hard limit makes
# Celery refuse heartbeat.delay() ("soft_time_limit must be less than or equal to time_limit").
@shared_task(
    name="govsocial.tasks.heartbeat", ignore_result=True, soft_time_limit=20, time_limit=30
)
def heartbeat() -> None:
    """Beat sends this every 30 s; a worker that runs it proves the pipeline is alive."""
    WorkerHeartbeat.objects.update_or_create(
        name="worker", defaults={"beat_at": timezone.now(), "hostname": socket.gethostname()}
    )
