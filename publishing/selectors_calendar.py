"""Reads for the calendar pages and the iCalendar feed.

The calendar can hold thousands of posts a month, so these read plain values
(two queries, whatever the number of posts) rather than model instances with
prefetched relations: the pages only need a time, a status, the accounts and
the first words of each post.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)

from accounts.models import ChannelAccount
from accounts.selectors import channel_accounts_for_membership
from governance.models import Membership
from publishing.models import Campaign, Post, PostStatus, Variant
from publishing.selectors import PostFilters, posts_for_membership

# Posts with no time yet: written, in review, or approved and waiting to be scheduled.
UNSCHEDULED_STATUSES = (
    PostStatus.DRAFT,
    PostStatus.IN_REVIEW,
    PostStatus.CHANGES_REQUESTED,
    PostStatus.APPROVED,
)
FIRST_WORDS_CHARS = 60


def first_words(text: str, limit: int = FIRST_WORDS_CHARS) -> str:
    """The start of ``text`` on one line, cut at a word boundary."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] or text[:limit]
    return cut.rstrip(",.;:!?-") + "…"


@dataclass(frozen=True)
class EntryTarget:
    """One variant of a post as the calendar shows it."""

    variant_id: int
    channel_account_id: int
    handle: str
    network: str
    language: str
    text: str


@dataclass
class CalendarEntry:
    """A post on the calendar: when, what state, where to and how it starts."""

    post_id: int
    status: str
    at: datetime | None  # UTC; None for a post with no time yet
    title: str
    campaign_id: int | None
    updated_at: datetime
    targets: list[EntryTarget] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return str(PostStatus(self.status).label)

    @property
    def handles(self) -> list[str]:
        seen: list[str] = []
        for target in self.targets:
            if target.handle not in seen:
                seen.append(target.handle)
        return seen

    @property
    def languages(self) -> list[str]:
        return sorted({target.language for target in self.targets})

    @property
    def summary(self) -> str:
        """The first words of the first variant's text, or the post's title."""
        for target in self.targets:
            if target.text.strip():
                return first_words(target.text)
        return first_words(self.title)


def _variant_condition(filters: PostFilters) -> Q:
    condition = Q()
    if filters.channel_account_ids:
        condition &= Q(channel_account_id__in=list(filters.channel_account_ids))
    if filters.languages:
        condition &= Q(language__in=list(filters.languages))
    return condition


def _filtered_posts(membership: Membership, filters: PostFilters) -> QuerySet[Post]:
    posts = posts_for_membership(membership)
    if filters.statuses:
        posts = posts.filter(status__in=list(filters.statuses))
    if filters.campaign_ids:
        posts = posts.filter(campaign_id__in=list(filters.campaign_ids))
    condition = _variant_condition(filters)
    if condition:
        posts = posts.filter(Exists(Variant.objects.filter(condition, post=OuterRef("pk"))))
    return posts


def _entries(
    membership: Membership, posts: QuerySet[Post], filters: PostFilters
) -> list[CalendarEntry]:
    rows = list(
        posts.values_list("pk", "status", "scheduled_at", "title", "campaign_id", "updated_at")
    )
    if not rows:
        return []
    entries = {
        pk: CalendarEntry(
            post_id=pk,
            status=status,
            at=at,
            title=title,
            campaign_id=campaign_id,
            updated_at=updated_at,
        )
        for pk, status, at, title, campaign_id, updated_at in rows
    }
    # The variants of those posts: the same filtered query as a subquery, so the
    # database never sees a list of thousands of ids.
    variants = Variant.objects.filter(_variant_condition(filters), post__in=posts.values("pk"))
    if not membership.all_accounts:
        # A member limited to some accounts sees only those accounts' variants.
        variants = variants.filter(
            channel_account__in=channel_accounts_for_membership(membership).values("pk")
        )
    targets: dict[int, list[EntryTarget]] = defaultdict(list)
    for post_id, variant_id, account_id, handle, network, language, text in variants.order_by(
        "channel_account__handle", "language", "pk"
    ).values_list(
        "post_id",
        "pk",
        "channel_account_id",
        "channel_account__handle",
        "channel_account__network",
        "language",
        "text",
    ):
        targets[post_id].append(
            EntryTarget(
                variant_id=variant_id,
                channel_account_id=account_id,
                handle=handle,
                network=network,
                language=language,
                text=text,
            )
        )
    ordered = [entries[pk] for pk, *_rest in rows]
    for entry in ordered:
        entry.targets = targets.get(entry.post_id, [])
    return ordered


def _in_range(
    membership: Membership, start: datetime, end: datetime, filters: PostFilters
) -> QuerySet[Post]:
    posts = _filtered_posts(membership, filters).filter(
        scheduled_at__gte=start, scheduled_at__lt=end
    )
    if not filters.statuses:
        posts = posts.exclude(status=PostStatus.CANCELLED)
    return posts.order_by("scheduled_at", "pk")


