"""Approval policies and reviewers' decisions.

A post needs every stage of every policy that governs one of its accounts
(the account's own policy, else the organization's default; with neither, any
admin, manager or reviewer approves once). Stages of one policy are taken in
order. Nobody approves their own post unless the policy allows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ChannelAccount
from governance.models import Membership, Role
from governance.selectors.access import require_perm
from governance.services.audit import audit_record
from publishing.models import (
    ApprovalDecision,
    ApprovalPolicy,
    ApprovalStage,
    Decision,
    Post,
    PostStatus,
)
from publishing.selectors import ApprovalState, StageState, post_approval_state
from publishing.services._base import lock_post, post_move, refuse
from publishing.services._notify import notify_users, post_label


@dataclass(frozen=True)
class StageInput:
    """A stage as a form gives it: who may approve (named memberships, else everyone with
    ``role``) and whether all of them must."""

    name: str
    role: str = ""
    reviewer_ids: Sequence[int] = ()
    require_all: bool = False


def approval_policy_save(
    *,
    membership: Membership,
    name: str,
    stages: Sequence[StageInput],
    channel_account: ChannelAccount | None = None,
    allow_self_approval: bool = False,
    policy: ApprovalPolicy | None = None,
    request: HttpRequest | None = None,
) -> ApprovalPolicy:
    """Create or replace a policy (for ``channel_account``, or the organization's default
    when None). Its stages are replaced by ``stages``, in order. Admins only."""
    require_perm(membership, "org.manage")
    organization = membership.organization
    if channel_account is not None and channel_account.organization_id != organization.pk:
        raise PermissionDenied
    if policy is not None and policy.organization_id != organization.pk:
        raise PermissionDenied
    name = name.strip()[:200]
    if not name:
        raise ValidationError(_("Give the policy a name."), code="required")
    members = {
        m.pk: m
        for m in Membership.objects.filter(organization=organization, is_active=True).exclude(
            role=Role.AUDITOR
        )
    }
    for number, stage in enumerate(stages, start=1):
        if not stage.reviewer_ids and stage.role not in Role.values:
            raise ValidationError(
                _("Stage %(number)d: name the people who approve, or choose a role.")
                % {"number": number},
                code="stage_reviewers",
            )
        if stage.role == Role.AUDITOR:
            raise ValidationError(_("Auditors only read; they cannot approve."), code="auditor")
        unknown = [pk for pk in stage.reviewer_ids if pk not in members]
        if unknown:
            raise ValidationError(
                _("Stage %(number)d names someone who is not an active member.")
                % {"number": number},
                code="stage_reviewers",
            )
    try:
        with transaction.atomic():
            old = None
            if policy is None:
                policy = ApprovalPolicy.objects.create(
                    organization=organization,
                    channel_account=channel_account,
                    name=name,
                    allow_self_approval=allow_self_approval,
                )
            else:
                old = _describe(policy)
                policy.name = name
                policy.channel_account = channel_account
                policy.allow_self_approval = allow_self_approval
                policy.updated_at = timezone.now()
                policy.save()
                policy.stages.all().delete()
            for position, stage in enumerate(stages):
                row = ApprovalStage.objects.create(
                    policy=policy,
                    position=position,
                    name=stage.name.strip()[:200]
                    or _("Stage %(number)d") % {"number": position + 1},
                    role=stage.role if not stage.reviewer_ids else "",
                    require_all=stage.require_all,
                )
                row.reviewers.set([members[pk] for pk in stage.reviewer_ids])
            audit_record(
                action="approval_policy.saved",
                organization=organization,
                actor=membership.user,
                target=policy,
                old=old,
                new=_describe(policy),
                request=request,
            )
    except IntegrityError:
        raise ValidationError(
            _("There already is a policy for this account (or a default policy)."),
            code="duplicate_policy",
        ) from None
    return policy


def _describe(policy: ApprovalPolicy) -> dict[str, object]:
    return {
        "name": policy.name,
        "channel_account": policy.channel_account_id,
        "allow_self_approval": policy.allow_self_approval,
        "stages": [
            {
                "name": stage.name,
                "role": stage.role,
                "reviewers": sorted(stage.reviewers.values_list("pk", flat=True)),
                "require_all": stage.require_all,
            }
            for stage in policy.stages.order_by("position")
        ],
    }


def approval_policy_delete(
    *, policy: ApprovalPolicy, membership: Membership, request: HttpRequest | None = None
) -> None:
    """Remove a policy; its accounts fall back to the organization's default."""
    require_perm(membership, "org.manage")
    if policy.organization_id != membership.organization_id:
        raise PermissionDenied
    with transaction.atomic():
        audit_record(
            action="approval_policy.deleted",
            organization=membership.organization,
            actor=membership.user,
            target=policy,
            old=_describe(policy),
            request=request,
        )
        policy.delete()


