"""A reply the network already accepted is never lost to a database conflict, and never
ends in a server error for the person who sent it."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from accounts.models import SandboxPost
from governance.models import AuditEvent
from inbox.models import Reply, ReplyStatus
from inbox.services import replies


class _DeadlockDetected(Exception):
    pgcode = "40P01"


def _deadlock() -> OperationalError:
    error = OperationalError("deadlock detected")
    error.__cause__ = _DeadlockDetected()
    return error


def _item(personas):
    from inbox.tests.test_views_item import _synced_reply

    return _synced_reply(personas)[1]


@pytest.mark.django_db(transaction=True)
def test_a_deadlock_while_recording_a_sent_reply_is_retried(client, personas, login, monkeypatch):
    item = _item(personas)
    real = replies._record_sent_once
    calls: list[int] = []

    def deadlock_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise _deadlock()
        return real(*args, **kwargs)

    monkeypatch.setattr(replies, "_record_sent_once", deadlock_once)
    login(client, personas.bob)

    response = client.post(f"/inbox/{item.pk}/reply/", {"body": "On Monday."}, follow=True)

    assert response.status_code == 200
    assert "Your reply was sent." in response.content.decode()
    assert len(calls) == 2
    reply = Reply.objects.get(item=item)
    assert reply.status == ReplyStatus.SENT
    assert SandboxPost.objects.filter(is_own=True, remote_id=reply.remote_id).exists()
    assert AuditEvent.objects.filter(action="inbox_reply.sent").count() == 1


@pytest.mark.django_db
def test_a_sent_reply_the_database_cannot_record_is_no_server_error(
    client, personas, login, monkeypatch
):
    item = _item(personas)

    def always_deadlock(*args, **kwargs):
        raise _deadlock()

    monkeypatch.setattr(replies, "_record_sent_once", always_deadlock)
    login(client, personas.bob)

    response = client.post(f"/inbox/{item.pk}/reply/", {"body": "On Monday."}, follow=True)

    assert response.status_code == 200
    reply = Reply.objects.get(item=item)
    # Out on the network, not confirmed here: a later try looks it up instead of resending.
    assert reply.status == ReplyStatus.UNKNOWN
    assert SandboxPost.objects.filter(is_own=True, in_reply_to__remote_id=item.remote_id).exists()
