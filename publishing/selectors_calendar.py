"""Reads for the calendar pages and the iCalendar feed.

The calendar can hold thousands of posts a month, so these read plain values
(two queries, whatever the number of posts) rather than model instances with
prefetched relations: the pages only need a time, a status, the accounts and
the first words of each post.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import DateTimeField, Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy

from accounts.models import ChannelAccount
from accounts.selectors import channel_accounts_for_membership
from governance.models import Membership
from publishing.models import Campaign, Post, PostStatus, Variant
from publishing.selectors import (
    PostFilters,
    held_post_ids,
    one_of_ids,
    posts_for_membership,
)

# Posts with no time yet: written, in review, or approved and waiting to be scheduled.
UNSCHEDULED_STATUSES = (
    PostStatus.DRAFT,
    PostStatus.IN_REVIEW,
    PostStatus.CHANGES_REQUESTED,
    PostStatus.APPROVED,
)
FIRST_WORDS_CHARS = 60
# Up to this many posts, their variants are read by a list of the posts' ids.
INLINE_IDS_MAX = 1000
# What the calendar and lists show for a post with a target held back.
HELD = "held"
HELD_LABEL = gettext_lazy("Held")


def first_words(text: str, limit: int = FIRST_WORDS_CHARS) -> str:
    """The start of ``text`` on one line, cut at a word boundary."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] or text[:limit]
    return cut.rstrip(",.;:!?-") + "…"


# Not frozen: a frozen dataclass sets each field through object.__setattr__, which
# costs more than the rest of making one, and a week page makes hundreds.
@dataclass(slots=True)
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
    series_id: int | None = None  # an occurrence of a recurring post
    # A target is held back (crisis pause, account, review): it does not go out at ``at``.
    held: bool = False

    @property
    def shown_status(self) -> str:
        """The state the calendar shows: "held" for a scheduled post held back."""
        return HELD if self.held else self.status

    @property
    def status_label(self) -> str:
        return str(HELD_LABEL) if self.held else str(PostStatus(self.status).label)

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
        return self.summary_in_language[0]

    @property
    def summary_language(self) -> str:
        """The language of ``summary`` ("" for the title, written in the interface's)."""
        return self.summary_in_language[1]

    @property
    def summary_in_language(self) -> tuple[str, str]:
        """``summary`` and ``summary_language`` at once."""
        for target in self.targets:
            if target.text.strip():
                return first_words(target.text), target.language
        return first_words(self.title), ""


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
        posts.values_list(
            "pk", "status", "scheduled_at", "title", "campaign_id", "updated_at", "series_id"
        )
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
            series_id=series_id,
        )
        for pk, status, at, title, campaign_id, updated_at, series_id in rows
    }
    # The variants of those posts. A page's few hundred posts go by their ids, which the
    # database finds through the variants' post index (given the same ids as a subquery,
    # PostgreSQL read every variant of every post); more than that, the same filtered
    # query as a subquery, so it never sees a list of thousands of ids.
    chosen: list[int] | QuerySet[Post, Any] = (
        [pk for pk, *_rest in rows] if len(rows) <= INLINE_IDS_MAX else posts.values("pk")
    )
    variants = Variant.objects.filter(
        _variant_condition(filters),
        one_of_ids("post_id", chosen) if isinstance(chosen, list) else Q(post__in=chosen),
    )
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
    held = held_post_ids(membership.organization_id, chosen)
    ordered = [entries[pk] for pk, *_rest in rows]
    for entry in ordered:
        entry.targets = targets.get(entry.post_id, [])
        entry.held = entry.post_id in held
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
    if not days:
        return {}
    bounds = [local_midnight(day, tz) for day in days]
    bounds.append(local_midnight(days[-1] + timedelta(days=1), tz))
    by_slot = calendar_entries_by_slot(membership, bounds, filters, per_slot=per_day)
    return {days[index]: found for index, found in by_slot.items()}


