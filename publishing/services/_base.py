"""What every publishing service shares: row locks, state moves, audit entries."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import AuditEvent, User
from governance.services.audit import audit_append, audit_entry
from publishing.models import JobStatus, Post, PostStatus, PublishJob
from publishing.services.errors import InvalidTransition


def lock_post(post: Post) -> Post:
    """The post's row, locked until the transaction ends, as it is now.

    Every writer that moves a post or its jobs takes this lock first (post, then
    jobs), so an edit and a worker starting to publish never cross."""
    # of=("self",): lock the post's row only. Without it PostgreSQL would also lock the
    # joined organization row, and every post of the organization would queue on it.
    return (
        Post.objects.select_for_update(of=("self",)).select_related("organization").get(pk=post.pk)
    )


def refuse(post: Post, doing: str) -> InvalidTransition:
    return InvalidTransition(
        _("This post is %(status)s, so it cannot be %(doing)s.")
        % {"status": PostStatus(post.status).label.lower(), "doing": doing},
        code="invalid_transition",
    )


def post_move(
    *,
    post: Post,
    to: PostStatus,
    doing: str,
    action: str,
    actor: User | None,
    request: HttpRequest | None = None,
    fields: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    audits: list[AuditEvent] | None = None,
    actor_label: str = "",
) -> Post:
    """Move a locked ``post`` to ``to`` if its current state allows it, and audit the move.

    The update is conditional on the status read under the lock, so even a
    database without row locks (SQLite) cannot let two moves both succeed.
    With ``audits``, the entry (``audit_entry``) is appended there for the caller to
    write last in its transaction with ``audit_append``, together with its own (the
    audit chain's lock is then taken once and held only until the commit).
    """
    if not post.can_move_to(to):
        raise refuse(post, doing)
    now = timezone.now()
    values: dict[str, Any] = {"status": to, "status_changed_at": now, **(fields or {})}
    changed = Post.objects.filter(Q(pk=post.pk) & Q(status=post.status)).update(**values)
    if not changed:
        post.refresh_from_db()
        raise refuse(post, doing)
    old_status = post.status
    for name, value in values.items():
        setattr(post, name, value)
    entry = audit_entry(
        action=action,
        organization=post.organization,
        actor=actor,
        actor_label=actor_label,
        target=post,
        old={"status": old_status},
        new={"status": str(to), **(new or {})},
        request=request,
    )
    if audits is None:
        audit_append([entry])
    else:
        audits.append(entry)
    return post


def job_update(job: PublishJob, **values: Any) -> None:
    values.setdefault("leased_until", None)
    values.setdefault("lease_owner", "")
    values["updated_at"] = timezone.now()
    PublishJob.objects.filter(pk=job.pk).update(**values)
    for name, value in values.items():
        setattr(job, name, value)


def job_facts(job: PublishJob, **extra: Any) -> dict[str, Any]:
    account = job.channel_account
    return {
        "job": job.pk,
        "variant": job.variant_id,
        "channel_account": account.handle,
        "network": account.network,
        "attempts": job.attempts,
        **extra,
    }


def post_settle(post: Post, *, audits: list[AuditEvent] | None = None) -> None:
    """Give a locked post the status its jobs add up to: published when every target
    is published, failed when any failed for good, cancelled when all were cancelled.
    (``audits``: as for :func:`post_move`.)"""
    statuses = list(
        PublishJob.objects.filter(post=post)
        .exclude(status=JobStatus.CANCELLED)
        .values_list("status", flat=True)
    )
    if post.status not in (PostStatus.SCHEDULED, PostStatus.PUBLISHING):
        return
    if not statuses:
        post_move(
            post=post,
            to=PostStatus.CANCELLED,
            doing=_("cancelled"),
            action="post.cancelled",
            actor=None,
            new={"reason": "every target was cancelled"},
            audits=audits,
        )
        return
    if any(s not in (JobStatus.PUBLISHED, JobStatus.FAILED) for s in statuses):
        return
    failed = statuses.count(JobStatus.FAILED)
    if failed:
        post_move(
            post=post,
            to=PostStatus.FAILED,
            doing=_("failed"),
            action="post.failed",
            actor=None,
            new={"failed_targets": failed, "published_targets": len(statuses) - failed},
            audits=audits,
        )
    else:
        post_move(
            post=post,
            to=PostStatus.PUBLISHED,
            doing=_("published"),
            action="post.published",
            actor=None,
            fields={"published_at": timezone.now()},
            new={"targets": len(statuses)},
            audits=audits,
        )
