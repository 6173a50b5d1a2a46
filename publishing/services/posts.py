"""Writing posts and moving them through review, scheduling and cancelling.

Every content edit bumps the post's ``version``; an edit of a post that is in
review, approved or scheduled sends it (back) to review in a new round, so no
approval ever covers words the reviewer did not see.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.connectors.registry import UnknownNetwork, get_connector
from accounts.models import AccountStatus, ChannelAccount
from accounts.selectors import channel_accounts_for_membership
from governance.models import Membership, User
from governance.selectors.access import require_perm
from governance.services.audit import audit_record
from publishing.models import (
    Campaign,
    JobStatus,
    MediaAsset,
    Post,
    PostOutsideReviewer,
    PostStatus,
    PublishAttempt,
    PublishJob,
    Variant,
    VariantMedia,
    VariantPart,
    Visibility,
)
from publishing.network_options import clean_options
from publishing.selectors import post_approval_state
from publishing.selectors_guidelines import (
    hashtag_sets_for,
    missing_hashtags,
    missing_hashtags_message,
    word_hits,
    word_rules_for,
)
from publishing.services._base import lock_post, post_move, refuse
from publishing.services._notify import notify_users, post_label
from publishing.services.outside_review import outside_reviews_open
from publishing.services.quiet_days import quiet_day_check
from publishing.services.recurrence import series_after_schedule, series_content_changed
from publishing.validation import post_problems, variant_thread_texts, variants_with_content

# A time typed a moment ago still counts as "from now on" (the form took a while to send).
TIME_GRACE = timedelta(minutes=5)
# States whose planned time is kept on the post only (no jobs): a scheduled post's time
# belongs to its jobs and moves with post_reschedule.
PLANNABLE_STATUSES = frozenset(
    {PostStatus.DRAFT, PostStatus.IN_REVIEW, PostStatus.CHANGES_REQUESTED, PostStatus.APPROVED}
)

# Jobs a content edit, an unschedule or a cancel may stop (a running one may not be).
STOPPABLE_JOB_STATUSES = (JobStatus.PENDING, JobStatus.CLAIMED, JobStatus.HELD)


@dataclass(frozen=True)
class MediaSlot:
    """An image for a variant's post number ``thread_index`` (0: the first post)."""

    asset: MediaAsset
    thread_index: int = 0


_UNSET = object()


def _require_account(membership: Membership, account: ChannelAccount) -> None:
    if not channel_accounts_for_membership(membership).filter(pk=account.pk).exists():
        raise PermissionDenied(_("You cannot write posts for this account."))


def _require_same_org(membership: Membership, post: Post) -> None:
    if post.organization_id != membership.organization_id:
        raise PermissionDenied


def _require_every_account(membership: Membership, post: Post) -> None:
    """A member limited to some accounts may not move or stop a post that also goes
    to accounts outside their limit."""
    if membership.all_accounts:
        return
    allowed = channel_accounts_for_membership(membership).values("pk")
    if post.variants.exclude(channel_account__in=allowed).exists():
        raise PermissionDenied(_("This post also goes to accounts you cannot use."))


def _planned(at: datetime | None) -> datetime | None:
    """Check a planned time: aware, and not already passed."""
    if at is None:
        return None
    if _aware(at) < timezone.now() - TIME_GRACE:
        raise ValidationError(
            _("That time has already passed. Choose a time from now on."), code="past_time"
        )
    return at


def planned_time_passed(at: datetime) -> bool:
    return at < timezone.now() - TIME_GRACE


def planned_time_passed_message() -> str:
    return _("The planned publication time has already passed. Choose a time from now on.")


def _iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat() if at else None


def post_create(
    *,
    membership: Membership,
    title: str = "",
    campaign: Campaign | None = None,
    planned_at: datetime | None = None,
    request: HttpRequest | None = None,
) -> Post:
    """Start a draft. Its variants (one per account and language) are added with
    :func:`variant_save`. ``planned_at`` is when it should go out: it shows on the
    calendar, and no job is made until :func:`post_schedule`."""
    require_perm(membership, "posts.write")
    if campaign is not None and campaign.organization_id != membership.organization_id:
        raise PermissionDenied
    planned_at = _planned(planned_at)
    with transaction.atomic():
        post = Post.objects.create(
            organization=membership.organization,
            title=title.strip()[:200],
            campaign=campaign,
            created_by=membership.user,
            scheduled_at=planned_at,
        )
        audit_record(
            action="post.created",
            organization=membership.organization,
            actor=membership.user,
            target=post,
            new={"title": post.title, "status": post.status, "scheduled_at": _iso(planned_at)},
            request=request,
        )
    return post


