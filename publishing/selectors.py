"""Reads of posts, approval state, jobs, pauses and media, always through a membership.

An object of another organization, or on a channel account a limited member
cannot see, is a 404 (``Http404``), never a 403.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Exists, F, Lookup, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from accounts.models import ChannelAccount
from accounts.selectors import channel_accounts_for_membership
from governance.models import AuditEvent, Membership, Organization, Role
from governance.selectors.access import PERMISSIONS, get_in_org
from publishing.models import (
    ACTIVE_JOB_STATUSES,
    ApprovalDecision,
    ApprovalPolicy,
    ApprovalStage,
    Decision,
    EmergencyPublisher,
    JobStatus,
    MediaAsset,
    OutsideReview,
    Post,
    PostOutsideReviewer,
    PostStatus,
    PublishingPause,
    PublishJob,
    ReviewerLanguages,
    Variant,
    VideoCopyJob,
    VideoCopyStatus,
)

if TYPE_CHECKING:
    from django.db.models.sql.compiler import _AsSqlType

# --- posts ------------------------------------------------------------------------------


def posts_for_membership(membership: Membership) -> QuerySet[Post]:
    """The posts this member may see: all of the organization's, or for a member limited
    to some accounts, those reaching one of their accounts (and their own drafts)."""
    posts = Post.objects.filter(organization_id=membership.organization_id)
    if membership.all_accounts:
        return posts
    visible = channel_accounts_for_membership(membership).values("pk")
    reaches_visible = Exists(
        Variant.objects.filter(post=OuterRef("pk"), channel_account__in=visible)
    )
    return posts.filter(reaches_visible | Q(created_by_id=membership.user_id))


class PostTarget(NamedTuple):
    """One account a post goes to, in one language."""

    channel_account_id: int
    handle: str
    language: str


def post_list_targets(post_ids: Sequence[int]) -> dict[int, list[PostTarget]]:
    """Each post's targets, by account and language, for a page of a list: one query of
    three columns, not whole variants and accounts (an account's row carries its
    credentials, decrypted as it loads)."""
    targets: dict[int, list[PostTarget]] = defaultdict(list)
    rows = (
        Variant.objects.filter(post_id__in=post_ids)
        .order_by("channel_account_id", "language")
        .values_list("post_id", "channel_account_id", "channel_account__handle", "language")
    )
    for post_id, account_id, handle, language in rows:
        targets[post_id].append(PostTarget(account_id, handle, language))
    return targets


def held_post_ids(organization_id: int, posts: QuerySet[Post] | Iterable[int]) -> set[int]:
    """Which of ``posts`` (a queryset or ids) have a target held back (by a crisis pause,
    an account that cannot publish, or for review): they do not go out at the time shown.
    One query, which finds nothing at once through (organization, status) when nothing
    is held."""
    jobs = PublishJob.objects.filter(organization_id=organization_id, status=JobStatus.HELD)
    if isinstance(posts, QuerySet):
        jobs = jobs.filter(post__in=posts)
    else:
        jobs = jobs.filter(one_of_ids("post_id", posts))
    return set(jobs.values_list("post_id", flat=True))


class _AnyOfIds(Lookup):
    """``lhs = ANY(%s)``, the ids as one array parameter (PostgreSQL)."""

    lookup_name = "any_of_ids"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> _AsSqlType:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs}::bigint[])", (*lhs_params, *rhs_params)


def one_of_ids(field_name: str, ids: Iterable[int]) -> Q | Lookup:
    """A filter: ``field_name`` is one of ``ids``. On PostgreSQL the ids go as one array
    parameter: for the hundreds of posts of a calendar page, Django resolving and
    preparing each value of an ``__in`` list on its own cost more CPU than the query."""
    ids = list(ids)
    if connection.vendor == "postgresql":
        return _AnyOfIds(F(field_name), ids)
    return Q(**{f"{field_name}__in": ids})


def post_get_for_user(membership: Membership, pk: int | str) -> Post:
    """One post the member may see (404 otherwise)."""
    return get_in_org(
        posts_for_membership(membership).select_related("campaign", "created_by"),
        membership.organization,
        pk=pk,
    )


@dataclass(frozen=True)
class PostFilters:
    """Calendar filters; empty means "any"."""

    channel_account_ids: Sequence[int] = ()
    campaign_ids: Sequence[int] = ()
    statuses: Sequence[str] = ()
    languages: Sequence[str] = ()


def posts_in_range(
    membership: Membership,
    start: datetime,
    end: datetime,
    filters: PostFilters | None = None,
) -> list[Post]:
    """Posts due (or published) in ``[start, end)``, with their variants, accounts and
    campaign loaded: a fixed number of queries however many posts there are."""
    filters = filters or PostFilters()
    posts = posts_for_membership(membership).filter(scheduled_at__gte=start, scheduled_at__lt=end)
    if filters.statuses:
        posts = posts.filter(status__in=list(filters.statuses))
    if filters.campaign_ids:
        posts = posts.filter(campaign_id__in=list(filters.campaign_ids))
    variant_filter = Q()
    if filters.channel_account_ids:
        variant_filter &= Q(channel_account_id__in=list(filters.channel_account_ids))
    if filters.languages:
        variant_filter &= Q(language__in=list(filters.languages))
    if variant_filter:
        posts = posts.filter(Exists(Variant.objects.filter(variant_filter, post=OuterRef("pk"))))
    return list(
        posts.select_related("campaign", "created_by")
        .prefetch_related(
            Prefetch(
                "variants",
                queryset=Variant.objects.select_related("channel_account").order_by(
                    "channel_account__handle", "language"
                ),
            )
        )
        .order_by("scheduled_at", "pk")
    )


def post_history(post: Post) -> QuerySet[AuditEvent]:
    """The post's story from the audit log: every transition, decision and publish."""
    return (
        AuditEvent.objects.filter(target_type=Post._meta.label_lower, target_id=str(post.pk))
        .select_related("actor")
        .order_by("created_at", "id")
    )


