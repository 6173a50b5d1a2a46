"""The dispatcher: publish every due job exactly once, on time, or say why not.

How a job travels::

    pending ──claim (dispatcher)──▶ claimed ──start (worker)──▶ running ──▶ published
       ▲                               │                           │  ├──▶ failed
       └──── back-off / sweeper ◀──────┴───────────────────────────┘  └──▶ held

- **Claim before you act.** :func:`dispatch_due` claims due jobs in the
  database (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL; one conditional
  ``UPDATE`` per job elsewhere, whose row count says who won), gives each a
  lease, and enqueues ``publish_job(job_id)`` only once that commits. Two
  dispatchers (a doubled beat) never claim the same job: the second finds it
  locked or no longer pending.
- **Start exactly once.** A worker moves the job ``claimed → running`` with a
  conditional update under the post's row lock; a duplicate or stale message
  finds nothing to do.
- **Re-check at run time**: the post is still scheduled, the account active, no
  pause applies, the late cut-off has not passed (past it the job fails with
  that reason; nothing is ever published silently late).
- **Record before the call.** A ``PublishAttempt`` row (``started``) is
  committed before the connector is called, and completed after.
- **Never resend blindly.** An unknown outcome (a timeout, or a ``started``
  attempt left by a worker that died, found by :func:`leases_sweep`) marks the
  job ``needs_reconcile``; before anything is sent again the network is asked,
  either by resending with the same idempotency key inside the window in which
  the network promises to recognise it (Mastodon: 1 h; Sandbox: by key), or by
  looking through the account's recent posts.
- **Back-off lives in the database** (``next_attempt_at``), never in a Celery
  countdown or ETA, so losing the broker loses nothing: the sweeper frees
  expired leases and the dispatcher claims those jobs again.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, F, Min
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.connectors.base import (
    AuthError,
    Connector,
    ConnectorError,
    ErrorKind,
    RateLimited,
    RecentPost,
    Rejected,
    RemoteRef,
    TransientError,
    UnknownOutcome,
    lookup_is_complete,
)
from accounts.connectors.registry import UnknownNetwork, get_connector
from accounts.models import AccountStatus, ChannelAccount
from accounts.selectors import channel_accounts_for_membership
from accounts.services import channel_account_record_error
from governance.dates import format_datetime_in_zone
from governance.models import Membership
from governance.selectors.access import require_perm
from governance.services.audit import audit_append, audit_entry, audit_record
from publishing.models import (
    AttemptKind,
    AttemptStatus,
    HoldReason,
    JobStatus,
    Post,
    PostStatus,
    PublishAttempt,
    PublishJob,
    Variant,
)
from publishing.selectors import pause_applies
from publishing.services._base import job_facts, job_update, lock_post, post_move, post_settle
from publishing.services._notify import notify_users, post_label
from publishing.services.links import job_links_apply
from publishing.validation import (
    organization_publishing_rules,
    variant_request,
    variant_thread_texts,
    variant_with_content,
)

logger = logging.getLogger(__name__)

# Defaults; each can be changed in settings (read at call time) as PUBLISHING_<NAME>.
DEFAULTS: dict[str, float] = {
    # Jobs claimed per dispatcher tick, and at most this many claimed but not yet started.
    "DISPATCH_BATCH": 100,
    "MAX_QUEUED": 100,
    # A claimed job's message must be picked up within this long, else the sweeper frees
    # it and the dispatcher claims it again (a late first message then finds the job
    # claimed afresh and runs it once; the second finds it running and does nothing).
    "CLAIM_LEASE_SECONDS": 20,
    # A running job's lease: the worker renews it every LEASE_RENEW_SECONDS while it
    # works, so it only runs out when the worker is gone (killed, host lost) and the
    # sweeper (beat runs it every 2 s) then reconciles the job.
    "RUN_LEASE_SECONDS": 20,
    "LEASE_RENEW_SECONDS": 5,
    "MAX_ATTEMPTS": 10,
    "BACKOFF_BASE_SECONDS": 5,
    "BACKOFF_MAX_SECONDS": 300,
    "RATE_LIMIT_DEFAULT_WAIT_SECONDS": 60,
    # Resend with the same key only this far inside the network's idempotency window.
    "IDEMPOTENCY_MARGIN_SECONDS": 120,
    # A look-up for an unknown outcome reads back page by page to before the first
    # attempt, but never more than this many posts; short of that it asks a person.
    "LOOKUP_MAX_POSTS": 400,
}
# kombu's Redis transport serves priority 0 (and none) first; 6 is its third step.
PUBLISH_PRIORITY = 6
# A job that was tried before (taken back from a dead worker, lost with the broker, a
# retry) is already late: its message goes ahead of first tries (kombu's second step).
RETRY_PRIORITY = 3
# How far back to look for a post whose outcome is unknown, before its first attempt.
LOOKUP_SLACK = timedelta(minutes=5)


def setting(name: str) -> float:
    return float(getattr(settings, f"PUBLISHING_{name}", DEFAULTS[name]))


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _enqueue_publish(job_ids: Sequence[int]) -> None:
    # Imported here: tasks import this module.
    from publishing.tasks import publish_job

    # The queue comes from CELERY_TASK_ROUTES ("publish"). On Redis a lower priority
    # than the dispatcher's and sweeper's ticks (which carry none, the highest), so a
    # backlog of publishes never holds up the next tick on the same queue.
    tried = set(
        PublishJob.objects.filter(pk__in=job_ids, attempts__gt=0).values_list("pk", flat=True)
    )
    for job_id in job_ids:
        priority = RETRY_PRIORITY if job_id in tried else PUBLISH_PRIORITY
        publish_job.apply_async(args=[job_id], priority=priority)


# --- claiming ------------------------------------------------------------------------------


def dispatch_due(
    *,
    now: datetime | None = None,
    limit: int | None = None,
    enqueue: Callable[[Sequence[int]], None] | None = None,
) -> list[int]:
    """Claim the jobs that are due and enqueue one ``publish_job`` message for each once
    the claim commits. Returns the claimed ids; safe to call from any number of
    processes at once (each job is claimed by exactly one)."""
    now = now or timezone.now()
    batch = int(limit if limit is not None else setting("DISPATCH_BATCH"))
    # Back-pressure: do not pile up more messages than workers are taking (the ticks
    # come often enough to keep them busy). Many claims still waiting for workers after
    # half their lease means the workers are behind: more claims would only queue
    # messages whose leases run out before they start (the sweeper frees them, and
    # each is claimed and sent again).
    max_queued = int(setting("MAX_QUEUED"))
    queued = PublishJob.objects.filter(status=JobStatus.CLAIMED).aggregate(
        count=Count("pk"), oldest=Min("updated_at")
    )
    half_lease = timedelta(seconds=setting("CLAIM_LEASE_SECONDS") / 2)
    behind = queued["count"] >= max_queued // 2 and queued["oldest"] < now - half_lease
    batch = min(batch, max(0, max_queued - queued["count"]))
    if batch <= 0 or behind:
        return []
    owner = f"dispatch:{uuid.uuid4().hex[:12]}"
    lease = {
        "status": JobStatus.CLAIMED,
        "leased_until": now + timedelta(seconds=setting("CLAIM_LEASE_SECONDS")),
        "lease_owner": owner,
        "updated_at": now,
    }
    due = PublishJob.objects.filter(status=JobStatus.PENDING, next_attempt_at__lte=now).order_by(
        "next_attempt_at", "pk"
    )
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            ids = list(due.select_for_update(skip_locked=True).values_list("pk", flat=True)[:batch])
            # Rows we hold locks on: all of them are ours.
            PublishJob.objects.filter(pk__in=ids).update(**lease)
        else:
            ids = [
                pk
                for pk in due.values_list("pk", flat=True)[:batch]
                if PublishJob.objects.filter(pk=pk, status=JobStatus.PENDING).update(**lease)
            ]
        if ids:
            send = enqueue or _enqueue_publish
            transaction.on_commit(lambda: send(ids), robust=True)
    return ids


@dataclass(frozen=True)
class SweepReport:
    claims_freed: int = 0
    runs_orphaned: int = 0


def leases_sweep(*, now: datetime | None = None) -> SweepReport:
    """Free jobs whose lease expired.

    A *claimed* job whose message never started (lost with a broker restart)
    goes back to pending and is claimed again on the next tick. A *running* job
    whose worker died: its ``started`` attempt becomes ``unknown`` and the job
    must be reconciled with the network before anything is sent again.
    """
    now = now or timezone.now()
    freed = PublishJob.objects.filter(status=JobStatus.CLAIMED, leased_until__lt=now).update(
        status=JobStatus.PENDING,
        next_attempt_at=now,
        leased_until=None,
        lease_owner="",
        updated_at=now,
    )
    orphaned = 0
    expired = list(
        PublishJob.objects.filter(status=JobStatus.RUNNING, leased_until__lt=now).values_list(
            "pk", "lease_owner"
        )
    )
    for pk, owner in expired:
        with transaction.atomic():
            started = PublishAttempt.objects.filter(job_id=pk, status=AttemptStatus.STARTED)
            unknown = started.exists()
            taken = PublishJob.objects.filter(
                pk=pk, status=JobStatus.RUNNING, lease_owner=owner, leased_until__lt=now
            ).update(
                status=JobStatus.PENDING,
                next_attempt_at=now,
                leased_until=None,
                lease_owner="",
                needs_reconcile=True if unknown else F("needs_reconcile"),
                last_error_kind=ErrorKind.UNKNOWN_OUTCOME if unknown else F("last_error_kind"),
                last_error_message=(
                    _("The worker stopped while publishing; we will check the network first.")
                    if unknown
                    else F("last_error_message")
                ),
                updated_at=now,
            )
            if taken:
                orphaned += 1
                started.update(
                    status=AttemptStatus.UNKNOWN,
                    finished_at=now,
                    error_kind=ErrorKind.UNKNOWN_OUTCOME,
                    error_message="worker lost (lease expired)",
                )
    if freed or orphaned:
        logger.warning("Sweeper freed %s claimed and %s running jobs", freed, orphaned)
    return SweepReport(claims_freed=freed, runs_orphaned=orphaned)


# --- running one job ------------------------------------------------------------------------


@dataclass
class _Run:
    job: PublishJob
    post: Post
    variant: Variant
    account: ChannelAccount
    connector: Connector
    worker: str
    late: bool
    cutoff_minutes: int
    after_commit: list[Callable[[], None]] = field(default_factory=list)


@dataclass(frozen=True)
class _Verdict:
    action: str  # "hold", "fail", "cancel"
    message: str
    hold_reason: str = ""
    error_kind: str = ""


def _due_text(job: PublishJob, post: Post) -> str:
    return format_datetime_in_zone(job.due_at, post.organization.time_zone)


def _runtime_check(
    job: PublishJob, post: Post, now: datetime, cutoff_minutes: int
) -> _Verdict | None:
    """What was true when the post was scheduled may not be true now."""
    if post.status not in (PostStatus.SCHEDULED, PostStatus.PUBLISHING, PostStatus.FAILED):
        return _Verdict("cancel", _("The post is no longer scheduled."))
    account = job.channel_account
    if account.status == AccountStatus.DISCONNECTED:
        return _Verdict(
            "fail",
            _("%(account)s is disconnected, so the post was not published.")
            % {"account": account.handle},
            error_kind=ErrorKind.AUTH,
        )
    if account.status != AccountStatus.ACTIVE:
        return _Verdict(
            "hold",
            _("%(account)s cannot publish until it is reconnected or resumed.")
            % {"account": account.handle},
            hold_reason=HoldReason.ACCOUNT,
        )
    if not job.emergency:
        pause = pause_applies(job.organization_id, job.channel_account_id)
        if pause is not None:
            return _Verdict(
                "hold",
                _("Publishing is paused: %(reason)s") % {"reason": pause.reason},
                hold_reason=HoldReason.PAUSE,
            )
    late = now > job.due_at + timedelta(minutes=cutoff_minutes)
    if late and not job.remote_parts and not job.needs_reconcile:
        return _late_verdict(job, post, cutoff_minutes)
    return None


def _late_verdict(job: PublishJob, post: Post, cutoff_minutes: int) -> _Verdict:
    return _Verdict(
        "fail",
        ngettext(
            "Not published: it was due at %(due)s and could not go out within "
            "%(minutes)d minute, so it was not published late.",
            "Not published: it was due at %(due)s and could not go out within "
            "%(minutes)d minutes, so it was not published late.",
            cutoff_minutes,
        )
        % {"due": _due_text(job, post), "minutes": cutoff_minutes},
        error_kind="late",
    )


class LeaseHeartbeat:
    """Renews a running job's lease from a thread of the worker while it works.

    So the lease can be short (``RUN_LEASE_SECONDS``): a live worker, however slow
    the network, keeps renewing it every ``LEASE_RENEW_SECONDS``; a dead one stops,
    and the sweeper takes the job back for reconciling within the lease. The thread
    uses a connection of its own and never waits long for a row lock."""

    def __init__(self, job_id: int, worker: str) -> None:
        self.job_id = job_id
        self.worker = worker
        self.every = setting("LEASE_RENEW_SECONDS")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> LeaseHeartbeat:
        if self.every > 0:
            self._thread = threading.Thread(
                target=self._beat, name=f"lease-heartbeat-{self.job_id}", daemon=True
            )
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.every + 5)

    def _beat(self) -> None:
        try:
            while not self._stop.wait(self.every):
                if not self.renew():
                    return  # the job is no longer ours to keep (finished or taken back)
        finally:
            connection.close()  # this thread's own connection

    def renew(self) -> bool:
        """Extend the lease; False once the job is not running under this worker."""
        until = timezone.now() + timedelta(seconds=setting("RUN_LEASE_SECONDS"))
        try:
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL lock_timeout = '2s'")
                return bool(
                    PublishJob.objects.filter(
                        pk=self.job_id, status=JobStatus.RUNNING, lease_owner=self.worker
                    ).update(leased_until=until)
                )
        except DatabaseError:
            # A busy row or a database blip: the next beat tries again, well inside the lease.
            logger.warning("Publish job %s: could not renew its lease", self.job_id, exc_info=True)
            return True


def publish_job_run(*, job_id: int, worker: str = "") -> str:
    """Run one claimed job (the ``publish_job`` task calls this). Returns what happened,
    for the worker's log: ``published``, ``retry``, ``held``, ``failed``, ``skipped``…"""
    worker = worker or default_worker_name()
    run_or_outcome = _start(job_id, worker)
    if isinstance(run_or_outcome, str):
        return run_or_outcome
    with LeaseHeartbeat(run_or_outcome.job.pk, worker):
        return _run_parts(run_or_outcome)