def post_update(
    *,
    post: Post,
    membership: Membership,
    title: str | None = None,
    campaign: Campaign | object | None = _UNSET,
    planned_at: datetime | object | None = _UNSET,
    request: HttpRequest | None = None,
) -> Post:
    """Change the post's internal title, campaign or planned time (``None`` clears it).
    These are not published, so the post keeps its approval. A scheduled post's time
    is changed with :func:`post_reschedule` instead, which moves its jobs."""
    require_perm(membership, "posts.write")
    _require_same_org(membership, post)
    with transaction.atomic():
        post = lock_post(post)
        if post.status in (PostStatus.PUBLISHED, PostStatus.CANCELLED):
            raise refuse(post, _("changed"))
        old = {
            "title": post.title,
            "campaign": post.campaign_id,
            "scheduled_at": _iso(post.scheduled_at),
        }
        fields = ["updated_at"]
        if planned_at is not _UNSET and planned_at != post.scheduled_at:
            if post.status not in PLANNABLE_STATUSES:
                raise refuse(post, _("given a planned time"))
            post.scheduled_at = _planned(planned_at if isinstance(planned_at, datetime) else None)
            fields.append("scheduled_at")
        if title is not None:
            post.title = title.strip()[:200]
            fields.append("title")
        if campaign is not _UNSET:
            if isinstance(campaign, Campaign):
                if campaign.organization_id != membership.organization_id:
                    raise PermissionDenied
                post.campaign = campaign
            else:
                post.campaign = None
            fields.append("campaign")
        post.updated_at = timezone.now()
        post.save(update_fields=fields)
        audit_record(
            action="post.updated",
            organization=post.organization,
            actor=membership.user,
            target=post,
            old=old,
            new={
                "title": post.title,
                "campaign": post.campaign_id,
                "scheduled_at": _iso(post.scheduled_at),
            },
            request=request,
        )
    return post


def _stop_jobs(post: Post) -> int:
    """Cancel the post's jobs that have not started; refuse if one is publishing now."""
    if PublishJob.objects.filter(post=post, status=JobStatus.RUNNING).exists():
        raise ValidationError(
            _("This post is being published right now. Wait until it finishes."),
            code="publishing_now",
        )
    return PublishJob.objects.filter(post=post, status__in=STOPPABLE_JOB_STATUSES).update(
        status=JobStatus.CANCELLED,
        leased_until=None,
        lease_owner="",
        updated_at=timezone.now(),
    )


def _content_changed(
    post: Post,
    membership: Membership,
    request: HttpRequest | None,
    what: dict[str, object],
    *,
    notify: bool = True,
) -> Post:
    """Record an edit of a locked post's content; send it back to review when it had
    been submitted, approved or scheduled (its reviewers told unless ``notify`` is
    False: the caller then tells them once the content is final)."""
    if not post.is_editable:
        raise refuse(post, _("edited"))
    series_content_changed(post, actor=membership.user, request=request)
    now = timezone.now()
    returning = post.status in (PostStatus.IN_REVIEW, PostStatus.APPROVED, PostStatus.SCHEDULED)
    if not returning:
        Post.objects.filter(pk=post.pk).update(version=post.version + 1, updated_at=now)
        post.version += 1
        post.updated_at = now
        audit_record(
            action="post.edited",
            organization=post.organization,
            actor=membership.user,
            target=post,
            new={"version": post.version, **what},
            request=request,
        )
        return post
    cancelled = _stop_jobs(post)
    old_status = post.status
    post_move(
        post=post,
        to=PostStatus.IN_REVIEW,
        doing=_("edited"),
        action="post.returned_to_review",
        actor=membership.user,
        request=request,
        fields={
            "version": post.version + 1,
            "review_round": post.review_round + 1,
            "updated_at": now,
            "approved_at": None,
            "submitted_at": now,
        },
        new={"reason": "edited", "from": old_status, "jobs_cancelled": cancelled, **what},
    )
    if notify:
        _notify_reviewers(post, sent_by=membership.user, request=request)
    return post