def post_targets(post: Post) -> list[PublishJob]:
    """The post's publish jobs, one per target (the latest for each variant), with the
    account and variant loaded: what went where, and what failed and why."""
    jobs = (
        PublishJob.objects.filter(post=post)
        .select_related("channel_account", "variant")
        .order_by("variant_id", "-created_at", "-id")
    )
    latest: dict[int, PublishJob] = {}
    for job in jobs:
        latest.setdefault(job.variant_id, job)
    return list(latest.values())


# --- approval ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StageState:
    """One stage a post must pass in its current review round."""

    policy_name: str
    stage: ApprovalStage | None  # None: the organization has no policy (any approver, once)
    name: str
    require_all: bool
    eligible_user_ids: frozenset[int]
    approved_user_ids: frozenset[int]
    # The stages before it in its policy are passed, so its reviewers may decide now.
    is_open: bool
    # An outside reviewer decides this stage through an e-mailed link (no member does):
    # the policy's address, or the one the author chose for this post ("" while a stage
    # that asks the author for one has none yet).
    outside: bool = False
    outside_email: str = ""
    outside_per_post: bool = False
    outside_approved: bool = False
    # Since when it has been open (the submission, or the last approval of the stage
    # before it); None while it is not open.
    opened_at: datetime | None = None
    # Under a policy that approves each language version separately: the post's
    # languages, who approved each, and the languages each limited reviewer may approve
    # (a reviewer not in ``language_limits`` approves every language).
    languages: tuple[str, ...] = ()
    approved_by_language: dict[str, frozenset[int]] = field(default_factory=dict)
    language_limits: dict[int, frozenset[str]] = field(default_factory=dict)

    @property
    def per_language(self) -> bool:
        return bool(self.languages) and not self.outside

    def eligible_for(self, language: str) -> frozenset[int]:
        return frozenset(
            uid
            for uid in self.eligible_user_ids
            if uid not in self.language_limits or language in self.language_limits[uid]
        )

    def language_satisfied(self, language: str) -> bool:
        approved = self.approved_by_language.get(language, frozenset())
        if self.require_all:
            eligible = self.eligible_for(language)
            return bool(eligible) and eligible <= approved
        return bool(approved)

    def languages_for(self, user_id: int) -> list[str]:
        """The language versions ``user_id`` may approve at this stage now."""
        if not self.per_language or not self.is_open:
            return []
        return [
            language
            for language in self.languages
            if not self.language_satisfied(language)
            and user_id in self.eligible_for(language)
            and user_id not in self.approved_by_language.get(language, frozenset())
        ]

    @property
    def satisfied(self) -> bool:
        if self.outside:
            return self.outside_approved
        if self.per_language:
            return all(self.language_satisfied(language) for language in self.languages)
        if self.require_all:
            return bool(self.eligible_user_ids) and self.eligible_user_ids <= self.approved_user_ids
        return bool(self.approved_user_ids)

    @property
    def waiting_for_user_ids(self) -> frozenset[int]:
        if not self.is_open or self.satisfied:
            return frozenset()
        if self.per_language:
            return frozenset(uid for uid in self.eligible_user_ids if self.languages_for(uid))
        return self.eligible_user_ids - self.approved_user_ids


