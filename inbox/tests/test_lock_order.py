"""Locks are taken in one order (see governance.services.audit): an inbox write that
locks its item never blocks another audited write of the organization into a
deadlock with the organization's audit chain head."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection

from governance.services.audit import audit_record, audit_verify_chain
from inbox.models import InboxItem, ItemStatus
from inbox.services import triage
from inbox.services.triage import inbox_item_set_status
from inbox.tests.helpers import make_item

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks and deadlocks are PostgreSQL's"
)


def _in_thread(errors: list[BaseException], work: Any) -> threading.Thread:
    def run() -> None:
        try:
            work()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_an_item_status_change_and_another_audited_write_do_not_deadlock(personas, monkeypatch):
    item = make_item(personas.bob_account)
    alice = personas.membership(personas.alice)
    item_locked = threading.Event()
    real_audit_record = triage.audit_record

    def audit_after_the_other_writer(**kwargs: Any) -> Any:
        # The status change holds its item lock; let the other writer take the
        # organization's chain head and write its entry before this one asks for it.
        item_locked.set()
        time.sleep(0.5)
        return real_audit_record(**kwargs)

    monkeypatch.setattr(triage, "audit_record", audit_after_the_other_writer)
    errors: list[BaseException] = []

    def change_status() -> None:
        inbox_item_set_status(
            item=item, status=ItemStatus.CLOSED, actor=personas.alice, membership=alice
        )

    def other_write() -> None:
        assert item_locked.wait(10)
        audit_record(action="test.concurrent", organization=personas.org, actor=personas.alice)

    threads = [_in_thread(errors, change_status), _in_thread(errors, other_write)]
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert InboxItem.objects.get(pk=item.pk).status == ItemStatus.CLOSED
    assert audit_verify_chain().ok
