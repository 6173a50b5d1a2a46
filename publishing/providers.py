"""What publishing tells governance about (see ``governance.providers``): the posts a
leaving person wrote and the approvals that wait on them, for their handover; and
published posts as a record type, for retention, legal holds and records requests.

Registered in ``PublishingConfig.ready()``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from datetime import datetime
from functools import partial
from typing import IO

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.selectors import channel_accounts_for_membership
from governance.dates import format_datetime_in_zone
from governance.models import Membership, Organization, Role, User
from governance.providers import (
    ACTION_ANONYMIZE,
    ACTION_DELETE,
    DisposalResult,
    ExportFile,
    HeldItem,
    HoldScope,
    Record,
    held_q,
)
from governance.selectors.access import has_perm
from governance.services.audit import audit_record
from publishing.models import (
    ApprovalDecision,
    ApprovalPolicy,
    ApprovalStage,
    MediaAsset,
    OutsideReview,
    Post,
    PostOutsideReviewer,
    PostStatus,
    PublishJob,
    Variant,
    VariantMedia,
)

# Posts that have not gone out yet and still need someone to look after them.
HELD_POST_STATUSES = (
    PostStatus.DRAFT,
    PostStatus.IN_REVIEW,
    PostStatus.CHANGES_REQUESTED,
    PostStatus.APPROVED,
    PostStatus.SCHEDULED,
    PostStatus.FAILED,
)


def _local(moment: datetime, organization: Organization) -> str:
    return format_datetime_in_zone(moment, organization.time_zone)


def _name(user: User | None) -> str:
    if user is None:
        return ""
    return user.full_name or user.email


# --- handover -----------------------------------------------------------------------


class AuthoredPostsProvider:
    """Posts the person wrote that have not been published or cancelled. The new
    holder becomes their author: the one told when a post fails or is approved."""

    key = "publishing.posts"
    label = gettext_lazy("Posts they wrote that have not gone out")

    def items_held_by(self, membership: Membership) -> list[HeldItem]:
        organization = membership.organization
        posts = Post.objects.filter(
            organization_id=membership.organization_id,
            created_by_id=membership.user_id,
            status__in=HELD_POST_STATUSES,
        ).order_by(F("scheduled_at").asc(nulls_last=True), "pk")
        items = []
        for post in posts:
            detail = post.get_status_display()
            if post.scheduled_at is not None:
                detail = _("%(status)s, to go out %(when)s (%(zone)s)") % {
                    "status": detail,
                    "when": _local(post.scheduled_at, organization),
                    "zone": organization.time_zone,
                }
            items.append(
                HeldItem(
                    object_type="publishing.post",
                    object_id=str(post.pk),
                    label=post.title or _("Post %(number)d") % {"number": post.pk},
                    link=reverse("publishing:post_detail", args=[post.pk]),
                    detail=str(detail),
                )
            )
        return items

    def reassign(
        self,
        item_ids: Sequence[str],
        new_holder: Membership,
        actor: User,
        *,
        previous_holder: Membership,
    ) -> None:
        if not has_perm(new_holder, "posts.write"):
            raise ValidationError(
                _("%(name)s cannot write posts, so cannot take posts over.")
                % {"name": _name(new_holder.user)},
                code="holder_cannot_write",
            )
        posts = list(
            Post.objects.select_for_update()
            .filter(
                organization_id=new_holder.organization_id,
                pk__in=[int(pk) for pk in item_ids if str(pk).isdigit()],
                created_by_id=previous_holder.user_id,
            )
            .order_by("pk")
        )
        if not new_holder.all_accounts:
            usable = set(channel_accounts_for_membership(new_holder).values_list("pk", flat=True))
            for post in posts:
                accounts = set(post.variants.values_list("channel_account_id", flat=True))
                if not accounts <= usable:
                    raise ValidationError(
                        _("%(name)s cannot use every account post “%(post)s” goes to.")
                        % {"name": _name(new_holder.user), "post": str(post)},
                        code="holder_lacks_accounts",
                    )
        now = timezone.now()
        for post in posts:
            Post.objects.filter(pk=post.pk).update(created_by=new_holder.user, updated_at=now)
            audit_record(
                action="post.author_changed",
                organization=new_holder.organization,
                actor=actor,
                target=post,
                old={"author": previous_holder.user.email},
                new={"author": new_holder.user.email, "reason": "handover"},
            )


class ApprovalPoliciesProvider:
    """Approval policies whose stages name the person as an approver: posts wait on
    them. The new holder takes their place in every such stage."""

    key = "publishing.approvals"
    label = gettext_lazy("Approvals that wait on them")

    def items_held_by(self, membership: Membership) -> list[HeldItem]:
        stages = (
            ApprovalStage.objects.filter(
                policy__organization_id=membership.organization_id, reviewers=membership
            )
            .select_related("policy__channel_account")
            .order_by("policy__name", "policy_id", "position")
        )
        by_policy: dict[int, tuple[ApprovalPolicy, list[str]]] = {}
        for stage in stages:
            entry = by_policy.setdefault(stage.policy_id, (stage.policy, []))
            entry[1].append(stage.name)
        items = []
        for policy, stage_names in by_policy.values():
            scope = (
                _("for %(account)s") % {"account": policy.channel_account.handle}
                if policy.channel_account is not None
                else _("the organization's default")
            )
            items.append(
                HeldItem(
                    object_type="publishing.approvalpolicy",
                    object_id=str(policy.pk),
                    label=_("Approval policy “%(name)s”") % {"name": policy.name},
                    link=reverse("publishing:approval_policy_edit", args=[policy.pk]),
                    detail=_("%(scope)s; named approver in: %(stages)s")
                    % {"scope": scope, "stages": ", ".join(stage_names)},
                )
            )
        return items

    def reassign(
        self,
        item_ids: Sequence[str],
        new_holder: Membership,
        actor: User,
        *,
        previous_holder: Membership,
    ) -> None:
        if new_holder.role == Role.AUDITOR:
            raise ValidationError(_("Auditors only read; they cannot approve."), code="auditor")
        stages = list(
            ApprovalStage.objects.select_for_update()
            .filter(
                policy__organization_id=new_holder.organization_id,
                policy_id__in=[int(pk) for pk in item_ids if str(pk).isdigit()],
                reviewers=previous_holder,
            )
            .select_related("policy")
            .order_by("policy_id", "position")
        )
        now = timezone.now()
        for stage in stages:
            stage.reviewers.remove(previous_holder)
            stage.reviewers.add(new_holder)
            ApprovalPolicy.objects.filter(pk=stage.policy_id).update(updated_at=now)
            audit_record(
                action="approval_policy.approver_replaced",
                organization=new_holder.organization,
                actor=actor,
                target=stage.policy,
                old={"stage": stage.name, "approver": previous_holder.user.email},
                new={"stage": stage.name, "approver": new_holder.user.email, "reason": "handover"},
            )


# --- records ------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _media_name(asset: MediaAsset) -> str:
    return f"{asset.pk}-{os.path.basename(asset.file.name or '')}"


def _open_asset(asset: MediaAsset) -> IO[bytes]:
    handle: IO[bytes] = asset.file.storage.open(asset.file.name or "", "rb")
    return handle


class PublishedPostsRecords:
    """Published posts: their text per account and language, who wrote and approved
    them, where they went out, and their images. Dated by ``published_at``.

    Anonymizing removes the staff behind a post (author, submitter, reviewers and
    their comments); the published words are the public record and stay.
    Deleting removes the post with its variants, jobs and decisions.
    """

    key = "published_posts"
    label = gettext_lazy("Published posts")
    actions = frozenset({ACTION_DELETE, ACTION_ANONYMIZE})

    def _posts(
        self,
        organization: Organization,
        accounts: Sequence[int],
        start: datetime | None,
        end: datetime | None,
    ) -> QuerySet[Post]:
        posts = Post.objects.filter(organization=organization, status=PostStatus.PUBLISHED)
        if accounts:
            posts = posts.filter(
                Exists(Variant.objects.filter(post=OuterRef("pk"), channel_account_id__in=accounts))
            )
        if start is not None:
            posts = posts.filter(published_at__gte=start)
        if end is not None:
            posts = posts.filter(published_at__lt=end)
        return posts

    def count_records(
        self,
        organization: Organization,
        accounts: Sequence[int],
        start: datetime | None,
        end: datetime | None,
    ) -> int:
        return self._posts(organization, accounts, start, end).count()

    def iter_records(
        self,
        organization: Organization,
        accounts: Sequence[int],
        start: datetime | None,
        end: datetime | None,
    ) -> Iterator[Record]:
        posts = (
            self._posts(organization, accounts, start, end)
            .select_related("created_by", "submitted_by", "campaign")
            .prefetch_related(
                Prefetch(
                    "variants",
                    queryset=Variant.objects.select_related("channel_account").prefetch_related(
                        "parts",
                        Prefetch(
                            "media",
                            queryset=VariantMedia.objects.select_related("asset").prefetch_related(
                                "asset__alt_texts"
                            ),
                        ),
                    ),
                ),
                Prefetch("jobs", queryset=PublishJob.objects.order_by("pk")),
                Prefetch("decisions", queryset=ApprovalDecision.objects.select_related("reviewer")),
            )
            .order_by("published_at", "pk")
        )
        for post in posts.iterator(chunk_size=200):
            yield self._record(post)

    def _record(self, post: Post) -> Record:
        jobs = {job.variant_id: job for job in post.jobs.all()}
        media: dict[str, ExportFile] = {}
        variants = []
        for variant in post.variants.all():
            job = jobs.get(variant.pk)
            images = []
            for attached in variant.media.all():
                asset = attached.asset
                name = _media_name(asset)
                media.setdefault(name, ExportFile(name=name, open=partial(_open_asset, asset)))
                images.append(
                    {
                        "file": name,
                        "thread_index": attached.thread_index,
                        "alt_text": asset.alt_text_for(variant.language),
                        "mime_type": asset.mime_type,
                        "sha256": asset.sha256,
                    }
                )
            variants.append(
                {
                    "channel_account": variant.channel_account.handle,
                    "network": variant.channel_account.network,
                    "language": variant.language,
                    "text": variant.text,
                    "thread": [part.text for part in variant.parts.all()],
                    "content_warning": variant.content_warning,
                    "visibility": variant.visibility,
                    "images": images,
                    "network_post_id": job.remote_id if job else "",
                    "url": job.remote_url if job else "",
                    "published_at": _iso(job.published_at) if job else None,
                    "deleted_at": _iso(job.deleted_at) if job else None,
                }
            )
        decisions = [
            {
                "stage": decision.stage_name,
                "reviewer": decision.reviewer.email if decision.reviewer else "",
                "outside_reviewer": decision.outside_email,
                "decision": decision.decision,
                "comment": decision.comment,
                "at": _iso(decision.at),
            }
            for decision in post.decisions.all()
        ]
        assert post.published_at is not None
        return Record(
            id=str(post.pk),
            occurred_at=post.published_at,
            data={
                "id": post.pk,
                "title": post.title,
                "campaign": post.campaign.name if post.campaign else "",
                "author": post.created_by.email if post.created_by else "",
                "submitted_by": post.submitted_by.email if post.submitted_by else "",
                "created_at": _iso(post.created_at),
                "approved_at": _iso(post.approved_at),
                "scheduled_at": _iso(post.scheduled_at),
                "published_at": _iso(post.published_at),
                "variants": variants,
                "decisions": decisions,
            },
            media=tuple(media.values()),
        )

    def dispose(
        self,
        organization: Organization,
        older_than: datetime,
        held: Sequence[HoldScope],
        *,
        action: str,
        dry_run: bool,
    ) -> DisposalResult:
        if action not in self.actions:
            raise ValueError(f"Published posts cannot be disposed of by {action!r}")
        due = Post.objects.filter(
            organization=organization, status=PostStatus.PUBLISHED, published_at__lt=older_than
        )
        if action == ACTION_ANONYMIZE:
            # Posts already without names are done; counting them again would say
            # the job did something every day.
            named_decisions = ApprovalDecision.objects.filter(post=OuterRef("pk")).filter(
                Q(reviewer__isnull=False) | ~Q(comment="") | ~Q(outside_email="")
            )
            named_outside = OutsideReview.objects.filter(post=OuterRef("pk")).filter(
                ~Q(email="") | ~Q(comment="") | ~Q(contact_email="")
            )
            due = due.filter(
                Q(created_by__isnull=False)
                | Q(submitted_by__isnull=False)
                | Exists(named_decisions)
                | Exists(named_outside)
                | Exists(PostOutsideReviewer.objects.filter(post=OuterRef("pk")))
            )
        held_ids = set(
            due.filter(
                held_q(
                    held, date_field="published_at", account_field="variants__channel_account_id"
                )
            ).values_list("pk", flat=True)
        )
        ids = sorted(set(due.values_list("pk", flat=True)) - held_ids)
        if not dry_run and ids:
            with transaction.atomic():
                if action == ACTION_DELETE:
                    # Variants, jobs, attempts and decisions go with the post; the
                    # images stay in the library, where other posts may use them.
                    Post.objects.filter(pk__in=ids).delete()
                else:
                    Post.objects.filter(pk__in=ids).update(created_by=None, submitted_by=None)
                    ApprovalDecision.objects.filter(post_id__in=ids).update(
                        reviewer=None, comment="", outside_email=""
                    )
                    # Outside reviewers are people too: their address and words go.
                    OutsideReview.objects.filter(post_id__in=ids).update(
                        email="", comment="", contact_email="", sent_by=None
                    )
                    PostOutsideReviewer.objects.filter(post_id__in=ids).delete()
        return DisposalResult(removed=len(ids), held=len(held_ids), ids=[str(pk) for pk in ids])


def tell_new_reviewer_what_waits(membership: Membership) -> None:
    """A member who joined, or got a role, after posts were sent for review hears of
    each post in review that now waits for their decision (MEMBER_ROLE_GIVEN)."""
    from publishing.selectors import posts_waiting_for_reviewer
    from publishing.services._notify import notify_users, post_label

    for post in posts_waiting_for_reviewer(membership):
        notify_users(
            post=post,
            user_ids=[membership.user_id],
            kind="post.review_requested",
            message=partial(_waiting_message, post_label(post)),
        )


def _waiting_message(label: str) -> str:
    return _("“%(post)s” is waiting for your review.") % {"post": label}