@dataclass(frozen=True)
class ApprovalState:
    stages: list[StageState] = field(default_factory=list)

    @property
    def approved(self) -> bool:
        return all(stage.satisfied for stage in self.stages)

    def open_stages_for(self, user_id: int) -> list[StageState]:
        """The stages this person may decide on now."""
        return [s for s in self.stages if user_id in s.waiting_for_user_ids]

    @property
    def waiting_for_user_ids(self) -> frozenset[int]:
        waiting: set[int] = set()
        for stage in self.stages:
            waiting |= stage.waiting_for_user_ids
        return frozenset(waiting)


@dataclass
class _OrgApprovalContext:
    """An organization's policies and people, loaded once for many posts."""

    policy_by_account: dict[int, ApprovalPolicy]
    default_policy: ApprovalPolicy | None
    members: list[Membership]
    limited_accounts: dict[int, set[int]]  # membership id → account ids it is limited to
    # user id → the languages that reviewer may approve (limited reviewers only)
    language_limits: dict[int, frozenset[str]] = field(default_factory=dict)

    def sees_all(self, membership: Membership, account_ids: Iterable[int]) -> bool:
        if membership.all_accounts:
            return True
        return set(account_ids) <= self.limited_accounts.get(membership.pk, set())


def _approval_context(organization_id: int) -> _OrgApprovalContext:
    policies = list(
        ApprovalPolicy.objects.filter(organization_id=organization_id).prefetch_related(
            Prefetch(
                "stages",
                queryset=ApprovalStage.objects.order_by("position").prefetch_related(
                    Prefetch(
                        "reviewers",
                        queryset=Membership.objects.filter(is_active=True, user__is_active=True),
                    )
                ),
            )
        )
    )
    members = list(
        Membership.objects.filter(
            organization_id=organization_id, is_active=True, user__is_active=True
        )
    )
    limited: dict[int, set[int]] = defaultdict(set)
    through = ChannelAccount.limited_members.through
    for membership_id, account_id in through.objects.filter(
        membership__organization_id=organization_id
    ).values_list("membership_id", "channelaccount_id"):
        limited[membership_id].add(account_id)
    user_by_membership = {m.pk: m.user_id for m in members}
    language_limits = {
        user_by_membership[membership_id]: frozenset(languages)
        for membership_id, languages in ReviewerLanguages.objects.filter(
            membership__organization_id=organization_id
        ).values_list("membership_id", "languages")
        if membership_id in user_by_membership
    }
    return _OrgApprovalContext(
        policy_by_account={p.channel_account_id: p for p in policies if p.channel_account_id},
        default_policy=next((p for p in policies if p.channel_account_id is None), None),
        members=members,
        limited_accounts=limited,
        language_limits=language_limits,
    )


