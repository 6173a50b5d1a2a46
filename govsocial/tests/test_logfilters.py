"""Beat's frequent ticks stay out of the log unless they did something; everything else
Celery logs is kept."""

from __future__ import annotations

import logging

import pytest
from celery.app import trace
from celery.utils.log import get_logger


@pytest.fixture
def records(caplog):
    caplog.set_level(logging.INFO)
    return caplog


def _success(name: str, value: str) -> None:
    get_logger("celery.app.trace").info(
        trace.LOG_SUCCESS,
        {"id": "abc", "name": name, "return_value": value, "runtime": 0.01, "args": "()",
         "kwargs": "{}"},
    )  # fmt: skip


def test_it_drops_the_every_second_dispatch_tick_when_nothing_was_due(records):
    get_logger("celery.beat").info(
        "Scheduler: Sending due task %s (%s)", "dispatch-due", "publishing.tasks.dispatch_due"
    )
    get_logger("celery.worker.strategy").info(
        trace.LOG_RECEIVED, {"id": "abc", "name": "publishing.tasks.dispatch_due"}
    )
    _success("publishing.tasks.dispatch_due", "0")
    assert records.messages == []


def test_it_keeps_a_tick_that_dispatched_posts(records):
    _success("publishing.tasks.dispatch_due", "3")
    assert records.messages == ["Task publishing.tasks.dispatch_due[abc] succeeded in 0.01s: 3"]


def test_it_keeps_other_tasks_and_every_failure(records):
    get_logger("celery.beat").info(
        "Scheduler: Sending due task %s (%s)", "reports", "analytics.tasks.send_due_reports"
    )
    _success("publishing.tasks.publish_job", "published")
    get_logger("celery.app.trace").error(
        "Task %(name)s[%(id)s] raised", {"name": "publishing.tasks.dispatch_due", "id": "x"}
    )
    assert records.messages == [
        "Scheduler: Sending due task reports (analytics.tasks.send_due_reports)",
        "Task publishing.tasks.publish_job[abc] succeeded in 0.01s: published",
        "Task publishing.tasks.dispatch_due[x] raised",
    ]