def _notify_reviewers(
    post: Post, *, sent_by: User | None = None, request: HttpRequest | None = None
) -> None:
    """Tell the members who may decide now, and e-mail outside reviewers their link."""
    state = post_approval_state(post)
    label = post_label(post)
    notify_users(
        post=post,
        user_ids=state.waiting_for_user_ids,
        kind="post.review_requested",
        message=lambda: _("“%(post)s” is waiting for your review.") % {"post": label},
    )
    outside_reviews_open(post, state=state, sent_by=sent_by, request=request)


def variant_save(
    *,
    post: Post,
    membership: Membership,
    channel_account: ChannelAccount,
    language: str,
    text: str,
    content_warning: str = "",
    visibility: str = Visibility.PUBLIC,
    thread_parts: Sequence[str] = (),
    media: Sequence[MediaSlot] = (),
    network_options: Mapping[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> Variant:
    """Create or replace the post's variant for ``channel_account`` in ``language``:
    its text, the rest of its thread, its images and options.

    Network rules are checked when the post is submitted and scheduled (a draft
    may be too long for a while); here only what can never be right is refused.
    """
    require_perm(membership, "posts.write")
    _require_same_org(membership, post)
    if channel_account.organization_id != membership.organization_id:
        raise PermissionDenied
    _require_account(membership, channel_account)
    if visibility not in Visibility.values:
        raise ValidationError(_("Choose who can see the post."), code="visibility")
    for slot in media:
        if slot.asset.organization_id != membership.organization_id:
            raise PermissionDenied
        if not 0 <= slot.thread_index <= len(thread_parts):
            raise ValidationError(_("An image is attached to a post the thread does not have."))
    options = clean_options(channel_account.network, network_options or {})
    with transaction.atomic():
        post = lock_post(post)
        variant = Variant.objects.filter(
            post=post, channel_account=channel_account, language=language
        ).first()
        now = timezone.now()
        if variant is None:
            variant = Variant.objects.create(
                post=post,
                channel_account=channel_account,
                language=language,
                text=text,
                content_warning=content_warning.strip(),
                visibility=visibility,
                network_options=options,
            )
        else:
            variant.text = text
            variant.content_warning = content_warning.strip()
            variant.visibility = visibility
            variant.network_options = options
            variant.updated_at = now
            variant.save(
                update_fields=[
                    "text",
                    "content_warning",
                    "visibility",
                    "network_options",
                    "updated_at",
                ]
            )
            variant.parts.all().delete()
            variant.media.all().delete()
        VariantPart.objects.bulk_create(
            VariantPart(variant=variant, thread_index=index, text=part)
            for index, part in enumerate(thread_parts, start=1)
        )
        positions: dict[int, int] = {}
        slots = []
        for slot in media:
            position = positions.get(slot.thread_index, 0)
            positions[slot.thread_index] = position + 1
            slots.append(
                VariantMedia(
                    variant=variant,
                    thread_index=slot.thread_index,
                    position=position,
                    asset=slot.asset,
                )
            )
        VariantMedia.objects.bulk_create(slots)
        _content_changed(
            post,
            membership,
            request,
            {
                "variant": variant.pk,
                "channel_account": channel_account.pk,
                "language": language,
                "thread_length": 1 + len(thread_parts),
                "images": len(media),
                **({"network_options": options} if options else {}),
            },
        )
    return variant


def variant_delete(
    *, variant: Variant, membership: Membership, request: HttpRequest | None = None
) -> None:
    """Stop publishing the post to one account in one language."""
    require_perm(membership, "posts.write")
    post = variant.post
    _require_same_org(membership, post)
    _require_account(membership, variant.channel_account)
    with transaction.atomic():
        post = lock_post(post)
        if not post.is_editable:
            raise refuse(post, _("edited"))
        if PublishAttempt.objects.filter(job__variant=variant).exists():
            raise ValidationError(
                _("GovSocial has already tried to publish this target, so it stays on record."),
                code="has_history",
            )
        post = _content_changed(
            post,
            membership,
            request,
            {
                "variant_deleted": variant.pk,
                "channel_account": variant.channel_account_id,
                "language": variant.language,
            },
            notify=False,
        )
        # Its jobs were cancelled above and never reached the network: they go with it.
        variant.delete()
        if post.status == PostStatus.IN_REVIEW:
            # Told now, so an outside reviewer's link is bound to the post without it.
            _notify_reviewers(post, sent_by=membership.user, request=request)


def problem_messages(post: Post, *, with_org_rules: bool = True) -> list[str]:
    """Every problem of every variant, naming its target. Without ``with_org_rules`` only
    the networks' own rules (a review may start before every image is described)."""
    messages = []
    rules = None if with_org_rules else False
    for variant, problems in post_problems(post, require_alt_text=rules).items():
        for problem in problems:
            messages.append(
                _("%(account)s (%(language)s): %(problem)s")
                % {
                    "account": variant.channel_account.handle,
                    "language": variant.language,
                    "problem": problem,
                }
            )
    return messages


def guideline_problem_messages(post: Post) -> list[str]:
    """What the organization's writing guidelines refuse in the post, naming each target:
    a banned word (discouraged ones are only pointed out while writing), and a hashtag
    the post's campaign requires."""
    rules = word_rules_for(post.organization_id)
    sets = hashtag_sets_for(post.organization_id) if post.campaign_id else []
    messages = []
    for variant in variants_with_content(post):
        texts = variant_thread_texts(variant)
        problems = [hit.message for hit in word_hits(rules, texts, variant.language) if hit.banned]
        missing = missing_hashtags(sets, post.campaign_id, texts)
        if missing and post.campaign is not None:
            problems.append(missing_hashtags_message(missing, post.campaign.name))
        messages += [
            _("%(account)s (%(language)s): %(problem)s")
            % {
                "account": variant.channel_account.handle,
                "language": variant.language,
                "problem": problem,
            }
            for problem in problems
        ]
    return messages


def _choose_outside_reviewers(
    post: Post, membership: Membership, chosen: Mapping[int, str]
) -> dict[str, str]:
    """Record the outside reviewer named for each stage of a locked post that asks the
    author for one; refuse a stage left without an address. Returns stage → address."""
    named: dict[str, str] = {}
    for stage in post_approval_state(post).stages:
        if not stage.outside_per_post or stage.stage is None:
            continue
        email = (chosen.get(stage.stage.pk) or stage.outside_email).strip().lower()
        if not email:
            raise ValidationError(
                _("Name the outside reviewer of the stage “%(stage)s”.") % {"stage": stage.name},
                code="outside_reviewer_required",
            )
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError(
                _("“%(email)s” is not an e-mail address.") % {"email": email},
                code="outside_reviewer_invalid",
            ) from None
        PostOutsideReviewer.objects.update_or_create(
            post=post,
            stage=stage.stage,
            defaults={"email": email, "chosen_by": membership.user, "chosen_at": timezone.now()},
        )
        named[stage.name] = email
    return named


def post_submit_for_review(
    *,
    post: Post,
    membership: Membership,
    outside_reviewers: Mapping[int, str] | None = None,
    request: HttpRequest | None = None,
) -> Post:
    """Send a draft (or a post whose changes were requested) to its reviewers.

    Refused on everything scheduling would refuse (each network's rules, the
    organization's alt-text rule, an account that cannot publish, a planned time
    already passed), so that no approval is spent on a post that cannot go out.
    ``outside_reviewers`` names, by stage id, the outside reviewer of each stage that
    asks the author for one (the address given last time, or the policy's suggestion,
    stands otherwise). A policy with no stages approves at once (audited as such).
    """
    require_perm(membership, "posts.write")
    _require_same_org(membership, post)
    with transaction.atomic():
        post = lock_post(post)
        if post.status not in (PostStatus.DRAFT, PostStatus.CHANGES_REQUESTED):
            raise refuse(post, _("sent for review"))
        if not post.variants.exists():
            raise ValidationError(_("Add at least one account to publish to."), code="no_targets")
        check_targets(post)
        problems = problem_messages(post) + guideline_problem_messages(post)
        if post.scheduled_at is not None and planned_time_passed(post.scheduled_at):
            problems.append(planned_time_passed_message())
        if problems:
            raise ValidationError(problems, code="invalid_content")
        named = _choose_outside_reviewers(post, membership, outside_reviewers or {})
        now = timezone.now()
        post_move(
            post=post,
            to=PostStatus.IN_REVIEW,
            doing=_("sent for review"),
            action="post.submitted",
            actor=membership.user,
            request=request,
            fields={
                "review_round": post.review_round + 1,
                "submitted_by": membership.user,
                "submitted_at": now,
                "approved_at": None,
            },
            new={
                "review_round": post.review_round + 1,
                "version": post.version,
                **({"outside_reviewers": named} if named else {}),
            },
        )
        state = post_approval_state(post)
        if not state.stages:
            post_move(
                post=post,
                to=PostStatus.APPROVED,
                doing=_("approved"),
                action="post.approved",
                actor=None,
                fields={"approved_at": now},
                new={"automatic": True, "reason": "the approval policy has no stages"},
            )
        else:
            _notify_reviewers(post, sent_by=membership.user, request=request)
    return post


def post_withdraw(
    *, post: Post, membership: Membership, request: HttpRequest | None = None
) -> Post:
    """Take a post out of review, back to draft."""
    require_perm(membership, "posts.write")
    _require_same_org(membership, post)
    with transaction.atomic():
        post = lock_post(post)
        if post.status not in (PostStatus.IN_REVIEW, PostStatus.CHANGES_REQUESTED):
            raise refuse(post, _("taken back to draft"))
        return post_move(
            post=post,
            to=PostStatus.DRAFT,
            doing=_("taken back to draft"),
            action="post.withdrawn",
            actor=membership.user,
            request=request,
        )


def _aware(at: datetime) -> datetime:
    if timezone.is_naive(at):
        raise ValidationError(_("Give the time with its time zone."), code="naive_time")
    return at


def account_problem(account: ChannelAccount) -> str:
    """Why nothing can be published to ``account`` at all ("" when it can)."""
    if account.status == AccountStatus.DISCONNECTED:
        return _("%(account)s is disconnected. Reconnect it or remove it from the post.") % {
            "account": account.handle
        }
    try:
        get_connector(account.network)
    except UnknownNetwork:
        return _("GovSocial cannot publish to %(network)s.") % {"network": account.network}
    return ""


def check_targets(post: Post) -> None:
    for variant in post.variants.select_related("channel_account"):
        problem = account_problem(variant.channel_account)
        if problem:
            code = (
                "account_disconnected"
                if variant.channel_account.status == AccountStatus.DISCONNECTED
                else None
            )
            raise ValidationError(problem, code=code)


def post_schedule(
    *,
    post: Post,
    membership: Membership,
    at: datetime,
    confirm_quiet_day: bool = False,
    request: HttpRequest | None = None,
) -> Post:
    """Schedule an approved post for ``at`` (aware; a time already past means now).

    Every variant is checked against its network's rules and the organization's
    alt-text rule first. A time on a quiet day needs a manager's or an admin's
    ``confirm_quiet_day``. One publish job per variant is created, each with its
    idempotency key fixed now."""
    require_perm(membership, "posts.write")
    _require_same_org(membership, post)
    _require_every_account(membership, post)
    at = max(_aware(at), timezone.now())
    with transaction.atomic():
        post = lock_post(post)
        if post.status != PostStatus.APPROVED:
            raise refuse(post, _("scheduled"))
        variants = list(post.variants.all())
        if not variants:
            raise ValidationError(_("Add at least one account to publish to."), code="no_targets")
        check_targets(post)
        problems = problem_messages(post)
        if problems:
            raise ValidationError(problems, code="invalid_content")
        quiet_day_check(
            post=post, membership=membership, at=at, confirmed=confirm_quiet_day, request=request
        )
        create_jobs(post, variants, at)
        post_move(
            post=post,
            to=PostStatus.SCHEDULED,
            doing=_("scheduled"),
            action="post.scheduled",
            actor=membership.user,
            request=request,
            fields={"scheduled_at": at},
            new={"scheduled_at": at.isoformat(), "targets": len(variants)},
        )
        series_after_schedule(post)
    return post


def create_jobs(post: Post, variants: Sequence[Variant], at: datetime, **extra: object) -> None:
    PublishJob.objects.bulk_create(
        PublishJob(
            organization_id=post.organization_id,
            post=post,
            variant=variant,
            channel_account_id=variant.channel_account_id,
            due_at=at,
            next_attempt_at=at,
            **extra,
        )
        for variant in variants
    )


def post_reschedule(
    *,
    post: Post,
    membership: Membership,
    at: datetime,
    confirm_quiet_day: bool = False,
    request: HttpRequest | None = None,
) -> Post:
    """Move a scheduled post to another time (the calendar's drag and drop). A time on
    a quiet day needs a manager's or an admin's ``confirm_quiet_day``."""
    require_perm(membership, "posts.write")
    _require_same_org(membership, post)
    _require_every_account(membership, post)
    at = max(_aware(at), timezone.now())
    with transaction.atomic():
        post = lock_post(post)
        if post.status != PostStatus.SCHEDULED:
            raise refuse(post, _("rescheduled"))
        if PublishJob.objects.filter(
            post=post, status__in=[JobStatus.CLAIMED, JobStatus.RUNNING]
        ).exists():
            raise ValidationError(
                _("This post is being published right now. Wait until it finishes."),
                code="publishing_now",
            )
        quiet_day_check(
            post=post, membership=membership, at=at, confirmed=confirm_quiet_day, request=request
        )
        old = post.scheduled_at
        PublishJob.objects.filter(post=post, status=JobStatus.PENDING).update(
            due_at=at, next_attempt_at=at, updated_at=timezone.now()
        )
        Post.objects.filter(pk=post.pk).update(scheduled_at=at, updated_at=timezone.now())
        post.scheduled_at = at
        audit_record(
            action="post.rescheduled",
            organization=post.organization,
            actor=membership.user,
            target=post,
            old={"scheduled_at": old.isoformat() if old else None},
            new={"scheduled_at": at.isoformat()},
            request=request,
        )
    return post


def post_unschedule(
    *, post: Post, membership: Membership, request: HttpRequest | None = None
) -> Post:
    """Take a scheduled post off the schedule; it stays approved."""
    require_perm(membership, "posts.write")
    _require_same_org(membership, post)
    _require_every_account(membership, post)
    with transaction.atomic():
        post = lock_post(post)
        if post.status != PostStatus.SCHEDULED:
            raise refuse(post, _("taken off the schedule"))
        cancelled = _stop_jobs(post)
        return post_move(
            post=post,
            to=PostStatus.APPROVED,
            doing=_("taken off the schedule"),
            action="post.unscheduled",
            actor=membership.user,
            request=request,
            fields={"scheduled_at": None},
            new={"jobs_cancelled": cancelled},
        )


def post_cancel(
    *,
    post: Post,
    membership: Membership,
    reason: str = "",
    request: HttpRequest | None = None,
) -> Post:
    """Cancel a post that has not started publishing; its jobs are cancelled too."""
    require_perm(membership, "posts.write")
    _require_same_org(membership, post)
    _require_every_account(membership, post)
    with transaction.atomic():
        post = lock_post(post)
        if not post.is_cancellable:
            raise refuse(post, _("cancelled"))
        cancelled = _stop_jobs(post)
        return post_move(
            post=post,
            to=PostStatus.CANCELLED,
            doing=_("cancelled"),
            action="post.cancelled",
            actor=membership.user,
            request=request,
            new={"reason": reason.strip()[:1000], "jobs_cancelled": cancelled},
        )


def campaign_create(
    *, membership: Membership, name: str, request: HttpRequest | None = None
) -> Campaign:
    """A campaign label for grouping posts on the calendar."""
    require_perm(membership, "posts.write")
    name = name.strip()[:200]
    if not name:
        raise ValidationError(_("Give the campaign a name."), code="required")
    with transaction.atomic():
        campaign, created = Campaign.objects.get_or_create(
            organization=membership.organization, name=name
        )
        if created:
            audit_record(
                action="campaign.created",
                organization=membership.organization,
                actor=membership.user,
                target=campaign,
                new={"name": name},
                request=request,
            )
    return campaign


__all__ = [
    "MediaSlot",
    "campaign_create",
    "post_cancel",
    "post_create",
    "post_reschedule",
    "post_schedule",
    "post_submit_for_review",
    "post_unschedule",
    "post_update",
    "post_withdraw",
    "variant_delete",
    "variant_save",
]
