"""Keep the logs readable: beat's frequent ticks are logged only when they did something.

Beat fires ``dispatch_due`` every second and a few sweeps every 15 to 60 s. Celery logs
each send ("Scheduler: Sending due task"), each receipt ("Task … received") and each
success ("Task … succeeded in …: 0") at INFO, which buried everything else (two
thirds of a 20-minute log). This filter drops those three lines for the frequent
ticks, except a success whose result says work was done (a count above 0). Failures,
retries and every other task are untouched.
"""

from __future__ import annotations

import logging

# Ticks scheduled every minute or more often (govsocial/settings/base.py).
FREQUENT_TICKS = frozenset(
    {
        "govsocial.tasks.heartbeat",
        "publishing.tasks.dispatch_due",
        "publishing.tasks.sweep_leases",
        "inbox.tasks.sync_all",
        "analytics.tasks.pull_due",
        "listening.tasks.poll_due",
    }
)
_IDLE_RESULTS = frozenset({"0", "None", "[]", "{}", "()", "False", "''"})


def _task_name(record: logging.LogRecord) -> str:
    args = record.args
    if record.name == "celery.beat" and isinstance(args, tuple) and len(args) >= 2:
        return str(args[1]) if str(record.msg).startswith("Scheduler: Sending due task") else ""
    if isinstance(args, dict):
        return str(args.get("name", ""))
    return ""


class QuietTicks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        name = _task_name(record)
        if name not in FREQUENT_TICKS:
            return True
        args = record.args
        if isinstance(args, dict) and "return_value" in args:
            return str(args["return_value"]).strip() not in _IDLE_RESULTS
        return False
