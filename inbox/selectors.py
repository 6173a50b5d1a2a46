"""Reads of the inbox, always through the reader's membership (or, for the periodic
tasks, across organizations by state and never shown to a person).

The list is newest first and paged by keyset (``before`` = the last row's time
and id), so a page costs the same however deep it is, and its queries do not
grow with the number of rows shown: one for the rows (account and assignee
joined), one for their tags.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from django.core.cache import cache
from django.db.models import F, Prefetch, Q, QuerySet, Subquery
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.connectors.registry import UnknownNetwork, get_connector, networks
from accounts.models import AccountStatus, ChannelAccount
from accounts.selectors import channel_accounts_for_membership
from governance.models import Membership, Organization, User
from governance.selectors.access import PERMISSIONS, get_in_org
from inbox.models import (
    OPEN_STATUSES,
    InboxCursor,
    InboxItem,
    InboxNote,
    InboxSettings,
    Priority,
    PriorityWord,
    Reply,
    ReplyStatus,
    ResponsePolicy,
    SavedReply,
    SavedView,
    Tag,
)
from inbox.priority import WatchList, WatchWord
from inbox.sla import WorkingTime, business_due, parse_holidays
from publishing.models import PublishJob

PAGE_SIZE = 50
NEW_ROWS_LIMIT = 50
THREAD_LIMIT = 200

# --- organization rules ------------------------------------------------------------


def response_policy_for(organization: Organization) -> ResponsePolicy:
    """The organization's policy, or the default one (unsaved) when it has none yet."""
    policy = ResponsePolicy.objects.filter(organization=organization).first()
    return policy or ResponsePolicy(organization=organization)


def inbox_settings_for(organization: Organization) -> InboxSettings:
    settings = InboxSettings.objects.filter(organization=organization).first()
    return settings or InboxSettings(organization=organization)


# What the reply box of every item page needs of the organization's rules: kept in the
# cache until the settings, their approval lists or a saved reply change
# (``inbox_reply_setup_forget``, called by the signals in ``inbox.apps``), and an hour
# at most, for writes that send no signal.
REPLY_SETUP_TTL_SECONDS = 3600


def _reply_setup_key(organization_id: int) -> str:
    return f"inbox:reply-setup:v1:{organization_id}"


@dataclass(frozen=True)
class InboxReplySetup:
    """The organization's signature rule, approval rules and saved replies, as read once."""

    signature_rule: str
    # None when the organization has saved no settings (then nothing needs approval).
    approval_account_ids: frozenset[int] | None
    approval_tag_ids: frozenset[int]
    saved_replies: list[SavedReply]

    def needs_approval(self, account_id: int, tag_ids: Iterable[int]) -> bool:
        """``services.replies.reply_needs_approval``, from the cached rules (for showing)."""
        if self.approval_account_ids is None:
            return False
        return account_id in self.approval_account_ids or not self.approval_tag_ids.isdisjoint(
            tag_ids
        )


def inbox_reply_setup(organization_id: int) -> InboxReplySetup:
    key = _reply_setup_key(organization_id)
    setup = cache.get(key)
    if isinstance(setup, InboxReplySetup):
        return setup
    settings = InboxSettings.objects.filter(organization_id=organization_id).first()
    setup = InboxReplySetup(
        signature_rule=(settings or InboxSettings()).signature_rule,
        approval_account_ids=(
            None
            if settings is None
            else frozenset(settings.approval_accounts.values_list("pk", flat=True))
        ),
        approval_tag_ids=(
            frozenset()
            if settings is None
            else frozenset(settings.approval_tags.values_list("pk", flat=True))
        ),
        saved_replies=list(
            SavedReply.objects.filter(organization_id=organization_id).order_by(
                "title", "language", "pk"
            )
        ),
    )
    cache.set(key, setup, timeout=REPLY_SETUP_TTL_SECONDS)
    return setup


def inbox_reply_setup_forget(organization_id: int) -> None:
    """Drop the organization's cached reply setup: its settings or saved replies changed."""
    cache.delete(_reply_setup_key(organization_id))


@dataclass(frozen=True)
class SlaRules:
    """A policy read once, to give many items their due times."""

    schedule: WorkingTime
    target_hours: Decimal
    high_priority_target_hours: Decimal | None

    def due(self, start: datetime, priority: int) -> datetime | None:
        hours = self.target_hours
        if priority >= Priority.HIGH and self.high_priority_target_hours is not None:
            hours = self.high_priority_target_hours
        return business_due(start, float(hours), self.schedule)


