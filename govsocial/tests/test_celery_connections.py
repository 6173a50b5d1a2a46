"""Celery workers keep their database connection between tasks, as web requests do,
and close it when it is older than CONN_MAX_AGE (or broken)."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from govsocial.celery import PersistentConnectionsWorkerFixup, app
from publishing.tasks import sweep_leases


@pytest.fixture
def worker_fixup(monkeypatch):
    monkeypatch.setenv("CELERY_SKIP_CHECKS", "1")
    return PersistentConnectionsWorkerFixup(app)


@pytest.mark.django_db(transaction=True)
def test_it_keeps_a_fresh_connection_from_one_task_to_the_next(worker_fixup, settings):
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] > 0
    worker_fixup.on_task_prerun(sender=sweep_leases)
    sweep_leases()
    kept = connection.connection
    assert kept is not None
    worker_fixup.on_task_postrun(sender=sweep_leases)
    worker_fixup.on_task_prerun(sender=sweep_leases)
    assert connection.connection is kept


@pytest.mark.django_db(transaction=True)
def test_it_closes_a_connection_older_than_its_maximum_age_before_the_next_task(worker_fixup):
    connection.ensure_connection()
    assert connection.connection is not None
    connection.close_at = time.monotonic() - 1
    worker_fixup.on_task_prerun(sender=sweep_leases)
    assert connection.connection is None
    sweep_leases()
    assert connection.connection is not None
