"""Approval policies and reviewers' decisions.

A post needs every stage of every policy that governs one of its accounts
(the account's own policy, else the organization's default; with neither, any
admin, manager or reviewer approves once). Stages of one policy are taken in
order. Nobody approves their own post unless the policy allows it.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ChannelAccount
from governance.models import Membership, Role, User
from governance.selectors.access import require_perm
from governance.services.audit import audit_record
from publishing.languages import language_name
from publishing.models import (
    ApprovalDecision,
    ApprovalPolicy,
    ApprovalStage,
    Decision,
    OutsideReview,
    Post,
    PostStatus,
)
from publishing.selectors import ApprovalState, StageState, post_approval_state
from publishing.services._base import lock_post, post_move, refuse
from publishing.services._notify import notify_users, post_label
from publishing.services.outside_review import (
    LinkProblem,
    outside_link_get,
    outside_link_problem,
    outside_reviews_open,
)


@dataclass(frozen=True)
class StageInput:
    """A stage as a form gives it: who may approve (named memberships, else everyone with
    ``role``) and whether all of them must."""

    name: str
    role: str = ""
    reviewer_ids: Sequence[int] = ()
    require_all: bool = False
    # An outside reviewer decides the stage through an e-mailed link instead: this one,
    # or (``outside_per_post``) the one the author names for each post.
    outside_email: str = ""
    outside_per_post: bool = False

    @property
    def outside(self) -> bool:
        return bool(self.outside_email or self.outside_per_post)


def approval_policy_save(
    *,
    membership: Membership,
    name: str,
    stages: Sequence[StageInput],
    channel_account: ChannelAccount | None = None,
    allow_self_approval: bool = False,
    per_language: bool = False,
    remind_after_hours: int | None = None,
    escalate_after_hours: int | None = None,
    policy: ApprovalPolicy | None = None,
    request: HttpRequest | None = None,
) -> ApprovalPolicy:
    """Create or replace a policy (for ``channel_account``, or the organization's default
    when None). Its stages are replaced by ``stages``, in order. A stage waiting longer
    than ``remind_after_hours`` reminds its approvers, and after ``escalate_after_hours``
    the managers (None: never). Admins only."""
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
    for hours in (remind_after_hours, escalate_after_hours):
        if hours is not None and not 1 <= hours <= 24 * 365:
            raise ValidationError(
                _("Give the waiting time in whole hours, from 1 to 8760."), code="hours"
            )
    if (
        remind_after_hours is not None
        and escalate_after_hours is not None
        and escalate_after_hours <= remind_after_hours
    ):
        raise ValidationError(
            _("Tell the managers later than the approvers are reminded."), code="hours_order"
        )
    for number, stage in enumerate(stages, start=1):
        if stage.outside:
            try:
                if stage.outside_email:
                    validate_email(stage.outside_email)
            except ValidationError:
                raise ValidationError(
                    _("Stage %(number)d: give the outside reviewer's e-mail address.")
                    % {"number": number},
                    code="outside_email",
                ) from None
            continue
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
                    per_language=per_language,
                    remind_after_hours=remind_after_hours,
                    escalate_after_hours=escalate_after_hours,
                )
            else:
                old = _describe(policy)
                policy.name = name
                policy.channel_account = channel_account
                policy.allow_self_approval = allow_self_approval
                policy.per_language = per_language
                policy.remind_after_hours = remind_after_hours
                policy.escalate_after_hours = escalate_after_hours
                policy.updated_at = timezone.now()
                policy.save()
                policy.stages.all().delete()
            for position, stage in enumerate(stages):
                row = ApprovalStage.objects.create(
                    policy=policy,
                    position=position,
                    name=stage.name.strip()[:200]
                    or _("Stage %(number)d") % {"number": position + 1},
                    role=stage.role if not (stage.reviewer_ids or stage.outside) else "",
                    require_all=stage.require_all and not stage.outside,
                    outside_email=stage.outside_email.strip().lower(),
                    outside_per_post=stage.outside_per_post,
                )
                if not stage.outside:
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
        "per_language": policy.per_language,
        "remind_after_hours": policy.remind_after_hours,
        "escalate_after_hours": policy.escalate_after_hours,
        "stages": [
            {
                "name": stage.name,
                "role": stage.role,
                "reviewers": sorted(stage.reviewers.values_list("pk", flat=True)),
                "require_all": stage.require_all,
                "outside_email": stage.outside_email,
                "outside_per_post": stage.outside_per_post,
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


def _decidable_stages(
    post: Post, membership: Membership, language: str = ""
) -> tuple[ApprovalState, list[StageState]]:
    """The stages ``membership`` may decide on now (for ``language``'s version only, when
    given), or PermissionDenied saying why not."""
    if post.organization_id != membership.organization_id or not membership.is_active:
        raise PermissionDenied
    if post.status != PostStatus.IN_REVIEW:
        raise refuse(post, _("reviewed"))
    state = post_approval_state(post)
    if language:
        if not any(language in stage.languages for stage in state.stages):
            raise ValidationError(
                _("This post has no %(language)s version approved on its own.")
                % {"language": language_name(language)},
                code="language",
            )
        stages = [s for s in state.stages if language in s.languages_for(membership.user_id)]
        if stages:
            return state, stages
        raise PermissionDenied(
            _("You cannot approve the %(language)s version of this post now.")
            % {"language": language_name(language)}
        )
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
    reviewer: User | None,
    stages: Sequence[StageState],
    decision: Decision,
    comment: str,
    outside_email: str = "",
    language: str = "",
) -> list[str]:
    """Write the decisions; returns the language versions approved separately."""
    now = timezone.now()
    rows: list[ApprovalDecision] = []
    approved_languages: list[str] = []
    for stage in stages:
        languages = [""]
        if decision == Decision.APPROVE and stage.per_language and reviewer is not None:
            # One decision per language version this reviewer approves here.
            may = stage.languages_for(reviewer.pk)
            languages = [language] if language else may
            approved_languages += [code for code in languages if code not in approved_languages]
        for code in languages:
            rows.append(
                ApprovalDecision(
                    post=post,
                    stage=stage.stage,
                    stage_name=stage.name,
                    review_round=post.review_round,
                    post_version=post.version,
                    reviewer=reviewer,
                    outside_email=outside_email,
                    decision=decision,
                    language=code,
                    comment=comment,
                    at=now,
                )
            )
    ApprovalDecision.objects.bulk_create(rows)
    return approved_languages


@dataclass(frozen=True)
class _Decider:
    """Who decides: a member, or an outside reviewer known by their address."""

    user: User | None
    outside_email: str = ""

    @property
    def name(self) -> str:
        if self.user is not None:
            return self.user.full_name or self.user.email
        return self.outside_email

    def audit(self) -> dict[str, Any]:
        if self.user is not None:
            return {"actor": self.user}
        return {"actor": None, "actor_label": self.outside_email}


def _approve(
    post: Post,
    decider: _Decider,
    before: ApprovalState,
    stages: Sequence[StageState],
    comment: str,
    request: HttpRequest | None,
    extra: dict[str, Any] | None = None,
    language: str = "",
) -> Post:
    """Record the approval of a locked post at ``stages`` and move it on: approved when
    the last stage passed (its author told), else the newly open stages' reviewers told
    (members in the app, outside reviewers by an e-mailed link)."""
    languages = _record(
        post, decider.user, stages, Decision.APPROVE, comment, decider.outside_email, language
    )
    action = "post.review_approved"
    if decider.outside_email:
        action = "post.outside_review_approved"
    elif language:
        action = "post.language_approved"
    audit_record(
        action=action,
        organization=post.organization,
        target=post,
        new={
            "stages": [s.name or "default" for s in stages],
            "comment": comment,
            "review_round": post.review_round,
            "version": post.version,
            **({"languages": languages} if languages else {}),
            **(extra or {}),
        },
        request=request,
        **decider.audit(),
    )
    after = post_approval_state(post)
    label = post_label(post)
    if after.approved:
        post_move(
            post=post,
            to=PostStatus.APPROVED,
            doing=_("approved"),
            action="post.approved",
            actor=decider.user,
            actor_label=decider.outside_email,
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
        outside_reviews_open(post, state=after)
    return post


def _request_changes(
    post: Post,
    decider: _Decider,
    stage: StageState,
    comment: str,
    request: HttpRequest | None,
    extra: dict[str, Any] | None = None,
) -> Post:
    _record(post, decider.user, [stage], Decision.REQUEST_CHANGES, comment, decider.outside_email)
    post_move(
        post=post,
        to=PostStatus.CHANGES_REQUESTED,
        doing=_("sent back for changes"),
        action="post.outside_changes_requested"
        if decider.outside_email
        else "post.changes_requested",
        actor=decider.user,
        request=request,
        new={
            "stage": stage.name or "default",
            "comment": comment,
            "review_round": post.review_round,
            "version": post.version,
            **(extra or {}),
        },
        actor_label=decider.outside_email,
    )
    label = post_label(post)
    reviewer = decider.name
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


def post_approve(
    *,
    post: Post,
    membership: Membership,
    comment: str = "",
    language: str = "",
    request: HttpRequest | None = None,
) -> Post:
    """Approve the post at every stage this reviewer may decide on now. When the last
    stage passes, the post is approved and its author told; otherwise the reviewers
    of the stages that just opened are told.

    Under a policy that approves each language version separately, ``language`` approves
    only that version (a Swedish translator approves the Swedish text); without it, every
    version this reviewer may approve. The post is approved when every version is."""
    comment = comment.strip()
    with transaction.atomic():
        post = lock_post(post)
        before, stages = _decidable_stages(post, membership, language)
        return _approve(
            post, _Decider(membership.user), before, stages, comment, request, language=language
        )


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
        return _request_changes(post, _Decider(membership.user), stages[0], comment, request)


class OutsideLinkRefused(Exception):
    """The link cannot be used: ``problem`` is one of ``LinkProblem``."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def post_outside_decide(
    *,
    token: str,
    decision: str,
    comment: str,
    request: HttpRequest | None = None,
) -> OutsideReview:
    """An outside reviewer's decision through their link: approve, or request changes
    (with a comment). The link is claimed first (a conditional update), so it works
    once; the post then moves on exactly as after a member's decision. Raises
    ``OutsideLinkRefused`` when the link is unknown, used, revoked, replaced, expired,
    or the post changed or left review since it was sent."""
    if decision not in Decision.values:
        raise ValidationError(_("Choose to approve or to request changes."), code="decision")
    comment = comment.strip()
    if decision == Decision.REQUEST_CHANGES and not comment:
        raise ValidationError(_("Say what should change."), code="comment_required")
    link = outside_link_get(token)
    if link.review is None:
        raise OutsideLinkRefused(LinkProblem.UNKNOWN)
    with transaction.atomic():
        post = lock_post(link.review.post)
        review = OutsideReview.objects.select_for_update().get(pk=link.review.pk)
        problem = outside_link_problem(review, post)
        if problem:
            raise OutsideLinkRefused(problem)
        state = post_approval_state(post)
        stage = next(
            (
                s
                for s in state.stages
                if s.stage is not None and s.stage.pk == review.stage_id and s.outside
            ),
            None,
        )
        if stage is None or not stage.is_open or stage.satisfied:
            raise OutsideLinkRefused(LinkProblem.CLOSED)
        now = timezone.now()
        claimed = OutsideReview.objects.filter(
            pk=review.pk, used_at__isnull=True, revoked_at__isnull=True
        ).update(used_at=now, decision=decision, comment=comment)
        if claimed != 1:
            raise OutsideLinkRefused(LinkProblem.USED)
        review.used_at, review.decision, review.comment = now, decision, comment
        decider = _Decider(None, outside_email=review.email)
        extra = {"outside_reviewer": review.email}
        # The reviewer is known by their address only, even if someone happens to be
        # logged in to GovSocial in the same browser.
        anonymous = _without_user(request)
        if decision == Decision.APPROVE:
            _approve(post, decider, state, [stage], comment, anonymous, extra)
        else:
            _request_changes(post, decider, stage, comment, anonymous, extra)
    return review


def _without_user(request: HttpRequest | None) -> HttpRequest | None:
    if request is None:
        return None
    anonymous = copy.copy(request)
    anonymous.user = AnonymousUser()
    return anonymous