def sla_rules_for(organization: Organization) -> SlaRules:
    policy = response_policy_for(organization)
    return SlaRules(
        schedule=WorkingTime(
            time_zone=organization.time_zone,
            working_days=frozenset(int(day) for day in policy.working_days),
            starts=policy.work_starts,
            ends=policy.work_ends,
            holidays=parse_holidays(policy.holidays),
        ),
        target_hours=Decimal(policy.target_hours),
        high_priority_target_hours=(
            Decimal(policy.high_priority_target_hours)
            if policy.high_priority_target_hours is not None
            else None
        ),
    )


def watch_list_for(organization_id: int) -> WatchList:
    return WatchList(
        WatchWord(word=word, level=level, prefix=prefix)
        for word, level, prefix in PriorityWord.objects.filter(
            organization_id=organization_id
        ).values_list("word", "level", "match_prefix")
    )


def priority_words_for(organization: Organization) -> QuerySet[PriorityWord]:
    return PriorityWord.objects.filter(organization=organization).order_by("word", "pk")


def tags_for(organization: Organization) -> QuerySet[Tag]:
    return Tag.objects.filter(organization=organization).order_by("name", "pk")


def saved_replies_for(organization: Organization) -> QuerySet[SavedReply]:
    return SavedReply.objects.filter(organization=organization).order_by("title", "language", "pk")


def saved_reply_get(organization: Organization, pk: int | str) -> SavedReply:
    return get_in_org(SavedReply.objects.all(), organization, pk=pk)


def saved_views_for(membership: Membership) -> QuerySet[SavedView]:
    return SavedView.objects.filter(
        organization_id=membership.organization_id, owner_id=membership.user_id
    ).order_by("name", "pk")


def saved_view_get(membership: Membership, pk: int | str) -> SavedView:
    return get_in_org(
        SavedView.objects.filter(owner_id=membership.user_id), membership.organization, pk=pk
    )


# --- items ----------------------------------------------------------------------------


def inbox_items_for_membership(membership: Membership) -> QuerySet[InboxItem]:
    """The items of every account the member may see."""
    items = InboxItem.objects.filter(organization_id=membership.organization_id)
    if not membership.all_accounts:
        # A subquery, not a list read first: one query fewer each time the items are read.
        visible = channel_accounts_for_membership(membership).values("pk")
        items = items.filter(channel_account_id__in=visible)
    return items


def inbox_item_get_for_membership(membership: Membership, pk: int | str) -> InboxItem:
    """One item; another organization's, or one of an account the member may not see, is a 404."""
    item = get_in_org(
        inbox_items_for_membership(membership).select_related("channel_account", "assignee"),
        membership.organization,
        pk=pk,
    )
    # The member's organization, read with the membership: not joined a second time.
    item.organization = membership.organization
    return item


AssigneeFilter = Literal["", "me", "none"] | int


@dataclass(frozen=True)
class InboxFilters:
    account: int | None = None
    network: str = ""
    status: str = ""
    assignee: AssigneeFilter = ""
    tag: int | None = None
    priority: int | None = None
    overdue: bool = False
    # Keyset position: rows older than this (time, id).
    before: tuple[datetime, int] | None = None

    @property
    def is_filtered(self) -> bool:
        return bool(
            self.account
            or self.network
            or self.status
            or self.assignee
            or self.tag
            or self.priority is not None
            or self.overdue
        )


def _filtered(
    items: QuerySet[InboxItem], filters: InboxFilters, user_id: int, now: datetime
) -> QuerySet[InboxItem]:
    if filters.account:
        items = items.filter(channel_account_id=filters.account)
    if filters.network:
        items = items.filter(network=filters.network)
    if filters.status:
        items = items.filter(status=filters.status)
    if filters.assignee == "me":
        items = items.filter(assignee_id=user_id)
    elif filters.assignee == "none":
        items = items.filter(assignee__isnull=True)
    elif isinstance(filters.assignee, int):
        items = items.filter(assignee_id=filters.assignee)
    if filters.tag:
        items = items.filter(tags__id=filters.tag)
    if filters.priority is not None:
        items = items.filter(priority=filters.priority)
    if filters.overdue:
        items = items.filter(status__in=list(OPEN_STATUSES), sla_due_at__lt=now)
    return items