def _run_parts(run: _Run) -> str:
    texts = variant_thread_texts(run.variant)
    for index in range(len(run.job.remote_parts), len(texts)):
        if run.job.needs_reconcile:
            found = _reconcile(run, index)
            if found == "found":
                continue
            if found != "resend":
                return found
        outcome = _publish_part(run, index)
        if outcome:
            return outcome
    if run.job.status == JobStatus.PUBLISHED:
        return "published"
    return _finish_published(run)


def _start(job_id: int, worker: str) -> _Run | str:
    with transaction.atomic():
        # The post's row lock first (as every writer takes it), then the job with what
        # publishing it needs, read under that lock: the variant, its account, and the
        # organization with its publishing rules.
        try:
            post = (
                Post.objects.select_for_update(of=("self",))
                .select_related("organization__publishing_settings")
                .get(jobs__pk=job_id)
            )
            job = PublishJob.objects.select_related("channel_account", "variant").get(pk=job_id)
        except (Post.DoesNotExist, PublishJob.DoesNotExist):
            return "missing"
        job.organization = post.organization
        if job.status != JobStatus.CLAIMED:
            return f"skipped ({job.status})"
        now = timezone.now()
        lease = {
            "status": JobStatus.RUNNING,
            "lease_owner": worker,
            "leased_until": now + timedelta(seconds=setting("RUN_LEASE_SECONDS")),
            "updated_at": now,
        }
        # Conditional on the state read under the post's lock: one start per claim.
        if not PublishJob.objects.filter(pk=job_id, status=JobStatus.CLAIMED).update(**lease):
            return "skipped (taken)"
        for name, value in lease.items():
            setattr(job, name, value)
        cutoff = organization_publishing_rules(post.organization).late_cutoff_minutes
        verdict = _runtime_check(job, post, now, cutoff)
        if verdict is not None:
            return _apply_verdict(job, post, verdict)
        try:
            connector = get_connector(job.channel_account.network)
        except UnknownNetwork:
            return _apply_verdict(
                job,
                post,
                _Verdict(
                    "fail",
                    _("GovSocial cannot publish to %(network)s.")
                    % {"network": job.channel_account.network},
                    error_kind=ErrorKind.REJECTED,
                ),
            )
        variant = variant_with_content(job.variant, job.channel_account)
        if post.status in (PostStatus.SCHEDULED, PostStatus.FAILED):
            # Last in the transaction: the audit chain's lock is held until the commit.
            post_move(
                post=post,
                to=PostStatus.PUBLISHING,
                doing=_("published"),
                action="post.publishing",
                actor=None,
                new={"job": job.pk},
            )
    return _Run(
        job=job,
        post=post,
        variant=variant,
        account=job.channel_account,
        connector=connector,
        worker=worker,
        late=now > job.due_at + timedelta(minutes=cutoff),
        cutoff_minutes=cutoff,
    )


