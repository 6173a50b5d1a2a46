"""What the home page ("Today") shows a member: everything that needs them now.

It reads across every app (govsocial sits on top and may), always through the
member's own access: a member limited to some accounts sees only those accounts'
posts, inbox items and alerts, and each list appears only to the roles that act on
it. A crisis pause is the site-wide banner above every page, this one included.
A fixed number of queries however much data there is: each list is one bounded
query, and the week's figures are the dashboard's own (fixed) queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Generic, TypeVar

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.connectors.registry import UnknownNetwork, get_connector
from accounts.models import AccountStatus, ChannelAccount
from accounts.selectors import EXPIRY_NOTICE_DAYS, channel_accounts_for_membership
from analytics.presentation import KeyFigure, key_figures
from analytics.schedule import local_day, zone_of
from analytics.selectors import DashboardFilters, dashboard_build, scope_for_membership
from governance.models import Membership
from governance.selectors.access import has_perm
from inbox.models import OPEN_STATUSES, InboxItem
from inbox.selectors import inbox_items_for_membership
from publishing.models import JobStatus, Post, PublishJob
from publishing.selectors import posts_waiting_for_reviewer_first

# Each list shows at most this many lines, with a link to the full list beside it.
SHOWN = 8
SCHEDULE_SHOWN = 40
# Inbox items due within this count as "due soon".
DUE_SOON = timedelta(hours=4)
# Failed posts this recent are still news.
FAILED_WITHIN = timedelta(days=7)
WEEK_DAYS = 7


T = TypeVar("T")


@dataclass(frozen=True)
class Counted(Generic[T]):
    """The first lines of a list, and whether there are more than shown."""

    items: list[T]
    more: bool = False
    total: int = 0  # of the lines read (posts to review); the whole list's when ``exact``
    exact: bool = False

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)


@dataclass
class AccountDay:
    """One account's scheduled posts on one day."""

    account: ChannelAccount
    jobs: list[PublishJob] = field(default_factory=list)


@dataclass
class ScheduleDay:
    day: date
    accounts: list[AccountDay] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(row.jobs) for row in self.accounts)


@dataclass(frozen=True)
class AccountAlert:
    account: ChannelAccount
    needs_reconnect: bool
    expires_at: datetime | None


@dataclass
class Today:
    now: datetime
    review: Counted[Post] | None = None  # None: the member does not review
    inbox: Counted[InboxItem] | None = None  # None: the member does not answer
    schedule: list[ScheduleDay] = field(default_factory=list)
    accounts: list[AccountAlert] = field(default_factory=list)
    held: Counted[PublishJob] | None = None
    failed: Counted[PublishJob] | None = None
    week: list[KeyFigure] | None = None  # managers only
    week_start: date | None = None


def _counted(rows: list[T], limit: int) -> Counted[T]:
    return Counted(rows[:limit], more=len(rows) > limit, total=len(rows))


def _renewable(account: ChannelAccount) -> bool:
    try:
        return get_connector(account.network).renewable(account)
    except UnknownNetwork:
        return False