def _state_for(
    post: Post,
    account_ids: set[int],
    context: _OrgApprovalContext,
    decisions: Sequence[ApprovalDecision],
    chosen_outside: dict[int, str] | None = None,
    languages: Iterable[str] | None = None,
) -> ApprovalState:
    authors = {uid for uid in (post.created_by_id, post.submitted_by_id) if uid}
    if languages is None:
        languages = {v.language for v in post.variants.all()}
    post_languages = tuple(sorted(set(languages)))
    # A reviewer limited to languages approves a whole post only when it is written
    # entirely in their languages.
    not_whole = {
        uid
        for uid, allowed in context.language_limits.items()
        if not set(post_languages) <= allowed
    }
    # Which policy governs which of the post's accounts.
    groups: dict[int | None, set[int]] = defaultdict(set)
    for account_id in account_ids:
        policy = context.policy_by_account.get(account_id) or context.default_policy
        groups[policy.pk if policy else None].add(account_id)
    policies = {p.pk: p for p in [*context.policy_by_account.values(), context.default_policy] if p}
    approved_by_stage: dict[int | None, set[int]] = defaultdict(set)
    approved_by_language: dict[int | None, dict[str, set[int]]] = defaultdict(
        lambda: defaultdict(set)
    )
    approved_outside: set[int | None] = set()
    last_approval_at: dict[int | None, datetime] = {}
    for decision in decisions:
        if decision.review_round != post.review_round or decision.decision != Decision.APPROVE:
            continue
        if decision.reviewer_id is not None and decision.language:
            approved_by_language[decision.stage_id][decision.language].add(decision.reviewer_id)
        elif decision.reviewer_id is not None:
            approved_by_stage[decision.stage_id].add(decision.reviewer_id)
        elif decision.outside_email:
            approved_outside.add(decision.stage_id)
        else:
            continue
        previous = last_approval_at.get(decision.stage_id)
        if previous is None or decision.at > previous:
            last_approval_at[decision.stage_id] = decision.at

    def members_with(roles: Iterable[str], accounts: set[int]) -> set[int]:
        wanted = set(roles)
        return {
            m.user_id
            for m in context.members
            if m.role in wanted and m.role != Role.AUDITOR and context.sees_all(m, accounts)
        }

    stages: list[StageState] = []
    for policy_id in sorted(groups, key=lambda pk: (pk is None, pk or 0)):
        accounts = groups[policy_id]
        policy = policies.get(policy_id) if policy_id is not None else None
        if policy is None:
            eligible = members_with(PERMISSIONS["posts.approve"], accounts) - authors - not_whole
            stages.append(
                StageState(
                    policy_name="",
                    stage=None,
                    name="",
                    require_all=False,
                    eligible_user_ids=frozenset(eligible),
                    approved_user_ids=frozenset(approved_by_stage[None]),
                    is_open=True,
                    opened_at=post.submitted_at,
                )
            )
            continue
        previous_passed = True
        opened_at = post.submitted_at
        for stage in policy.stages.all():
            outside = bool(stage.outside_email or stage.outside_per_post)
            if outside:
                eligible = set()
            else:
                named = {m.user_id for m in stage.reviewers.all() if m.role != Role.AUDITOR}
                eligible = named if named else members_with([stage.role], accounts)
            if not policy.allow_self_approval:
                eligible -= authors
            per_language = policy.per_language and not outside and bool(post_languages)
            if not per_language:
                eligible -= not_whole
            by_language = approved_by_language[stage.pk]
            state = StageState(
                policy_name=policy.name,
                stage=stage,
                name=stage.name,
                require_all=stage.require_all,
                eligible_user_ids=frozenset(eligible),
                approved_user_ids=frozenset(approved_by_stage[stage.pk]),
                is_open=previous_passed,
                outside=outside,
                outside_email=(chosen_outside or {}).get(stage.pk, "") or stage.outside_email,
                outside_per_post=stage.outside_per_post,
                outside_approved=stage.pk in approved_outside,
                opened_at=opened_at if previous_passed else None,
                languages=post_languages if per_language else (),
                approved_by_language={
                    language: frozenset(by_language.get(language, set()))
                    for language in post_languages
                }
                if per_language
                else {},
                language_limits=context.language_limits if per_language else {},
            )
            stages.append(state)
            previous_passed = previous_passed and state.satisfied
            passed_at = last_approval_at.get(stage.pk)
            if opened_at is not None and passed_at is not None and passed_at > opened_at:
                opened_at = passed_at
    return ApprovalState(stages=stages)


