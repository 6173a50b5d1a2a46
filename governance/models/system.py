from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """One row per worker queue name, touched by the beat-driven heartbeat task."""

    name = models.CharField(max_length=64, unique=True)
    beat_at = models.DateTimeField()
    hostname = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"