def _apply_verdict(job: PublishJob, post: Post, verdict: _Verdict) -> str:
    now = timezone.now()
    if verdict.action == "hold":
        job_update(
            job,
            status=JobStatus.HELD,
            hold_reason=verdict.hold_reason,
            held_at=now,
            last_error_message=verdict.message,
        )
        audit_record(
            action="publish_job.held",
            organization=post.organization,
            target=post,
            new=job_facts(job, reason=verdict.message, hold_reason=verdict.hold_reason),
        )
        return "held"
    if verdict.action == "cancel":
        job_update(job, status=JobStatus.CANCELLED, last_error_message=verdict.message)
        audit_record(
            action="publish_job.cancelled",
            organization=post.organization,
            target=post,
            new=job_facts(job, reason=verdict.message),
        )
        post_settle(post)
        return "cancelled"
    _job_fail(job, post, kind=verdict.error_kind, message=verdict.message)
    return "failed"


def _network_label(network: str) -> str:
    try:
        return str(get_connector(network).label)
    except UnknownNetwork:
        return network


def _job_fail(job: PublishJob, post: Post, *, kind: str, message: str) -> None:
    """Fail the job for good (post row locked), tell the author why, settle the post."""
    job_update(
        job,
        status=JobStatus.FAILED,
        needs_reconcile=False,
        last_error_kind=kind if kind in ErrorKind.values else "",
        last_error_message=message,
    )
    audit_record(
        action="publish_job.failed",
        organization=post.organization,
        target=post,
        new=job_facts(job, error_kind=kind, reason=message),
    )
    label = post_label(post)
    handle = job.channel_account.handle
    notify_users(
        post=post,
        user_ids=[post.created_by_id, post.submitted_by_id],
        kind="post.publish_failed",
        message=lambda: (
            _("“%(post)s” was not published to %(account)s: %(reason)s")
            % {"post": label, "account": handle, "reason": message}
        ),
    )
    post_settle(post)


