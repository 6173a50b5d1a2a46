"""Listening reads, through the access layer: another organization's watch is a 404."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from accounts.connectors.registry import UnknownNetwork, get_connector
from accounts.models import ChannelAccount
from accounts.selectors import channel_accounts_for_membership
from governance.models import Membership
from governance.selectors.access import get_in_org, require_perm
from listening.models import (
    CaseStatus,
    ListeningPost,
    MisinformationCase,
    Watch,
    WatchAlert,
    WatchVolume,
)

STREAM_PAGE_SIZE = 25
# The most posts one API page may ask for.
STREAM_MAX_PAGE = 200
LANGUAGE_SAMPLE = 500


def watches_for_membership(membership: Membership) -> QuerySet[Watch]:
    require_perm(membership, "listening.view")
    return Watch.objects.filter(organization_id=membership.organization_id)


def watch_get_for_membership(membership: Membership, pk: int) -> Watch:
    return get_in_org(watches_for_membership(membership), membership.organization, pk=pk)


def searchable_accounts_for_membership(membership: Membership) -> list[ChannelAccount]:
    """The accounts this member may search through: visible to them, on a network whose
    connector can search."""
    accounts = []
    for account in channel_accounts_for_membership(membership).order_by("network", "handle"):
        try:
            connector = get_connector(account.network)
        except UnknownNetwork:
            continue
        if connector.listening.searchable:
            accounts.append(account)
    return accounts


def listening_post_get_for_membership(membership: Membership, pk: int) -> ListeningPost:
    require_perm(membership, "listening.view")
    return get_in_org(
        ListeningPost.objects.select_related("watch", "channel_account", "case", "inbox_item"),
        membership.organization,
        pk=pk,
    )


def cases_for_membership(membership: Membership) -> QuerySet[MisinformationCase]:
    require_perm(membership, "listening.view")
    return MisinformationCase.objects.filter(organization_id=membership.organization_id)


def case_get_for_membership(membership: Membership, pk: int) -> MisinformationCase:
    return get_in_org(cases_for_membership(membership), membership.organization, pk=pk)


def open_cases_for_membership(membership: Membership) -> QuerySet[MisinformationCase]:
    return cases_for_membership(membership).filter(status=CaseStatus.OPEN)


@dataclass(frozen=True)
class StreamFilters:
    network: str = ""
    language: str = ""
    misinformation: bool = False
    period_hours: int = 0


@dataclass(frozen=True)
class StreamCursor:
    """A place in the stream, between pages: a post's (time, id), the stream's order.
    In a link as ``<microseconds since the epoch>.<id>``."""

    posted_at: datetime
    pk: int

    def __str__(self) -> str:
        delta = self.posted_at - datetime(1970, 1, 1, tzinfo=UTC)
        return f"{delta // timedelta(microseconds=1)}.{self.pk}"

    @classmethod
    def of(cls, post: ListeningPost) -> StreamCursor:
        return cls(post.posted_at, post.pk)

    @classmethod
    def parse(cls, text: str) -> StreamCursor | None:
        """The cursor a link carries; None for anything else (a first page, not a 500)."""
        micros, _dot, pk = text.partition(".")
        if not (micros.lstrip("-").isdigit() and pk.isdigit()) or len(micros) > 20:
            return None
        try:
            moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(micros))
        except OverflowError:
            return None
        return cls(moment, int(pk))


@dataclass
class StreamPage:
    posts: list[ListeningPost]
    # Where the older and the newer pages start; None where there are none.
    older: StreamCursor | None
    newer: StreamCursor | None


def _stream_posts(watch: Watch, filters: StreamFilters) -> QuerySet[ListeningPost]:
    posts = ListeningPost.objects.filter(watch=watch)
    if filters.network:
        posts = posts.filter(network=filters.network)
    if filters.language:
        posts = posts.filter(language=filters.language)
    if filters.misinformation:
        posts = posts.filter(misinformation_at__isnull=False)
    if filters.period_hours:
        posts = posts.filter(posted_at__gte=timezone.now() - timedelta(hours=filters.period_hours))
    return posts


def _older_than(
    posts: QuerySet[ListeningPost], moment: datetime, pk: int
) -> QuerySet[ListeningPost]:
    """The posts after (moment, pk) in newest-first order. The bound on the time alone is
    what the index starts from (an OR of the two conditions would make a deep page walk
    from the top); the tie on the time is settled by the id."""
    return posts.filter(posted_at__lte=moment).exclude(posted_at=moment, pk__gte=pk)


def stream_page(
    watch: Watch,
    filters: StreamFilters,
    *,
    before: StreamCursor | None = None,
    after: StreamCursor | None = None,
) -> StreamPage:
    """One page of the stream, newest first, the posts older than ``before`` (or the
    newest posts newer than ``after``; or the newest of all): keyset pagination, so a
    page far down a million posts costs what the first does (an index on each filter,
    started at the cursor, a LIMIT, one row more to tell if there are more), in a
    constant number of queries whatever the store's size, and never a count."""
    posts = _stream_posts(watch, filters).select_related("case", "inbox_item")
    size = STREAM_PAGE_SIZE
    if after is not None:
        # The bound on the time alone is what the index starts from; the tie on the
        # time is settled by the id.
        newer = posts.filter(posted_at__gte=after.posted_at).exclude(
            posted_at=after.posted_at, pk__lte=after.pk
        )
        rows = list(newer.order_by("posted_at", "id")[: size + 1])
        if len(rows) > size:
            page = rows[:size][::-1]
            return StreamPage(page, older=StreamCursor.of(page[-1]), newer=StreamCursor.of(page[0]))
        # Back at the top: the newest page, full, rather than the few newer posts.
        return stream_page(watch, filters)
    if before is not None:
        posts = _older_than(posts, before.posted_at, before.pk)
    rows = list(posts.order_by("-posted_at", "-id")[: size + 1])
    page = rows[:size]
    return StreamPage(
        page,
        older=StreamCursor.of(page[-1]) if len(rows) > size else None,
        newer=StreamCursor.of(page[0]) if before is not None and page else None,
    )