# The list's order is (posted_at, id), newest first. A keyset position compares as
# a row value, ``(posted_at, id) < (X, Y)``: PostgreSQL seeks straight to it in the
# (organization, posted_at DESC, id DESC) index, where the equivalent
# ``posted_at < X OR (posted_at = X AND id < Y)`` reads and filters every index
# row from the newest one down (85,000 of them for an old item).
def _older_than(moment: datetime, pk: int) -> TupleLessThan:
    return TupleLessThan(Tuple(F("posted_at"), F("pk")), (moment, pk))


def _newer_than(moment: datetime, pk: int) -> TupleGreaterThan:
    return TupleGreaterThan(Tuple(F("posted_at"), F("pk")), (moment, pk))


def _for_api(items: QuerySet[InboxItem]) -> QuerySet[InboxItem]:
    # An account's credentials are decrypted as its row is read: rows never need them.
    return (
        items.select_related("channel_account", "assignee")
        .defer("channel_account__credentials")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
    )


# What a row of the list shows (``inbox.presentation.inbox_rows``), and nothing more:
# the item's JSON (payload, thread references, watch words), its account's settings and
# its assignee's account are never decoded for a row, and the tags come as names.
ROW_FIELDS = (
    "organization_id",
    "channel_account__handle",
    "network",
    "kind",
    "author_handle",
    "author_name",
    "text",
    "posted_at",
    "status",
    "assignee__full_name",
    "assignee__email",
    "priority",
    "sla_due_at",
    "deleted_on_network_at",
)


def _for_rows(items: QuerySet[InboxItem]) -> QuerySet[InboxItem]:
    return items.select_related("channel_account", "assignee").only(*ROW_FIELDS)


def inbox_tag_names(item_ids: Iterable[int]) -> dict[int, tuple[str, ...]]:
    """The names of each item's tags, alphabetical (one query, for any number of items)."""
    names: dict[int, list[str]] = {}
    pairs = (
        InboxItem.tags.through.objects.filter(inboxitem_id__in=list(item_ids))
        .order_by("tag__name")
        .values_list("inboxitem_id", "tag__name")
    )
    for item_id, name in pairs:
        names.setdefault(item_id, []).append(name)
    return {item_id: tuple(tags) for item_id, tags in names.items()}


@dataclass
class InboxPage:
    items: list[InboxItem]
    # Where the next (older) page starts, or None on the last page.
    next_before: tuple[datetime, int] | None


