"""The sync tick: one task per active account on the ``sync`` queue, each calling the service."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import AccountStatus, SandboxPost
from inbox import tasks
from inbox.models import InboxCursor, InboxItem
from inbox.tests.helpers import citizen_writes


@pytest.fixture
def sent(monkeypatch):
    """The per-account tasks the ticks send, run at once; lists (task, args, queue)."""
    calls: list[tuple[str, list, str]] = []
    for task in (tasks.sync_account, tasks.check_deleted):

        def apply_async(args, queue, task=task, **options):
            calls.append((task.name, list(args), queue))
            task(*args)

        monkeypatch.setattr(task, "apply_async", apply_async)
    return calls


def test_beat_syncs_every_minute_on_the_sync_queue():
    entry = settings.CELERY_BEAT_SCHEDULE["inbox-sync-all"]
    assert (entry["task"], entry["schedule"], entry["options"]["queue"]) == (
        "inbox.tasks.sync_all",
        60.0,
        "sync",
    )
    assert settings.CELERY_BEAT_SCHEDULE["inbox-check-deleted"]["task"] == (
        "inbox.tasks.check_deleted_all"
    )


def test_the_tick_sends_one_sync_per_active_account(personas, sent):
    citizen_writes(personas.bob_account, "Hello")
    citizen_writes(personas.other_account, "Hi")
    personas.outsider_account.status = AccountStatus.DISCONNECTED
    personas.outsider_account.save()
    InboxCursor.objects.create(
        channel_account=personas.other_account, next_sync_at=timezone.now() + timedelta(minutes=5)
    )
    assert tasks.sync_all() == 1
    assert sent == [("inbox.tasks.sync_account", [personas.bob_account.pk], "sync")]
    assert list(InboxItem.objects.values_list("text", flat=True)) == ["Hello"]


def test_the_deletion_check_runs_per_account(personas, sent):
    post = citizen_writes(personas.bob_account, "Oops")
    tasks.sync_account(personas.bob_account.pk)
    SandboxPost.objects.filter(pk=post.pk).update(deleted_at=timezone.now())
    tasks.check_deleted_all()
    assert ("inbox.tasks.check_deleted", [personas.bob_account.pk], "sync") in sent
    assert InboxItem.objects.get().deleted_on_network_at is not None


def test_a_task_for_an_account_no_longer_in_use_does_nothing(personas):
    personas.bob_account.status = AccountStatus.PAUSED
    personas.bob_account.save()
    assert tasks.sync_account(personas.bob_account.pk) == "inactive"
    assert tasks.check_deleted(personas.bob_account.pk) == 0