def calendar_entries_by_slot(
    membership: Membership,
    bounds: Sequence[datetime],
    filters: PostFilters | None = None,
    per_slot: int | None = None,
) -> dict[int, DayEntries]:
    """The posts in consecutive time slots ``[bounds[n], bounds[n + 1])``, by slot ``n``.

    ``bounds`` never decrease (a slot may be empty: the hour the clocks skip). With
    ``per_slot``, only each slot's first ``per_slot`` posts are loaded and the
    database counts the rest: three queries however many posts there are (two
    without ``per_slot``)."""
    filters = filters or PostFilters()
    slots = len(bounds) - 1
    if slots < 1:
        return {}
    posts = _in_range(membership, bounds[0], bounds[-1], filters)
    grouped: dict[int, DayEntries] = {}
    if per_slot is None:
        slot = 0
        for entry in _entries(membership, posts, filters):
            assert entry.at is not None
            while entry.at >= bounds[slot + 1]:
                slot += 1
            found = grouped.setdefault(slot, DayEntries())
            found.entries.append(entry)
            found.total += 1
        return grouped
    chosen: dict[int, int] = {}
    if connection.vendor == "postgresql":
        for index, total, first in _first_per_slot(posts, bounds, per_slot):
            if total:
                grouped[index] = DayEntries(total=total)
                chosen.update(dict.fromkeys(first, index))
    else:
        # Each post's slot, found by halving the bounds over the posts' times (one
        # narrow query): in time order, a slot's posts follow one another.
        for pk, at in posts.values_list("pk", "scheduled_at"):
            assert at is not None  # a post in a slot has a time
            index = bisect_right(bounds, at) - 1
            found = grouped.setdefault(index, DayEntries())
            found.total += 1
            if found.total <= per_slot:
                chosen[pk] = index
    if not chosen:
        return grouped
    loaded = Post.objects.filter(one_of_ids("pk", chosen)).order_by("scheduled_at", "pk")
    for entry in _entries(membership, loaded, filters):
        grouped[chosen[entry.post_id]].entries.append(entry)
    return grouped


def _first_per_slot(
    posts: QuerySet[Post], bounds: Sequence[datetime], per_slot: int
) -> list[tuple[int, int, list[int]]]:
    """Each slot's index, its number of ``posts`` and the ids of its first ``per_slot``:
    one query (PostgreSQL), which reads each slot's posts through the (organization,
    time) index, counting them and taking the first few in index order. Numbering every
    post of a month with window functions instead sorted all of them twice."""
    in_slot = posts.order_by().filter(
        scheduled_at__gte=RawSQL("slot.starts", (), output_field=DateTimeField()),
        scheduled_at__lt=RawSQL("slot.ends", (), output_field=DateTimeField()),
    )
    count_sql, count_params = in_slot.values("pk").query.sql_with_params()
    first_sql, first_params = (
        in_slot.order_by("scheduled_at", "pk").values("pk")[:per_slot].query.sql_with_params()
    )
    moments = [moment.isoformat() for moment in bounds]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT slot.n - 1, (SELECT count(*) FROM ({count_sql}) AS counted), "  # noqa: S608
            f"ARRAY({first_sql}) FROM unnest(%s::timestamptz[], %s::timestamptz[]) "
            "WITH ORDINALITY AS slot(starts, ends, n)",
            (*count_params, *first_params, moments[:-1], moments[1:]),
        )
        return [(index, total, list(first)) for index, total, first in cursor.fetchall()]


def calendar_slot_entries(
    membership: Membership,
    start: datetime,
    end: datetime,
    filters: PostFilters | None = None,
    *,
    offset: int = 0,
) -> list[CalendarEntry]:
    """The posts of one slot ``[start, end)`` in time order, from the ``offset``-th on:
    the ones a page left out behind "N more". Two queries."""
    filters = filters or PostFilters()
    posts = _in_range(membership, start, end, filters)
    ids = list(posts.values_list("pk", flat=True)[offset:])
    if not ids:
        return []
    loaded = Post.objects.filter(one_of_ids("pk", ids)).order_by("scheduled_at", "pk")
    return _entries(membership, loaded, filters)