# --- network calls ------------------------------------------------------------------------


def _attempt_begin(run: _Run, *, kind: AttemptKind, index: int) -> PublishAttempt:
    """Count and record an attempt, committed before the network is called."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            # The count and its new value in one statement (Django's update() cannot
            # return it).
            cursor.execute(
                f"UPDATE {PublishJob._meta.db_table} SET attempts = attempts + 1 "  # noqa: S608
                "WHERE id = %s RETURNING attempts",
                [run.job.pk],
            )
            number = int(cursor.fetchone()[0])
        run.job.attempts = number
        return PublishAttempt.objects.create(
            job=run.job,
            number=number,
            kind=kind,
            thread_index=index,
            worker=run.worker,
        )


def _attempt_end(attempt: PublishAttempt, started: float, **values: Any) -> None:
    values = _attempt_values(started, **values)
    PublishAttempt.objects.filter(pk=attempt.pk).update(**values)
    for name, value in values.items():
        setattr(attempt, name, value)


def _part_ref(part: dict[str, Any]) -> RemoteRef:
    return RemoteRef(
        remote_id=str(part["remote_id"]),
        url=str(part.get("url") or ""),
        extra={k: str(v) for k, v in (part.get("extra") or {}).items()},
    )


def _publish_part(run: _Run, index: int) -> str:
    """Publish post ``index`` of the variant's thread. Returns "" on success, else the
    job's outcome (it has been recorded)."""
    parts = run.job.remote_parts
    try:
        request = variant_request(
            run.variant,
            index,
            idempotency_key=run.job.part_key(index),
            reply_to=_part_ref(parts[index - 1]) if index else None,
            thread_root=_part_ref(parts[0]) if index else None,
        )
    except OSError:
        return _fail_run(
            run,
            kind=ErrorKind.REJECTED,
            message=_("An image of this post is missing from the media library."),
        )
    request = job_links_apply(run.job, request)  # UTM tags and short links (links.py)
    attempt = _attempt_begin(run, kind=AttemptKind.PUBLISH, index=index)
    started = time.monotonic()
    try:
        result = run.connector.publish(run.account, request)
    except ConnectorError as exc:
        return _attempt_failed(run, attempt, started, exc)
    except Exception as exc:
        # Anything else after the request may have gone out (a bug, a soft time limit):
        # treat it as an unknown outcome, never as "not sent".
        logger.exception("Publish job %s: unexpected error from the connector", run.job.pk)
        return _attempt_failed(run, attempt, started, UnknownOutcome(detail=repr(exc)[:500]))
    _record_part(
        run,
        index,
        result.remote_id,
        result.url,
        dict(result.extra),
        attempt=attempt,
        attempt_values=_attempt_values(
            started, status=AttemptStatus.SUCCEEDED, remote_id=result.remote_id[:255]
        ),
    )
    return ""