def _page(
    membership: Membership,
    filters: InboxFilters,
    *,
    limit: int,
    now: datetime | None,
    fetch: Callable[[QuerySet[InboxItem]], QuerySet[InboxItem]],
) -> InboxPage:
    now = now or timezone.now()
    items = _filtered(inbox_items_for_membership(membership), filters, membership.user_id, now)
    if filters.before is not None:
        moment, pk = filters.before
        items = items.filter(_older_than(moment, pk))
    rows = list(fetch(items).order_by("-posted_at", "-pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    next_before = (rows[-1].posted_at, rows[-1].pk) if more and rows else None
    return InboxPage(items=rows, next_before=next_before)


def inbox_item_list(
    membership: Membership,
    filters: InboxFilters,
    *,
    limit: int = PAGE_SIZE,
    now: datetime | None = None,
) -> InboxPage:
    """One page of the list, newest first, whole items (the API's). Two queries
    whatever ``limit`` is."""
    return _page(membership, filters, limit=limit, now=now, fetch=_for_api)


@dataclass
class InboxPageRows(InboxPage):
    # Each item's tag names (``inbox_tag_names``).
    tags: dict[int, tuple[str, ...]] = field(default_factory=dict)


def inbox_row_list(
    membership: Membership,
    filters: InboxFilters,
    *,
    limit: int = PAGE_SIZE,
    now: datetime | None = None,
) -> InboxPageRows:
    """One page of the list as its rows show it (``ROW_FIELDS``), newest first. Two
    queries whatever ``limit`` is."""
    page = _page(membership, filters, limit=limit, now=now, fetch=_for_rows)
    return InboxPageRows(
        items=page.items,
        next_before=page.next_before,
        tags=inbox_tag_names(item.pk for item in page.items),
    )


def inbox_new_items(
    membership: Membership,
    filters: InboxFilters,
    *,
    after_id: int,
    limit: int = NEW_ROWS_LIMIT,
    now: datetime | None = None,
) -> InboxPageRows:
    """Items that arrived since the row ``after_id`` (newest first), for the list's poll."""
    now = now or timezone.now()
    items = _filtered(inbox_items_for_membership(membership), filters, membership.user_id, now)
    rows = list(_for_rows(items.filter(pk__gt=after_id)).order_by("-posted_at", "-pk")[:limit])
    return InboxPageRows(
        items=rows, next_before=None, tags=inbox_tag_names(item.pk for item in rows)
    )


# Counts on the list stop here ("1000+"): counting every row of a large inbox on
# every load would cost more than the page itself.
COUNT_CAP = 1000


@dataclass(frozen=True)
class InboxCounts:
    new: int
    mine: int
    overdue: int
    cap: int = COUNT_CAP

    def shown(self, value: int) -> str:
        return f"{self.cap}+" if value >= self.cap else str(value)

    @property
    def new_shown(self) -> str:
        return self.shown(self.new)

    @property
    def mine_shown(self) -> str:
        return self.shown(self.mine)

    @property
    def overdue_shown(self) -> str:
        return self.shown(self.overdue)


def _capped(items: QuerySet[InboxItem], cap: int) -> int:
    # A LIMIT inside the count: each uses its index and stops at ``cap`` rows.
    return items.order_by()[:cap].count()


# The counts are cached per membership for a short while, under a version of the
# organization's inbox that every change of an item's status, assignee or due time
# moves on (``inbox_changed``), so a change shows on the next page load.
COUNTS_CACHE_SECONDS = 30


def _inbox_version_key(organization_id: int) -> str:
    return f"inbox-version:{organization_id}"


def inbox_changed(organization_id: int) -> None:
    """Items of the organization changed: counts cached before now are stale."""
    key = _inbox_version_key(organization_id)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, None)


def inbox_counts(membership: Membership, *, now: datetime | None = None) -> InboxCounts:
    """How many items are new, open and assigned to the reader, and overdue (each up
    to ``COUNT_CAP``; three small indexed queries, cached until the inbox changes or
    ``COUNTS_CACHE_SECONDS`` pass). ``now`` given: computed afresh."""
    if now is not None:
        return _inbox_counts(membership, now=now)
    version = cache.get_or_set(_inbox_version_key(membership.organization_id), 0, None)
    key = f"inbox-counts:{membership.organization_id}:{version}:{membership.pk}"
    counts = cache.get(key)
    if isinstance(counts, InboxCounts):
        return counts
    counts = _inbox_counts(membership, now=timezone.now())
    cache.set(key, counts, COUNTS_CACHE_SECONDS)
    return counts


def _inbox_counts(membership: Membership, *, now: datetime) -> InboxCounts:
    visible = inbox_items_for_membership(membership)
    open_statuses = list(OPEN_STATUSES)
    return InboxCounts(
        new=_capped(visible.filter(status="new"), COUNT_CAP),
        mine=_capped(
            visible.filter(assignee_id=membership.user_id, status__in=open_statuses), COUNT_CAP
        ),
        overdue=_capped(visible.filter(status__in=open_statuses, sla_due_at__lt=now), COUNT_CAP),
    )


def inbox_neighbours(
    membership: Membership, item: InboxItem
) -> tuple[InboxItem | None, InboxItem | None]:
    """The items just newer and just older than ``item`` in the unfiltered list (one
    query: each side is a seek in the list's index, then two rows by id)."""
    visible = inbox_items_for_membership(membership)
    newer = (
        visible.filter(_newer_than(item.posted_at, item.pk))
        .order_by("posted_at", "pk")
        .values("pk")[:1]
    )
    older = (
        visible.filter(_older_than(item.posted_at, item.pk))
        .order_by("-posted_at", "-pk")
        .values("pk")[:1]
    )
    newer_item = older_item = None
    for other in InboxItem.objects.filter(Q(pk=Subquery(newer)) | Q(pk=Subquery(older))).only(
        "pk", "posted_at", "author_handle", "author_name"
    ):
        if (other.posted_at, other.pk) > (item.posted_at, item.pk):
            newer_item = other
        else:
            older_item = other
    return newer_item, older_item


# --- threads ----------------------------------------------------------------------------


@dataclass
class ParentPost:
    """The post an item answers: ours (published from GovSocial, or an earlier reply
    from the inbox), someone else's that we hold, or one we only know by its id."""

    remote_id: str
    url: str = ""
    ours: bool = False
    text: str = ""
    # Our published post's page in Publishing, when we published it.
    post_url: str = ""
    post_title: str = ""
    item: InboxItem | None = None
    reply: Reply | None = None


@dataclass
class ThreadEntry:
    at: datetime
    item: InboxItem | None = None
    reply: Reply | None = None

    @property
    def ours(self) -> bool:
        return self.reply is not None


@dataclass
class Thread:
    parent: ParentPost | None
    root: ParentPost | None
    entries: list[ThreadEntry] = field(default_factory=list)
    truncated: bool = False


def _post_page(post_id: int) -> str:
    try:
        return reverse("publishing:post_detail", args=[post_id])
    except NoReverseMatch:
        return ""


def _published(account_id: int, remote_ids: Iterable[str]) -> dict[str, ParentPost]:
    """Our posts published from GovSocial among ``remote_ids``, by remote id."""
    ids = [remote_id for remote_id in remote_ids if remote_id]
    found: dict[str, ParentPost] = {}
    if not ids:
        return found
    jobs = (
        PublishJob.objects.filter(channel_account_id=account_id, remote_id__in=ids)
        .select_related("post", "variant")
        # What a parent post shows, not the whole job, post and variant.
        .only("remote_id", "remote_url", "post", "post__title", "variant", "variant__text")
        .order_by("pk")
    )
    for job in jobs:
        found[job.remote_id] = ParentPost(
            remote_id=job.remote_id,
            url=job.remote_url,
            ours=True,
            text=job.variant.text,
            post_url=_post_page(job.post_id),
            post_title=str(job.post),
        )
    return found


def _ref_post(ref: dict[str, object], known: dict[str, ParentPost]) -> ParentPost | None:
    remote_id = str(ref.get("remote_id") or "")
    if not remote_id:
        return None
    return known.get(remote_id) or ParentPost(remote_id=remote_id, url=str(ref.get("url") or ""))


# What the item page's conversation shows of each item and reply of a thread, and what
# ordering them needs (``_in_order``); the API's thread has them whole. The items'
# JSON (payload, references, watch words) and the people's whole rows are not read.
PAGE_THREAD_ITEM_FIELDS = (
    "channel_account_id",
    "remote_id",
    "author_handle",
    "author_name",
    "text",
    "url",
    "posted_at",
    "in_reply_to_remote_id",
    "deleted_on_network_at",
)
PAGE_THREAD_REPLY_FIELDS = (
    "item_id",
    "channel_account_id",
    "author__full_name",
    "author__email",
    "text",
    "status",
    "decided_by__full_name",
    "decided_by__email",
    "decision_comment",
    "remote_id",
    "remote_url",
    "error_message",
    "created_at",
    "sent_at",
)


def inbox_thread(item: InboxItem, *, for_page: bool = False) -> Thread:
    """The conversation ``item`` belongs to: what it answers, the thread's first post,
    and every item and reply of ours in it, oldest first (a few queries, bounded).
    ``for_page``: only what the item page shows of each (``PAGE_THREAD_*_FIELDS``)."""
    item_rows = InboxItem.objects.filter(
        channel_account_id=item.channel_account_id, thread_key=item.thread_key
    )
    reply_rows = (
        Reply.objects.filter(
            channel_account_id=item.channel_account_id, item__thread_key=item.thread_key
        )
        .exclude(status=ReplyStatus.REJECTED)
        .select_related("author", "decided_by")
    )
    if for_page:
        item_rows = item_rows.only(*PAGE_THREAD_ITEM_FIELDS)
        reply_rows = reply_rows.only(*PAGE_THREAD_REPLY_FIELDS)
    else:
        item_rows = item_rows.select_related("assignee")
    items = list(item_rows.order_by("posted_at", "pk")[: THREAD_LIMIT + 1])
    replies = list(reply_rows.order_by("created_at", "pk")[: THREAD_LIMIT + 1])
    truncated = len(items) > THREAD_LIMIT or len(replies) > THREAD_LIMIT
    items, replies = items[:THREAD_LIMIT], replies[:THREAD_LIMIT]
    root_id = str(item.thread_root.get("remote_id") or "") or item.thread_key
    parent_id = item.in_reply_to_remote_id
    known = _published(item.channel_account_id, {root_id, parent_id})
    for other in items:
        if other.remote_id in (root_id, parent_id) and other.pk != item.pk:
            known.setdefault(
                other.remote_id,
                ParentPost(remote_id=other.remote_id, url=other.url, text=other.text, item=other),
            )
    for reply in replies:
        if reply.remote_id and reply.remote_id in (root_id, parent_id):
            known.setdefault(
                reply.remote_id,
                ParentPost(
                    remote_id=reply.remote_id,
                    url=reply.remote_url,
                    ours=True,
                    text=reply.text,
                    reply=reply,
                ),
            )
    parent = _ref_post(item.in_reply_to, known) if parent_id else None
    root = None
    if root_id and root_id != item.remote_id and root_id != parent_id:
        root = known.get(root_id) or _ref_post(dict(item.thread_root), known)
    entries = [ThreadEntry(at=other.posted_at, item=other) for other in items]
    entries += [ThreadEntry(at=reply.sent_at or reply.created_at, reply=reply) for reply in replies]
    return Thread(parent=parent, root=root, entries=_in_order(entries), truncated=truncated)


def _in_order(entries: list[ThreadEntry]) -> list[ThreadEntry]:
    """Oldest first, but never before the message it answers: the times come from
    different clocks (the author's app, the network, ours) that may disagree by a
    second or more, while "answers" is certain."""
    by_remote: dict[str, ThreadEntry] = {}
    for entry in entries:
        if entry.item is not None:
            by_remote[entry.item.remote_id] = entry
        elif entry.reply is not None and entry.reply.remote_id:
            by_remote[entry.reply.remote_id] = entry
    by_item_pk = {entry.item.pk: entry for entry in entries if entry.item is not None}
    keys: dict[int, datetime] = {}

    def parent_of(entry: ThreadEntry) -> ThreadEntry | None:
        if entry.reply is not None:
            return by_item_pk.get(entry.reply.item_id)
        assert entry.item is not None
        return by_remote.get(entry.item.in_reply_to_remote_id)

    def key(entry: ThreadEntry, depth: int = 0) -> datetime:
        if id(entry) not in keys:
            keys[id(entry)] = entry.at  # guards against a cycle in bad data
            parent = parent_of(entry)
            if parent is not None and depth < THREAD_LIMIT:
                keys[id(entry)] = max(entry.at, key(parent, depth + 1) + timedelta(microseconds=1))
        return keys[id(entry)]

    return sorted(entries, key=lambda entry: (key(entry), entry.at))


# --- people -----------------------------------------------------------------------------


def members_who_may_see_account(
    organization_id: int, account_id: int, perm: str
) -> QuerySet[Membership]:
    """Active members whose role grants ``perm`` and who may see the account."""
    return (
        Membership.objects.filter(
            organization_id=organization_id,
            is_active=True,
            user__is_active=True,
            role__in=list(PERMISSIONS[perm]),
        )
        .filter(Q(all_accounts=True) | Q(channel_accounts__pk=account_id))
        .select_related("user")
        .distinct()
        .order_by("user__full_name", "user__email")
    )


def _assignable_memberships(organization_id: int) -> QuerySet[Membership]:
    return Membership.objects.filter(
        organization_id=organization_id,
        is_active=True,
        user__is_active=True,
        role__in=list(PERMISSIONS["inbox.reply"]),
    )


def assignable_members(organization_id: int, account_id: int | None = None) -> list[User]:
    """People an item can be assigned to: those who may answer in the inbox (and see
    the item's account, when one is given)."""
    memberships = _assignable_memberships(organization_id)
    if account_id is not None:
        memberships = memberships.filter(Q(all_accounts=True) | Q(channel_accounts__pk=account_id))
    return [
        m.user
        for m in memberships.select_related("user").distinct().order_by("user__full_name", "pk")
    ]


# The list's filter form offers the organization's people and tags on every list and
# item page: kept in the cache until a tag, membership or person changes
# (``inbox_filter_choices_forget``, called by the signals in ``inbox.apps``), and an
# hour at most, for writes that send no signal.
FILTER_CHOICES_TTL_SECONDS = 3600


def _filter_choices_key(organization_id: int) -> str:
    return f"inbox:filter-choices:v1:{organization_id}"


@dataclass(frozen=True)
class InboxFilterChoices:
    """(pk, label) pairs: the people items can be assigned to, and the tags."""

    people: list[tuple[int, str]]
    tags: list[tuple[int, str]]
    # Per person: None when they see all accounts, else the ids of those they see.
    accounts_of: dict[int, frozenset[int] | None]

    def people_for_account(self, account_id: int) -> list[tuple[int, str]]:
        """The people an item of this account can be assigned to (``assignable_members``
        with the account given)."""
        return [
            (pk, label)
            for pk, label in self.people
            if (seen := self.accounts_of.get(pk)) is None or account_id in seen
        ]


def inbox_filter_choices(organization_id: int) -> InboxFilterChoices:
    key = _filter_choices_key(organization_id)
    cached = cache.get(key)
    if cached is None:
        memberships = list(
            _assignable_memberships(organization_id)
            .select_related("user")
            .prefetch_related("channel_accounts")
            .order_by("user__full_name", "pk")
        )
        cached = {
            "people": [
                [
                    m.user.pk,
                    m.user.get_full_name(),
                    None
                    if m.all_accounts
                    else sorted(account.pk for account in m.channel_accounts.all()),
                ]
                for m in memberships
            ],
            "tags": [
                list(row)
                for row in Tag.objects.filter(organization_id=organization_id)
                .order_by("name", "pk")
                .values_list("pk", "name")
            ],
        }
        cache.set(key, cached, timeout=FILTER_CHOICES_TTL_SECONDS)
    return InboxFilterChoices(
        people=[(pk, label) for pk, label, _accounts in cached["people"]],
        tags=[(pk, name) for pk, name in cached["tags"]],
        accounts_of={
            pk: None if accounts is None else frozenset(accounts)
            for pk, _label, accounts in cached["people"]
        },
    )


def inbox_filter_choices_forget(organization_id: int) -> None:
    """Drop the organization's cached filter choices: a tag, membership or person changed."""
    cache.delete(_filter_choices_key(organization_id))


def replies_waiting_for_approval(membership: Membership) -> QuerySet[Reply]:
    visible = channel_accounts_for_membership(membership).values("pk")
    return (
        Reply.objects.filter(
            organization_id=membership.organization_id,
            status=ReplyStatus.PENDING_APPROVAL,
            channel_account__in=visible,
        )
        .select_related("item", "author", "channel_account")
        .order_by("created_at", "pk")
    )


def reply_get_for_membership(membership: Membership, pk: int | str) -> Reply:
    visible = channel_accounts_for_membership(membership).values("pk")
    return get_in_org(
        Reply.objects.filter(channel_account__in=visible).select_related(
            "item", "author", "channel_account", "organization"
        ),
        membership.organization,
        pk=pk,
    )


# --- sync (periodic tasks) ---------------------------------------------------------------


def inbox_networks() -> list[str]:
    """Networks whose connector can read an inbox."""
    names: list[str] = []
    for name in networks():
        try:
            if get_connector(name).capabilities.inbox:
                names.append(name)
        except UnknownNetwork:
            continue
    return names


def channel_accounts_due_for_sync(*, now: datetime | None = None) -> QuerySet[ChannelAccount]:
    """Active accounts on a network with an inbox, not told to wait (rate limit, back-off)."""
    now = now or timezone.now()
    deferred = InboxCursor.objects.filter(next_sync_at__gt=now).values("channel_account_id")
    return (
        ChannelAccount.objects.filter(status=AccountStatus.ACTIVE, network__in=inbox_networks())
        .exclude(pk__in=deferred)
        .order_by("pk")
    )


def inbox_cursor_for(account: ChannelAccount) -> InboxCursor | None:
    return InboxCursor.objects.filter(channel_account=account).first()


NOTES_LIMIT = 200


def inbox_notes_for(item: InboxItem) -> list[InboxNote]:
    """The team's notes on ``item`` (already fetched through the access layer), oldest first."""
    return list(
        item.notes.select_related("author")
        # A note shows its author's name, not their whole row.
        .only("item_id", "body", "created_at", "author__full_name", "author__email")
        .order_by("created_at", "pk")[:NOTES_LIMIT]
    )