def local_midnight(day: date, tz: tzinfo) -> datetime:
    """The first instant of ``day`` in ``tz``."""
    return datetime.combine(day, time.min).replace(tzinfo=tz)


def local_hour_bounds(day: date, tz: tzinfo) -> list[datetime]:
    """The starts of ``day``'s 24 wall-clock hours in ``tz`` and the next midnight, in UTC.

    The hour the clocks skip is an empty slot; the hour they pass twice is one slot
    two hours long, so every post sits in the row of its local hour."""
    starts = [datetime.combine(day, time(hour)).replace(tzinfo=tz) for hour in range(24)]
    starts.append(local_midnight(day + timedelta(days=1), tz))
    return [start.astimezone(UTC) for start in starts]


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
        membership,
        Post.objects.filter(one_of_ids("pk", ids)).order_by("-updated_at", "-pk"),
        filters,
    ), total


@dataclass(frozen=True)
class FilterChoices:
    """What the calendar's filters offer this member: (pk, name) pairs and language codes."""

    accounts: Sequence[tuple[int, str]]
    campaigns: Sequence[tuple[int, str]]
    languages: Sequence[str]


# The organization's choices are read on every month and week page, and the languages
# come from a DISTINCT over all its variants: kept in the cache until something they
# are made of changes (``filter_choices_forget``, called by the signals in
# ``publishing.signals``), and an hour at most, for writes that send no signal.
FILTER_CHOICES_TTL_SECONDS = 3600


def _filter_choices_key(organization_id: int) -> str:
    return f"publishing:calendar-filter-choices:{organization_id}"


def _organization_filter_choices(organization_id: int) -> dict[str, Any]:
    key = _filter_choices_key(organization_id)
    cached = cache.get(key)
    if cached is not None:
        return cached
    choices: dict[str, Any] = {
        "accounts": [
            list(row)
            for row in ChannelAccount.objects.filter(organization_id=organization_id)
            .order_by("handle", "pk")
            .values_list("pk", "handle")
        ],
        "campaigns": [
            list(row)
            for row in Campaign.objects.filter(organization_id=organization_id).values_list(
                "pk", "name"
            )
        ],
        "languages": sorted(
            Variant.objects.filter(post__organization_id=organization_id)
            .order_by()
            .values_list("language", flat=True)
            .distinct()
        ),
    }
    cache.set(key, choices, timeout=FILTER_CHOICES_TTL_SECONDS)
    return choices


def filter_choices_forget(organization_id: int) -> None:
    """Drop the organization's cached filter choices: an account, campaign or variant changed."""
    cache.delete(_filter_choices_key(organization_id))


def filter_choices_know_language(organization_id: int, language: str) -> None:
    """A variant in ``language`` was saved: forget the cached choices if they lack it."""
    cached = cache.get(_filter_choices_key(organization_id))
    if cached is not None and language not in cached["languages"]:
        filter_choices_forget(organization_id)


def calendar_filter_choices(membership: Membership) -> FilterChoices:
    """The calendar's filter choices for this member: the organization's, from the cache,
    narrowed to the accounts a member limited to some accounts may see."""
    choices = _organization_filter_choices(membership.organization_id)
    accounts = [(pk, handle) for pk, handle in choices["accounts"]]
    if not membership.all_accounts:
        visible = set(channel_accounts_for_membership(membership).values_list("pk", flat=True))
        accounts = [(pk, handle) for pk, handle in accounts if pk in visible]
    return FilterChoices(
        accounts=accounts,
        campaigns=[(pk, name) for pk, name in choices["campaigns"]],
        languages=list(choices["languages"]),
    )