def _record_part(
    run: _Run,
    index: int,
    remote_id: str,
    url: str,
    extra: dict[str, Any],
    *,
    attempt: PublishAttempt,
    attempt_values: dict[str, Any],
) -> None:
    """Keep what the network said about post ``index`` (once, whoever reports it) with
    its attempt's outcome; after the thread's last post, the job is published."""
    last = index == len(variant_thread_texts(run.variant)) - 1
    with transaction.atomic():
        post = lock_post(run.post) if last else run.post
        job = PublishJob.objects.select_for_update().get(pk=run.job.pk)
        PublishAttempt.objects.filter(pk=attempt.pk).update(**attempt_values)
        parts = list(job.remote_parts)
        if len(parts) == index:
            parts.append({"remote_id": remote_id, "url": url, "extra": _jsonable(extra)})
        elif len(parts) > index and parts[index]["remote_id"] != remote_id:
            logger.error(
                "Publish job %s part %s: network reported %s, already recorded %s",
                job.pk,
                index,
                remote_id,
                parts[index]["remote_id"],
            )
        values: dict[str, Any] = {
            "remote_parts": parts,
            "needs_reconcile": False,
            "updated_at": timezone.now(),
        }
        if index == 0:
            values["remote_id"] = remote_id[:255]
            values["remote_url"] = url[:500]
        run.job.status = job.status  # as locked: another run may have finished it
        if last and job.status != JobStatus.PUBLISHED:
            # One UPDATE: the thread's posts and the job published.
            _mark_published(run.job, post, values=values)
            return
        PublishJob.objects.filter(pk=job.pk).update(**values)
        for name, value in values.items():
            setattr(run.job, name, value)


def _attempt_values(started: float, **values: Any) -> dict[str, Any]:
    values["finished_at"] = timezone.now()
    values["duration_ms"] = int((time.monotonic() - started) * 1000)
    return values