def today_for(membership: Membership, *, now: datetime | None = None) -> Today:
    """Everything on the member's home page. Days ("today", "tomorrow") are the
    reader's own, in the time zone that is active for the request."""
    now = now or timezone.now()
    today = Today(now=now)
    visible = channel_accounts_for_membership(membership)

    if has_perm(membership, "posts.approve"):
        # Bounded: among the oldest posts in review only (the review queue has them all).
        oldest, beyond = posts_waiting_for_reviewer_first(membership)
        waiting = review_lines(membership, oldest)
        today.review = Counted(
            waiting[:SHOWN],
            more=beyond or len(waiting) > SHOWN,
            total=len(waiting),
            exact=not beyond,
        )

    if has_perm(membership, "inbox.reply"):
        mine = (
            inbox_items_for_membership(membership)
            .filter(
                assignee_id=membership.user_id,
                status__in=list(OPEN_STATUSES),
                sla_due_at__lt=now + DUE_SOON,
            )
            .select_related("channel_account")
            # What a line shows: not whole items and accounts (credentials decrypted).
            .only(
                "author_name",
                "author_handle",
                "text",
                "sla_due_at",
                "channel_account_id",
                "channel_account__handle",
            )
            .order_by("sla_due_at", "pk")
        )
        today.inbox = _counted(list(mine[: SHOWN + 1]), SHOWN)

    if has_perm(membership, "posts.view"):
        local_now = timezone.localtime(now)
        start = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
        days = [start.date(), (start + timedelta(days=1)).date()]
        end = timezone.make_aware(
            datetime.combine(days[1] + timedelta(days=1), datetime.min.time()),
            timezone.get_current_timezone(),
        )
        jobs = list(
            job_lines(membership)
            .filter(
                status__in=[JobStatus.PENDING, JobStatus.CLAIMED, JobStatus.RUNNING],
                due_at__gte=now,
                due_at__lt=end,
            )
            .order_by("due_at", "pk")[: SCHEDULE_SHOWN + 1]
        )
        by_day: dict[date, dict[int, AccountDay]] = {day: {} for day in days}
        for job in jobs[:SCHEDULE_SHOWN]:
            day = timezone.localtime(job.due_at).date()
            accounts = by_day.setdefault(day, {})
            if job.channel_account_id not in accounts:
                accounts[job.channel_account_id] = AccountDay(job.channel_account)
            accounts[job.channel_account_id].jobs.append(job)
        today.schedule = [
            ScheduleDay(
                day,
                sorted(by_day[day].values(), key=lambda row: (row.account.handle, row.account.pk)),
            )
            for day in days
        ]

        problems = job_lines(membership)
        held = list(problems.filter(status=JobStatus.HELD).order_by("due_at", "pk")[: SHOWN + 1])
        failed = list(
            problems.filter(status=JobStatus.FAILED, updated_at__gte=now - FAILED_WITHIN).order_by(
                "-updated_at", "-pk"
            )[: SHOWN + 1]
        )
        today.held = _counted(held, SHOWN)
        today.failed = _counted(failed, SHOWN)

    soon = now + timedelta(days=EXPIRY_NOTICE_DAYS)
    alerts = []
    for account in visible.filter(
        Q(status=AccountStatus.NEEDS_RECONNECT)
        | Q(
            status__in=[AccountStatus.ACTIVE, AccountStatus.PAUSED],
            credentials_expire_at__isnull=False,
            credentials_expire_at__lte=soon,
        )
    ).order_by("handle", "pk")[: SHOWN * 4]:
        reconnect = account.status == AccountStatus.NEEDS_RECONNECT
        if not reconnect and _renewable(account):
            continue  # the app renews it itself
        alerts.append(AccountAlert(account, reconnect, account.credentials_expire_at))
    today.accounts = alerts

    if has_perm(membership, "analytics.view"):
        zone = zone_of(membership.organization.time_zone)
        last = local_day(now, zone)
        first = last - timedelta(days=WEEK_DAYS - 1)
        dashboard = dashboard_build(
            scope=scope_for_membership(membership),
            filters=DashboardFilters(start=first, end=last),
            today=last,
            with_goals=False,
            with_details=False,
        )
        today.week = key_figures(dashboard)
        today.week_start = first
    return today


# What a job's line shows (the schedule, held and failed lists): loading whole jobs,
# posts, variants and accounts (credentials decrypted) cost more than the page's
# other lists together.
_JOB_LINE_FIELDS = (
    "due_at",
    "status",
    "hold_reason",
    "last_error_message",
    "post_id",
    "variant_id",
    "channel_account_id",
    "post__title",
    "variant__text",
    "variant__language",
    "channel_account__handle",
    "channel_account__display_name",
)


def job_lines(membership: Membership) -> QuerySet[PublishJob]:
    """The member's publish jobs with what a line of the home page shows."""
    jobs = PublishJob.objects.filter(organization_id=membership.organization_id)
    if not membership.all_accounts:
        jobs = jobs.filter(channel_account__in=channel_accounts_for_membership(membership))
    return jobs.select_related("post", "variant", "channel_account").only(*_JOB_LINE_FIELDS)


def review_lines(membership: Membership, posts: list[Post]) -> list[Post]:
    """The posts of ``posts`` the member may see: the approval policy says who decides
    across the organization, but a member limited to some accounts is shown only the
    posts reaching those accounts (or their own)."""
    if membership.all_accounts:
        return posts
    visible = set(channel_accounts_for_membership(membership).values_list("pk", flat=True))
    return [
        post
        for post in posts
        if post.created_by_id == membership.user_id
        or any(variant.channel_account_id in visible for variant in post.variants.all())
    ]
