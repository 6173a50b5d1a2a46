"""Every task beat sends is a task the worker knows (a renamed task would otherwise
be dropped by the worker as unregistered, silently, on every tick)."""

from __future__ import annotations

from django.conf import settings

from govsocial.celery import app


def test_every_scheduled_task_is_registered() -> None:
    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"listening.tasks.poll_due", "listening.tasks.case_reach"} <= scheduled
    assert "archive.tasks.sync_all" in scheduled
    assert sorted(scheduled - set(app.tasks)) == []


def test_listening_and_archive_work_on_the_sync_queue() -> None:
    by_task = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for name in (
        "listening.tasks.poll_due",
        "listening.tasks.case_reach",
        "archive.tasks.sync_all",
    ):
        assert by_task[name]["options"]["queue"] == "sync"