def post_approval_state(post: Post) -> ApprovalState:
    """Which stages the post must pass in this review round, who may decide each, and
    who already approved. A post with no targets yet needs the default stage(s)."""
    targets = list(post.variants.values_list("channel_account_id", "language"))
    account_ids = {account_id for account_id, _language in targets}
    languages = {language for _account_id, language in targets}
    decisions = list(post.decisions.filter(review_round=post.review_round))
    chosen = dict(post.outside_reviewers.values_list("stage_id", "email"))
    context = _approval_context(post.organization_id)
    return _state_for(post, account_ids, context, decisions, chosen, languages)


def _in_review(membership: Membership) -> QuerySet[Post]:
    return (
        Post.objects.filter(organization_id=membership.organization_id, status=PostStatus.IN_REVIEW)
        .select_related("created_by", "campaign")
        .prefetch_related(
            Prefetch("variants", queryset=Variant.objects.select_related("channel_account"))
        )
        .order_by("submitted_at", "pk")
    )


def _waiting_among(membership: Membership, posts: list[Post]) -> list[Post]:
    if not posts:
        return []
    context = _approval_context(membership.organization_id)
    decisions: dict[int, list[ApprovalDecision]] = defaultdict(list)
    for decision in ApprovalDecision.objects.filter(post__in=posts):
        decisions[decision.post_id].append(decision)
    waiting = []
    for post in posts:
        account_ids = {v.channel_account_id for v in post.variants.all()}
        state = _state_for(post, account_ids, context, decisions[post.pk])
        if membership.user_id in state.waiting_for_user_ids:
            waiting.append(post)
    return waiting


def posts_in_review_with_time_limits() -> Iterator[tuple[Post, ApprovalState]]:
    """Every post in review in an organization with a policy that reminds or escalates,
    with its approval state; a fixed number of queries per organization."""
    organization_ids = sorted(
        set(
            ApprovalPolicy.objects.filter(
                Q(remind_after_hours__isnull=False) | Q(escalate_after_hours__isnull=False)
            ).values_list("organization_id", flat=True)
        )
    )
    for organization_id in organization_ids:
        posts = list(
            Post.objects.filter(organization_id=organization_id, status=PostStatus.IN_REVIEW)
            .select_related("organization")
            .prefetch_related("variants")
            .order_by("submitted_at", "pk")
        )
        if not posts:
            continue
        context = _approval_context(organization_id)
        decisions: dict[int, list[ApprovalDecision]] = defaultdict(list)
        for decision in ApprovalDecision.objects.filter(post__in=posts):
            decisions[decision.post_id].append(decision)
        chosen: dict[int, dict[int, str]] = defaultdict(dict)
        for row in PostOutsideReviewer.objects.filter(post__in=posts):
            chosen[row.post_id][row.stage_id] = row.email
        for post in posts:
            account_ids = {v.channel_account_id for v in post.variants.all()}
            yield post, _state_for(post, account_ids, context, decisions[post.pk], chosen[post.pk])


def posts_waiting_for_reviewer(membership: Membership) -> list[Post]:
    """Posts in review whose open stage this member may decide on and has not yet.

    A fixed number of queries however many posts are in review."""
    if not membership.is_active:
        return []
    return _waiting_among(membership, list(_in_review(membership)))


def posts_waiting_for_reviewer_count(membership: Membership) -> int:
    """How many posts wait for this member's review, as ``posts_waiting_for_reviewer``
    finds them: for the navigation on every publishing page, which shows the number
    only. Reads only what the approval rules look at (no authors, campaigns or
    accounts); a fixed number of queries however many posts are in review."""
    if not membership.is_active:
        return 0
    posts = list(
        Post.objects.filter(organization_id=membership.organization_id, status=PostStatus.IN_REVIEW)
        .order_by()
        .only("created_by", "submitted_by", "submitted_at", "review_round")
        .prefetch_related(
            Prefetch(
                "variants", queryset=Variant.objects.only("post", "channel_account", "language")
            )
        )
    )
    return len(_waiting_among(membership, posts))