def _jsonable(extra: dict[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in extra.items()}


def _backoff(attempts: int) -> float:
    base, cap = setting("BACKOFF_BASE_SECONDS"), setting("BACKOFF_MAX_SECONDS")
    return float(min(cap, base * 2 ** max(0, attempts - 1)))


def _still_ours(run: _Run) -> Any:
    """Jobs this run still holds (the sweeper may have taken an overdue one back)."""
    return PublishJob.objects.filter(
        pk=run.job.pk, status=JobStatus.RUNNING, lease_owner=run.worker
    )


def _fail_run(run: _Run, *, kind: str, message: str) -> str:
    """Fail the job for good, unless the sweeper has taken it back meanwhile."""
    with transaction.atomic():
        post = lock_post(run.post)
        if not _still_ours(run).exists():
            return "lost lease"
        _job_fail(run.job, post, kind=kind, message=message)
    return "failed"


def _attempt_failed(run: _Run, attempt: PublishAttempt, started: float, exc: ConnectorError) -> str:
    """Record the failure and decide by its kind, once, here."""
    unknown = isinstance(exc, UnknownOutcome)
    _attempt_end(
        attempt,
        started,
        status=AttemptStatus.UNKNOWN if unknown else AttemptStatus.FAILED,
        http_status=exc.status_code,
        error_kind=exc.kind,
        error_message=(exc.detail or exc.message)[:2000],
    )
    now = timezone.now()
    max_attempts = int(setting("MAX_ATTEMPTS"))
    outcome = "retry"
    with transaction.atomic():
        post = lock_post(run.post)
        if not _still_ours(run).exists():
            # The sweeper took the job back (it ran past its lease); it will be reconciled.
            return "lost lease"
        retry: dict[str, Any] = {
            "status": JobStatus.PENDING,
            "last_error_kind": exc.kind,
            "last_error_message": exc.message,
        }
        if isinstance(exc, Rejected):
            network = _network_label(run.account.network)
            reason = exc.reason or exc.message
            _job_fail(
                run.job,
                post,
                kind=ErrorKind.REJECTED,
                message=_("%(network)s refused the post: %(reason)s")
                % {"network": network, "reason": reason},
            )
            outcome = "failed"
        elif isinstance(exc, AuthError):
            job_update(
                run.job,
                status=JobStatus.HELD,
                hold_reason=HoldReason.ACCOUNT,
                held_at=now,
                last_error_kind=exc.kind,
                last_error_message=exc.message,
            )
            audit_record(
                action="publish_job.held",
                organization=post.organization,
                target=post,
                new=job_facts(run.job, reason=exc.message, hold_reason=HoldReason.ACCOUNT),
            )
            account, error = run.account, exc
            transaction.on_commit(
                lambda: channel_account_record_error(account=account, error=error)
            )
            outcome = "held"
        elif isinstance(exc, RateLimited):
            wait = (
                exc.retry_after
                if exc.retry_after is not None
                else setting("RATE_LIMIT_DEFAULT_WAIT_SECONDS")
            )
            job_update(run.job, next_attempt_at=now + timedelta(seconds=max(1.0, wait)), **retry)
        elif run.job.attempts >= max_attempts:
            message = (
                ngettext(
                    "We could not confirm that the network received it after %(n)d try.",
                    "We could not confirm that the network received it after %(n)d tries.",
                    run.job.attempts,
                )
                if unknown
                else ngettext(
                    "The network kept failing after %(n)d try: %(error)s",
                    "The network kept failing after %(n)d tries: %(error)s",
                    run.job.attempts,
                )
            ) % {"n": run.job.attempts, "error": exc.message}
            _job_fail(run.job, post, kind=exc.kind, message=message)
            outcome = "failed"
        elif unknown:
            job_update(
                run.job,
                needs_reconcile=True,
                next_attempt_at=now + timedelta(seconds=_backoff(run.job.attempts)),
                **retry,
            )
        else:
            job_update(
                run.job,
                next_attempt_at=now + timedelta(seconds=_backoff(run.job.attempts)),
                **retry,
            )
    return outcome


def _normalized(text: str) -> str:
    return " ".join(text.split())


def _matches(post: RecentPost, key: str, text: str, reply_to_id: str, since: datetime) -> bool:
    recorded_key = post.ref.extra.get("idempotency_key")
    if recorded_key:
        return recorded_key == key
    if post.created_at is not None and post.created_at < since:
        return False
    if reply_to_id and post.reply_to_id != reply_to_id:
        return False
    return _normalized(post.text) == _normalized(text)


def _reconcile(run: _Run, index: int) -> str:
    """Find out whether post ``index`` reached the network before sending it again.

    Returns "found" (recorded), "resend" (safe to send: the network recognises our
    key, or a look-up showed it is not there), or the job's recorded outcome."""
    job, caps = run.job, run.connector.capabilities
    key = job.part_key(index)
    first = (
        PublishAttempt.objects.filter(job=job, thread_index=index, kind=AttemptKind.PUBLISH)
        .order_by("number")
        .first()
    )
    first_sent = first.started_at if first else job.due_at
    age = (timezone.now() - first_sent).total_seconds()
    window = caps.idempotency_window_seconds - setting("IDEMPOTENCY_MARGIN_SECONDS")
    if caps.idempotency_window_seconds and not run.late and age < window:
        return "resend"
    if not caps.lookup_recent:
        return _fail_run(
            run,
            kind=ErrorKind.UNKNOWN_OUTCOME,
            message=_(
                "We could not confirm whether the post reached the network. "
                "Check the account before trying again."
            ),
        )
    request = variant_request(run.variant, index, idempotency_key=key, load_media=False)
    request = job_links_apply(run.job, request)  # the text as sent: same links, same codes
    parts = job.remote_parts
    reply_to_id = str(parts[index - 1]["remote_id"]) if index else ""
    attempt = _attempt_begin(run, kind=AttemptKind.RECONCILE, index=index)
    started = time.monotonic()
    lookup_since = first_sent - LOOKUP_SLACK
    try:
        recent = run.connector.lookup_recent(
            run.account, since=lookup_since, limit=int(setting("LOOKUP_MAX_POSTS"))
        )
    except ConnectorError as exc:
        if isinstance(exc, Rejected):
            # The look-up itself was refused: we still do not know, so never resend.
            exc = TransientError(exc.message, status_code=exc.status_code, detail=exc.detail)
        return _attempt_failed(run, attempt, started, exc)
    since = first_sent - timedelta(minutes=2)
    # The text as the network gives it back (Mastodon: ``@name`` for its own accounts).
    sent_text = run.connector.comparable_text(request.text, account=run.account)
    match = next((p for p in recent if _matches(p, key, sent_text, reply_to_id, since)), None)
    if match is not None:
        _record_part(
            run,
            index,
            match.ref.remote_id,
            match.ref.url,
            dict(match.ref.extra),
            attempt=attempt,
            attempt_values=_attempt_values(
                started, status=AttemptStatus.RECONCILED, remote_id=match.ref.remote_id[:255]
            ),
        )
        return "found"
    if not lookup_is_complete(recent):
        # Not there among the posts we could read, but we could not read back to the
        # first attempt: neither "not published" nor a resend would be more than a guess.
        oldest = min((p.created_at for p in recent if p.created_at), default=None)
        found = _lookup_summary(len(recent), oldest, run.post)
        _attempt_end(attempt, started, status=AttemptStatus.INCOMPLETE, error_message=found[:2000])
        return _hold_for_review(run, found=found, first_sent=first_sent)
    _attempt_end(attempt, started, status=AttemptStatus.NOT_FOUND)
    if run.late:
        verdict = _late_verdict(job, run.post, run.cutoff_minutes)
        return _fail_run(run, kind=verdict.error_kind, message=verdict.message)
    PublishJob.objects.filter(pk=job.pk).update(needs_reconcile=False)
    job.needs_reconcile = False
    return "resend"


def _lookup_summary(count: int, oldest: datetime | None, post: Post) -> str:
    if not count or oldest is None:
        return _("The network answered with no posts we could compare.")
    return ngettext(
        "We read the %(count)d newest post, back to %(oldest)s, and this one was not among it.",
        "We read the %(count)d newest posts, back to %(oldest)s, and this one was not among them.",
        count,
    ) % {
        "count": count,
        "oldest": format_datetime_in_zone(oldest, post.organization.time_zone),
    }


def _hold_for_review(run: _Run, *, found: str, first_sent: datetime) -> str:
    """Hold the job for a person: the look-up could not be complete, so we neither send
    again nor call it failed. ``needs_reconcile`` stays set: releasing the job looks
    again first, unless the person says to send it."""
    message = _(
        "We could not tell whether this reached %(account)s: the first try at %(sent)s "
        "got no answer, and the account has posted so much since that we could not read "
        "back that far. %(found)s Check the account, then decide in Held posts: if the post "
        "is there, cancel this target; if it is not, publish it now."
    ) % {
        "account": run.account.handle,
        "sent": format_datetime_in_zone(first_sent, run.post.organization.time_zone),
        "found": found,
    }
    with transaction.atomic():
        post = lock_post(run.post)
        if not _still_ours(run).exists():
            return "lost lease"
        job_update(
            run.job,
            status=JobStatus.HELD,
            hold_reason=HoldReason.REVIEW,
            held_at=timezone.now(),
            needs_reconcile=True,
            last_error_kind=ErrorKind.UNKNOWN_OUTCOME,
            last_error_message=message,
        )
        audit_record(
            action="publish_job.needs_review",
            organization=post.organization,
            target=post,
            new=job_facts(run.job, reason=message, hold_reason=HoldReason.REVIEW),
        )
        label, handle = post_label(post), run.account.handle
        notify_users(
            post=post,
            user_ids=[post.created_by_id, post.submitted_by_id],
            kind="post.publish_needs_review",
            message=lambda: (
                _("“%(post)s” needs a look: we could not tell whether it reached %(account)s.")
                % {"post": label, "account": handle}
            ),
        )
    return "needs review"


def _finish_published(run: _Run) -> str:
    """Publish a job whose every post was recorded by an earlier run."""
    with transaction.atomic():
        post = lock_post(run.post)
        job = (
            PublishJob.objects.select_for_update(of=("self",))
            .select_related("channel_account")
            .get(pk=run.job.pk)
        )
        _mark_published(job, post)
    return "published"


def _mark_published(job: PublishJob, post: Post, *, values: dict[str, Any] | None = None) -> None:
    """The network has every post of the job: that is the truth, whoever holds the lease
    now (post and job rows locked). ``values``: more of the job's fields to write with it."""
    if job.status == JobStatus.PUBLISHED:
        return
    job_update(
        job,
        **{
            **(values or {}),
            "status": JobStatus.PUBLISHED,
            "published_at": timezone.now(),
            "needs_reconcile": False,
            "hold_reason": "",
            "last_error_kind": "",
            "last_error_message": "",
        },
    )
    # Audit entries go last, together, so the audit chain's lock is taken once and held
    # only until the commit.
    audits = [
        audit_entry(
            action="publish_job.published",
            organization=post.organization,
            target=post,
            new=job_facts(
                job,
                remote_id=job.remote_id,
                url=job.remote_url,
                thread_length=len(job.remote_parts),
                emergency=job.emergency,
            ),
        )
    ]
    post_settle(post, audits=audits)
    audit_append(audits)


# --- people acting on jobs ---------------------------------------------------------------


def _require_job_access(membership: Membership, job: PublishJob) -> None:
    if job.organization_id != membership.organization_id:
        raise PermissionDenied
    if not channel_accounts_for_membership(membership).filter(pk=job.channel_account_id).exists():
        raise PermissionDenied


def publish_job_retry(
    *, job: PublishJob, membership: Membership, request: HttpRequest | None = None
) -> PublishJob:
    """Try a failed target again, now. Its due time becomes now, so the late cut-off
    counts from this decision; an outcome that was unknown is looked up first."""
    require_perm(membership, "posts.write")
    _require_job_access(membership, job)
    with transaction.atomic():
        post = lock_post(job.post)
        job = (
            PublishJob.objects.select_for_update(of=("self",))
            .select_related("channel_account")
            .get(pk=job.pk)
        )
        if job.status != JobStatus.FAILED:
            raise ValidationError(_("Only a failed target can be tried again."), code="not_failed")
        try:
            caps = get_connector(job.channel_account.network).capabilities
        except UnknownNetwork:
            raise ValidationError(_("GovSocial cannot publish to this network.")) from None
        now = timezone.now()
        if post.status == PostStatus.FAILED:
            post_move(
                post=post,
                to=PostStatus.PUBLISHING,
                doing=_("tried again"),
                action="post.retried",
                actor=membership.user,
                request=request,
                new={"job": job.pk},
            )
        job_update(
            job,
            status=JobStatus.PENDING,
            due_at=now,
            next_attempt_at=now,
            needs_reconcile=(
                job.last_error_kind == ErrorKind.UNKNOWN_OUTCOME and caps.lookup_recent
            ),
        )
        audit_record(
            action="publish_job.retried",
            organization=post.organization,
            actor=membership.user,
            target=post,
            new=job_facts(job),
            request=request,
        )
    return job


def published_variant_delete(
    *, job: PublishJob, membership: Membership, request: HttpRequest | None = None
) -> PublishJob:
    """Delete a published target from the network (every post of its thread, last
    first). A network error is recorded and raised as a ValidationError in words."""
    require_perm(membership, "posts.write")
    _require_job_access(membership, job)
    job = PublishJob.objects.select_related("channel_account", "post__organization").get(pk=job.pk)
    if job.status != JobStatus.PUBLISHED or job.deleted_at is not None:
        raise ValidationError(
            _("Only a published post that is still on the network can be deleted."),
            code="not_published",
        )
    try:
        connector = get_connector(job.channel_account.network)
    except UnknownNetwork:
        raise ValidationError(_("GovSocial cannot reach this network.")) from None
    if not connector.capabilities.delete:
        raise ValidationError(
            _("%(network)s does not let us delete posts; delete it on the network itself.")
            % {"network": connector.label}
        )
    run = _Run(
        job=job,
        post=job.post,
        variant=job.variant,
        account=job.channel_account,
        connector=connector,
        worker=f"delete:{membership.user_id}",
        late=False,
        cutoff_minutes=0,
    )
    refs = [_part_ref(part) for part in job.remote_parts] or [RemoteRef(remote_id=job.remote_id)]
    for index in reversed(range(len(refs))):
        attempt = _attempt_begin(run, kind=AttemptKind.DELETE, index=index)
        started = time.monotonic()
        try:
            connector.delete(job.channel_account, refs[index])
        except ConnectorError as exc:
            _attempt_end(
                attempt,
                started,
                status=AttemptStatus.FAILED,
                http_status=exc.status_code,
                error_kind=exc.kind,
                error_message=(exc.detail or exc.message)[:2000],
            )
            if isinstance(exc, AuthError):
                channel_account_record_error(account=job.channel_account, error=exc)
            raise ValidationError(exc.message, code=str(exc.kind)) from exc
        _attempt_end(
            attempt, started, status=AttemptStatus.SUCCEEDED, remote_id=refs[index].remote_id
        )
    with transaction.atomic():
        now = timezone.now()
        PublishJob.objects.filter(pk=job.pk).update(deleted_at=now, updated_at=now)
        job.deleted_at = now
        audit_record(
            action="publish_job.deleted_from_network",
            organization=job.post.organization,
            actor=membership.user,
            target=job.post,
            new=job_facts(job, remote_id=job.remote_id, url=job.remote_url),
            request=request,
        )
    return job