def calendar_entries(
    membership: Membership,
    start: datetime,
    end: datetime,
    filters: PostFilters | None = None,
) -> list[CalendarEntry]:
    """The member's posts whose time falls in ``[start, end)``, in time order.

    Two queries however many posts there are. Cancelled posts are left out
    unless the filters ask for them."""
    filters = filters or PostFilters()
    return _entries(membership, _in_range(membership, start, end, filters), filters)


@dataclass
class DayEntries:
    """A day's posts: the first ``per_day`` of them, and how many there are."""

    entries: list[CalendarEntry] = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> int:
        return self.total - len(self.entries)


def calendar_entries_by_day(
    membership: Membership,
    days: Sequence[date],
    tz: tzinfo,
    filters: PostFilters | None = None,
    per_day: int | None = None,
) -> dict[date, DayEntries]:
    """The posts of consecutive ``days`` grouped by their local day in ``tz``.

    Day boundaries are each day's local midnight, worked out here, so a day on
    which the clocks change has its true 23 or 25 hours. With ``per_day``, only
    each day's first ``per_day`` posts are loaded (a month holding thousands of
    posts shows a few a day and "N more"); the database counts the rest. Three
    queries however many posts there are."""
    filters = filters or PostFilters()
    if not days:
        return {}
    bounds = [local_midnight(day, tz) for day in days]
    bounds.append(local_midnight(days[-1] + timedelta(days=1), tz))
    posts = _in_range(membership, bounds[0], bounds[-1], filters)
    grouped: dict[date, DayEntries] = {}
    if per_day is None:
        for entry in _entries(membership, posts, filters):
            assert entry.at is not None
            found = grouped.setdefault(entry.at.astimezone(tz).date(), DayEntries())
            found.entries.append(entry)
            found.total += 1
        return grouped
    # How many posts each day holds, counted by the database: the stored UTC instants
    # compared with the day boundaries (no time zone arithmetic in SQL).
    counts = (
        posts.annotate(day_index=_day_index(bounds, 0, len(days)))
        .order_by()
        .values("day_index")
        .annotate(total=Count("pk"))
        .values_list("day_index", "total")
    )
    for index, total in counts:
        grouped[days[index]] = DayEntries(total=total)
    if not grouped:
        return grouped
    # The posts in time order are the days' posts one day after another: take the
    # first ``per_day`` of each day's run.
    ordered = list(posts.values_list("pk", flat=True))
    chosen: list[int] = []
    position = 0
    for day in days:
        total = grouped[day].total if day in grouped else 0
        chosen.extend(ordered[position : position + min(total, per_day)])
        position += total
    loaded = Post.objects.filter(pk__in=chosen).order_by("scheduled_at", "pk")
    for entry in _entries(membership, loaded, filters):
        assert entry.at is not None
        grouped[entry.at.astimezone(tz).date()].entries.append(entry)
    return grouped


def _day_index(bounds: Sequence[datetime], low: int, high: int) -> Case | Value:
    """SQL for the index ``n`` (``low <= n < high``) of the day ``[bounds[n], bounds[n + 1])``
    holding the post, found by halving: a handful of comparisons per row."""
    if high - low == 1:
        return Value(low)
    middle = (low + high) // 2
    return Case(
        When(scheduled_at__lt=bounds[middle], then=_day_index(bounds, low, middle)),
        default=_day_index(bounds, middle, high),
        output_field=IntegerField(),
    )


def local_midnight(day: date, tz: tzinfo) -> datetime:
    """The first instant of ``day`` in ``tz``."""
    return datetime.combine(day, time.min).replace(tzinfo=tz)


def unscheduled_entries(
    membership: Membership, filters: PostFilters | None = None, limit: int = 20
) -> tuple[list[CalendarEntry], int]:
    """Posts with no time yet (drafts, in review, approved), latest changed first:
    at most ``limit`` of them, and how many there are in all."""
    filters = filters or PostFilters()
    statuses = [s for s in UNSCHEDULED_STATUSES if not filters.statuses or s in filters.statuses]
    if not statuses:
        return [], 0
    posts = _filtered_posts(membership, filters).filter(
        scheduled_at__isnull=True, status__in=statuses
    )
    total = posts.count()
    if not total:
        return [], 0
    first = posts.order_by("-updated_at", "-pk")[:limit]
    # Sliced querysets cannot be reused as a subquery filter on every database.
    ids = list(first.values_list("pk", flat=True))
    return _entries(
        membership, Post.objects.filter(pk__in=ids).order_by("-updated_at", "-pk"), filters
    ), total


@dataclass(frozen=True)
class FilterChoices:
    """What the calendar's filters offer this member."""

    accounts: Sequence[ChannelAccount]
    campaigns: Sequence[Campaign]
    languages: Sequence[str]


def calendar_filter_choices(membership: Membership) -> FilterChoices:
    accounts = list(channel_accounts_for_membership(membership).order_by("handle", "pk"))
    campaigns = list(Campaign.objects.filter(organization_id=membership.organization_id))
    languages = sorted(
        Variant.objects.filter(post__organization_id=membership.organization_id)
        .order_by()
        .values_list("language", flat=True)
        .distinct()
    )
    return FilterChoices(accounts=accounts, campaigns=campaigns, languages=languages)