# The home page looks among this many of the oldest posts in review, however many wait.
REVIEW_SCAN = 100


def posts_waiting_for_reviewer_first(membership: Membership) -> tuple[list[Post], bool]:
    """As ``posts_waiting_for_reviewer``, among the ``REVIEW_SCAN`` oldest posts in review only
    (a bounded read for the home page); and whether posts beyond those are in review,
    so more may wait than the list shows."""
    if not membership.is_active:
        return [], False
    scan = REVIEW_SCAN
    posts = list(_in_review(membership)[: scan + 1])
    return _waiting_among(membership, posts[:scan]), len(posts) > scan


def approval_policies_for(organization: Organization) -> QuerySet[ApprovalPolicy]:
    return (
        ApprovalPolicy.objects.filter(organization=organization)
        .select_related("channel_account")
        .prefetch_related("stages__reviewers__user")
        .order_by("channel_account__handle", "pk")
    )


def outside_reviews_for_post(post: Post) -> list[OutsideReview]:
    """The post's outside review links of its current round, newest first."""
    return list(
        OutsideReview.objects.filter(post=post, review_round=post.review_round)
        .select_related("sent_by")
        .order_by("-created_at", "-id")
    )


def outside_review_get_for_user(membership: Membership, pk: int | str) -> OutsideReview:
    """One outside review link of a post the member may see (404 otherwise)."""
    visible = posts_for_membership(membership).values("pk")
    return get_in_org(
        OutsideReview.objects.filter(post__in=visible).select_related("post", "organization"),
        membership.organization,
        pk=pk,
    )


# --- jobs, pauses, emergency publishers --------------------------------------------------


def active_pauses(organization: Organization | int) -> QuerySet[PublishingPause]:
    organization_id = organization if isinstance(organization, int) else organization.pk
    return PublishingPause.objects.filter(
        organization_id=organization_id, ended_at__isnull=True
    ).select_related("channel_account", "started_by")


def pauses_for_membership(membership: Membership) -> QuerySet[PublishingPause]:
    """The pauses, past and present, this member may know of: the organization-wide
    ones, and those on accounts they can see (a member limited to some accounts
    learns nothing, not even the handle or the reason, of a pause on another)."""
    visible = channel_accounts_for_membership(membership).values("pk")
    return PublishingPause.objects.filter(organization_id=membership.organization_id).filter(
        Q(channel_account__isnull=True) | Q(channel_account__in=visible)
    )


# Every page asks whether publishing is paused (the banner): whether the organization
# has any active pause is cached until a pause is started or ended (a signal, and the
# end service's own call) and for a minute at most; the pauses themselves are read
# only when there is one.
PAUSED_CACHE_SECONDS = 60


def _paused_key(organization_id: int) -> str:
    return f"publishing:paused:{organization_id}"


def organization_is_paused(organization_id: int) -> bool:
    """Whether any pause (organization-wide or on one account) is active (cached)."""
    key = _paused_key(organization_id)
    paused = cache.get(key)
    if isinstance(paused, bool):
        return paused
    paused = PublishingPause.objects.filter(
        organization_id=organization_id, ended_at__isnull=True
    ).exists()
    cache.set(key, paused, PAUSED_CACHE_SECONDS)
    return paused