def stream_after(
    watch: Watch,
    filters: StreamFilters,
    *,
    before: tuple[datetime, int] | None = None,
    limit: int = STREAM_PAGE_SIZE,
) -> tuple[list[ListeningPost], tuple[datetime, int] | None]:
    """The stream newest first from ``before`` (a post's (time, id), excluded), and
    where the next page starts (None on the last). Keyset paging on the stream's
    indexes: stable while new posts arrive, one query whatever the page's depth."""
    posts = _stream_posts(watch, filters)
    if before is not None:
        posts = _older_than(posts, *before)
    rows = list(posts.order_by("-posted_at", "-id")[: limit + 1])
    page = rows[:limit]
    following = (page[-1].posted_at, page[-1].pk) if len(rows) > limit else None
    return page, following


def alerts_for_membership(membership: Membership) -> QuerySet[WatchAlert]:
    require_perm(membership, "listening.view")
    return WatchAlert.objects.filter(watch__organization_id=membership.organization_id)


def alert_get_for_membership(membership: Membership, pk: int) -> WatchAlert:
    """An alert on one of the organization's watches; another's is a 404."""
    alert = alerts_for_membership(membership).select_related("watch").filter(pk=pk).first()
    if alert is None:
        raise Http404
    return alert


def stream_choices(watch: Watch, selected_language: str = "") -> tuple[list[str], list[str]]:
    """The networks and languages to filter by: the watch's accounts' networks, and the
    languages of its latest posts (a bounded read on the stream's index, whatever the
    store's size), with the one chosen now kept."""
    networks = sorted({a.network for a in watch.channel_accounts.all()})
    latest = ListeningPost.objects.filter(watch=watch).order_by("-posted_at", "-id")[
        :LANGUAGE_SAMPLE
    ]
    languages = {lang for lang in latest.values_list("language", flat=True) if lang}
    if selected_language:
        languages.add(selected_language[:16])
    return networks, sorted(languages)


@dataclass(frozen=True)
class VolumeRow:
    start: datetime
    count: int


def hourly_volume(watch: Watch, hours: int = 24) -> list[VolumeRow]:
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    starts = [now - timedelta(hours=h) for h in range(hours - 1, -1, -1)]
    counts = dict(
        WatchVolume.objects.filter(watch=watch, hour__gte=starts[0]).values_list("hour", "count")
    )
    return [VolumeRow(start, counts.get(start, 0)) for start in starts]


def daily_volume(watch: Watch, days: int = 14) -> list[VolumeRow]:
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    starts = [today - timedelta(days=d) for d in range(days - 1, -1, -1)]
    totals: dict[datetime, int] = dict.fromkeys(starts, 0)
    for hour, count in WatchVolume.objects.filter(watch=watch, hour__gte=starts[0]).values_list(
        "hour", "count"
    ):
        day = hour.replace(hour=0)
        if day in totals:
            totals[day] += count
    return [VolumeRow(start, totals[start]) for start in starts]


def recent_alerts(watch: Watch, limit: int = 10) -> list[WatchAlert]:
    return list(
        WatchAlert.objects.filter(watch=watch)
        .select_related("acknowledged_by")
        .order_by("-hour")[:limit]
    )


def watch_list_rows(membership: Membership) -> list[dict[str, object]]:
    since = timezone.now() - timedelta(hours=24)
    watches = (
        watches_for_membership(membership)
        .prefetch_related("channel_accounts")
        .annotate(day_count=Sum("volume__count", filter=Q(volume__hour__gte=since)))
    )
    return [
        {
            "watch": watch,
            "day_count": watch.day_count or 0,
            "accounts": ", ".join(a.handle for a in watch.channel_accounts.all()),
        }
        for watch in watches
    ]