def _decidable_stages(post: Post, membership: Membership) -> tuple[ApprovalState, list[StageState]]:
    """The stages ``membership`` may decide on now, or PermissionDenied saying why not."""
    if post.organization_id != membership.organization_id or not membership.is_active:
        raise PermissionDenied
    if post.status != PostStatus.IN_REVIEW:
        raise refuse(post, _("reviewed"))
    state = post_approval_state(post)
    stages = state.open_stages_for(membership.user_id)
    if stages:
        return state, stages
    if membership.user_id in (post.created_by_id, post.submitted_by_id):
        raise PermissionDenied(_("You cannot approve your own post."))
    if any(membership.user_id in s.approved_user_ids for s in state.stages if not s.satisfied):
        raise PermissionDenied(_("You have already approved this post."))
    raise PermissionDenied(_("This post is not waiting for your review."))


def _record(
    post: Post,
    membership: Membership,
    stages: Sequence[StageState],
    decision: Decision,
    comment: str,
) -> None:
    now = timezone.now()
    ApprovalDecision.objects.bulk_create(
        ApprovalDecision(
            post=post,
            stage=stage.stage,
            stage_name=stage.name,
            review_round=post.review_round,
            post_version=post.version,
            reviewer=membership.user,
            decision=decision,
            comment=comment,
            at=now,
        )
        for stage in stages
    )


def post_approve(
    *,
    post: Post,
    membership: Membership,
    comment: str = "",
    request: HttpRequest | None = None,
) -> Post:
    """Approve the post at every stage this reviewer may decide on now. When the last
    stage passes, the post is approved and its author told; otherwise the reviewers
    of the stages that just opened are told."""
    comment = comment.strip()
    with transaction.atomic():
        post = lock_post(post)
        before, stages = _decidable_stages(post, membership)
        _record(post, membership, stages, Decision.APPROVE, comment)
        audit_record(
            action="post.review_approved",
            organization=post.organization,
            actor=membership.user,
            target=post,
            new={
                "stages": [s.name or "default" for s in stages],
                "comment": comment,
                "review_round": post.review_round,
                "version": post.version,
            },
            request=request,
        )
        after = post_approval_state(post)
        label = post_label(post)
        if after.approved:
            post_move(
                post=post,
                to=PostStatus.APPROVED,
                doing=_("approved"),
                action="post.approved",
                actor=membership.user,
                request=request,
                fields={"approved_at": timezone.now()},
                new={"review_round": post.review_round},
            )
            notify_users(
                post=post,
                user_ids=[post.created_by_id, post.submitted_by_id],
                kind="post.approved",
                message=lambda: (
                    _("“%(post)s” was approved. You can schedule it now.") % {"post": label}
                ),
            )
        else:
            newly_waiting = after.waiting_for_user_ids - before.waiting_for_user_ids
            notify_users(
                post=post,
                user_ids=newly_waiting,
                kind="post.review_requested",
                message=lambda: _("“%(post)s” is waiting for your review.") % {"post": label},
            )
    return post


def post_request_changes(
    *,
    post: Post,
    membership: Membership,
    comment: str,
    request: HttpRequest | None = None,
) -> Post:
    """Send the post back to its author with a comment saying what to change."""
    comment = comment.strip()
    if not comment:
        raise ValidationError(_("Say what should change."), code="comment_required")
    with transaction.atomic():
        post = lock_post(post)
        _state, stages = _decidable_stages(post, membership)
        _record(post, membership, stages[:1], Decision.REQUEST_CHANGES, comment)
        post_move(
            post=post,
            to=PostStatus.CHANGES_REQUESTED,
            doing=_("sent back for changes"),
            action="post.changes_requested",
            actor=membership.user,
            request=request,
            new={
                "stage": stages[0].name or "default",
                "comment": comment,
                "review_round": post.review_round,
                "version": post.version,
            },
        )
        label = post_label(post)
        reviewer = membership.user.full_name or membership.user.email
        notify_users(
            post=post,
            user_ids=[post.created_by_id, post.submitted_by_id],
            kind="post.changes_requested",
            message=lambda: (
                _("%(reviewer)s asked for changes to “%(post)s”: %(comment)s")
                % {"reviewer": reviewer, "post": label, "comment": comment}
            ),
        )
    return post