def pauses_forget(organization_id: int) -> None:
    """A pause started or ended: drop the cached answer now and when that commits."""
    key = _paused_key(organization_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


def active_pauses_for_membership(membership: Membership) -> QuerySet[PublishingPause]:
    return (
        pauses_for_membership(membership)
        .filter(ended_at__isnull=True)
        .select_related("channel_account", "started_by")
    )


def pause_applies(organization_id: int, channel_account_id: int) -> PublishingPause | None:
    """The active pause that stops publishing to this account, if any."""
    return (
        PublishingPause.objects.filter(organization_id=organization_id, ended_at__isnull=True)
        .filter(Q(channel_account__isnull=True) | Q(channel_account_id=channel_account_id))
        .order_by("started_at")
        .first()
    )


def held_jobs(membership: Membership) -> QuerySet[PublishJob]:
    """Jobs held by a pause or an account that cannot publish, for a manager to review."""
    visible = channel_accounts_for_membership(membership).values("pk")
    return (
        PublishJob.objects.filter(
            organization_id=membership.organization_id,
            status=JobStatus.HELD,
            channel_account__in=visible,
        )
        .select_related("post", "variant", "channel_account")
        .order_by("due_at", "pk")
    )


def publish_job_get_for_user(membership: Membership, pk: int | str) -> PublishJob:
    visible = channel_accounts_for_membership(membership).values("pk")
    return get_in_org(
        PublishJob.objects.filter(channel_account__in=visible).select_related(
            "post", "variant", "channel_account"
        ),
        membership.organization,
        pk=pk,
    )


def is_emergency_publisher(membership: Membership) -> bool:
    return (
        membership.is_active
        and EmergencyPublisher.objects.filter(
            organization_id=membership.organization_id, membership=membership
        ).exists()
    )


def emergency_publishers(organization: Organization) -> QuerySet[EmergencyPublisher]:
    return EmergencyPublisher.objects.filter(organization=organization).select_related(
        "membership__user"
    )


def live_jobs(post: Post) -> QuerySet[PublishJob]:
    return PublishJob.objects.filter(post=post, status__in=list(ACTIVE_JOB_STATUSES))


# --- media ----------------------------------------------------------------------------------


def media_assets_for_membership(membership: Membership) -> QuerySet[MediaAsset]:
    return MediaAsset.objects.filter(organization_id=membership.organization_id).prefetch_related(
        "alt_texts"
    )


def media_asset_get_for_user(membership: Membership, pk: int | str) -> MediaAsset:
    return get_in_org(media_assets_for_membership(membership), membership.organization, pk=pk)


def channel_account_get_for_posting(membership: Membership, pk: int | str) -> ChannelAccount:
    """An account the member may write posts for (404 for one they cannot see)."""
    try:
        return channel_accounts_for_membership(membership).get(pk=pk)
    except (ChannelAccount.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def video_copy_jobs_for_asset(asset: MediaAsset) -> list[VideoCopyJob]:
    """The copies asked for of ``asset`` (already fetched through the access layer),
    newest first, with their results."""
    return list(asset.copy_jobs.select_related("result").order_by("-created_at", "-pk")[:20])


def video_copy_job_get_for_user(membership: Membership, asset_pk: int, pk: int) -> VideoCopyJob:
    """A copy job of a video the member can see (404 for another organization's)."""
    asset = media_asset_get_for_user(membership, asset_pk)
    return get_in_org(
        VideoCopyJob.objects.filter(source=asset).select_related("result"),
        membership.organization,
        pk=pk,
    )


def finished_video_copies(sources: Iterable[MediaAsset]) -> dict[int, list[MediaAsset]]:
    """The finished compatible copies of each of ``sources`` (already fetched through the
    access layer; a copy is in its original's organization), newest first."""
    by_source: dict[int, list[MediaAsset]] = defaultdict(list)
    ids = [asset.pk for asset in sources]
    if not ids:
        return by_source
    jobs = (
        VideoCopyJob.objects.filter(
            source_id__in=ids, status=VideoCopyStatus.DONE, result__isnull=False
        )
        .select_related("result")
        .order_by("-finished_at", "-pk")
    )
    for job in jobs:
        if job.result is not None and job.result.organization_id == job.organization_id:
            by_source[job.source_id].append(job.result)
    return by_source


def video_copy_job_get_by_id(membership: Membership, pk: int | str) -> VideoCopyJob:
    """A copy job of a video in the member's library (404 for another organization's)."""
    return get_in_org(
        VideoCopyJob.objects.filter(
            source__in=media_assets_for_membership(membership)
        ).select_related("result", "source"),
        membership.organization,
        pk=pk,
    )
