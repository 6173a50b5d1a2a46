"""Pulling items from the networks, and noticing items deleted there.

``inbox_sync_account`` reads an account's notifications from its stored cursor,
page by page. Each page's items and the cursor after it are written in one
transaction, so a run that fails part-way resumes where it stopped, and the
unique (account, remote id) constraint makes a repeated page harmless: the
same notification never becomes two items. The network's failures are
handled by kind: rate limited → wait as long as it asks; auth → the account
needs reconnecting; anything else → back off and try at a later tick.

Syncing is routine upkeep that changes nothing a person decided, so it writes
no audit entry; marking an item deleted on the network does.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.connectors.base import (
    AuthError,
    ConnectorError,
    InboxPage,
    RateLimited,
    RemoteRef,
)
from accounts.connectors.base import (
    InboxItem as RemoteItem,
)
from accounts.connectors.registry import UnknownNetwork, get_connector
from accounts.models import AccountStatus, ChannelAccount
from accounts.services import channel_account_record_error
from governance.services.audit import audit_record
from inbox.models import InboxCursor, InboxItem, ItemKind, Priority, Reply
from inbox.priority import WatchList, raised_priority
from inbox.selectors import SlaRules, inbox_changed, sla_rules_for, watch_list_for

logger = logging.getLogger(__name__)

# A run holds the account this long at a time (renewed with every page).
SYNC_LEASE = timedelta(minutes=5)
# Pages per run: the rest waits for the next tick, so one busy account never
# holds a worker for long.
MAX_PAGES_PER_RUN = 50
# Without a Retry-After, a rate limit waits this long.
DEFAULT_RATE_LIMIT_WAIT = timedelta(seconds=60)
# Back-off after failures: 1, 2, 4 … minutes, at most an hour.
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)
# Items younger than this are looked up now and then to notice deletions.
DELETION_WINDOW = timedelta(days=14)
DELETION_BATCH = 40

# Kept with the item to answer it: Bluesky's uri and cid; on Meta, what the item is
# (comment or message), its parent comment, and a message's sender and last message time.
REF_EXTRA_KEYS = (
    "uri",
    "cid",
    "graph_kind",
    "parent_id",
    "media_id",
    "recipient_id",
    "last_message_at",
)
KINDS = frozenset(ItemKind.values)


@dataclass(frozen=True)
class SyncResult:
    """How a run went: ``outcome`` is one of synced, deferred, busy, inactive,
    not_supported, rate_limited, auth_failed, failed."""

    outcome: str
    pages: int = 0
    new_items: int = 0
    error: str = ""


def _ref_dict(ref: RemoteRef | None) -> dict[str, Any]:
    if ref is None:
        return {}
    return {"remote_id": ref.remote_id, "url": ref.url, "extra": dict(ref.extra)}


def _ref_extra(remote: RemoteItem) -> dict[str, str]:
    """What the network needs to point at this item itself (Bluesky: uri and cid)."""
    raw = remote.raw or {}
    return {key: str(raw[key]) for key in REF_EXTRA_KEYS if raw.get(key)}


def _language(raw: dict[str, Any]) -> str:
    """The language the network tagged the post with (Mastodon ``language``, Bluesky
    ``langs``), or ""."""
    langs = raw.get("langs")
    first = langs[0] if isinstance(langs, list) and langs else ""
    return str(raw.get("language") or first or "")[:16]


@dataclass
class _Ingest:
    account: ChannelAccount
    sla: SlaRules
    watch: WatchList


def _thread_keys(account: ChannelAccount, items: Sequence[RemoteItem]) -> dict[str, str]:
    """The thread each new item belongs to, by its remote id.

    The network's thread root when it names one (Bluesky, the Sandbox); else the
    thread of the post it answers, when we hold that post (an item, or our reply);
    else the answered post itself; else the item starts a thread of its own."""
    parent_ids = {item.in_reply_to.remote_id for item in items if item.in_reply_to is not None}
    known: dict[str, str] = {}
    if parent_ids:
        known.update(
            InboxItem.objects.filter(channel_account=account, remote_id__in=parent_ids).values_list(
                "remote_id", "thread_key"
            )
        )
        known.update(
            Reply.objects.filter(channel_account=account, remote_id__in=parent_ids).values_list(
                "remote_id", "item__thread_key"
            )
        )
    keys: dict[str, str] = {}
    for item in items:  # oldest first, so an answer later in the page finds its parent
        if item.thread_root is not None and item.thread_root.remote_id:
            key = item.thread_root.remote_id
        elif item.in_reply_to is not None and item.in_reply_to.remote_id:
            parent = item.in_reply_to.remote_id
            key = keys.get(parent) or known.get(parent) or parent
        else:
            key = item.remote_id
        keys[item.remote_id] = key
    return keys


def _new_item(remote: RemoteItem, thread_key: str, ingest: _Ingest, now: datetime) -> InboxItem:
    account = ingest.account
    posted_at = min(remote.created_at, now) if remote.created_at else now
    matches = ingest.watch.matches(remote.text)
    priority = raised_priority(Priority.NORMAL, matches)
    raw = dict(remote.raw or {})
    return InboxItem(
        organization_id=account.organization_id,
        channel_account=account,
        network=account.network,
        remote_id=remote.remote_id[:300],
        kind=remote.kind if remote.kind in KINDS else ItemKind.MENTION,
        author_handle=remote.author_handle[:255],
        author_name=remote.author_name[:255],
        author_id=remote.author_id[:255],
        text=remote.text,
        url=remote.url[:500],
        language=_language(raw),
        posted_at=posted_at,
        received_at=now,
        in_reply_to=_ref_dict(remote.in_reply_to),
        in_reply_to_remote_id=(remote.in_reply_to.remote_id[:300] if remote.in_reply_to else ""),
        thread_root=_ref_dict(remote.thread_root),
        thread_key=thread_key[:300],
        ref_extra=_ref_extra(remote),
        raw=raw,
        priority=priority,
        matched_words=[match.word for match in matches],
        sla_due_at=ingest.sla.due(posted_at, priority),
        status_changed_at=now,
    )


def _store_page(
    *, ingest: _Ingest, cursor_id: int, fetched_from: str | None, page: InboxPage
) -> tuple[int, bool]:
    """Write one page's new items and the cursor after it, in one transaction.

    Returns (items added, whether to go on). If the stored cursor moved since
    this run read it (another run took over after our lease ran out), the items
    are still kept (duplicates are ignored) but the cursor is not moved back."""
    account = ingest.account
    now = timezone.now()
    with transaction.atomic():
        row = InboxCursor.objects.select_for_update().get(pk=cursor_id)
        ours = row.cursor == fetched_from
        remote_ids = [item.remote_id[:300] for item in page.items]
        existing = set(
            InboxItem.objects.filter(channel_account=account, remote_id__in=remote_ids).values_list(
                "remote_id", flat=True
            )
        )
        fresh: dict[str, RemoteItem] = {}
        for item in page.items:
            key = item.remote_id[:300]
            if key and key not in existing and key not in fresh:
                fresh[key] = item
        keys = _thread_keys(account, list(fresh.values()))
        new_items = [
            _new_item(remote, keys[remote.remote_id], ingest, now) for remote in fresh.values()
        ]
        # ignore_conflicts: a concurrent run may have written the same rows a moment ago.
        InboxItem.objects.bulk_create(new_items, batch_size=500, ignore_conflicts=True)
        if new_items:
            inbox_changed(account.organization_id)
        values: dict[str, Any] = {
            "leased_until": now + SYNC_LEASE,
            "items_synced": F("items_synced") + len(new_items),
        }
        if ours:
            values["cursor"] = page.next_cursor
        InboxCursor.objects.filter(pk=row.pk).update(**values)
    return len(new_items), ours


def _finish(cursor_id: int, **values: Any) -> None:
    InboxCursor.objects.filter(pk=cursor_id).update(leased_until=None, **values)


def _backoff(failures: int) -> timedelta:
    return min(BACKOFF_BASE * (2 ** max(failures - 1, 0)), BACKOFF_MAX)


def inbox_sync_account(
    *, account: ChannelAccount, max_pages: int | None = MAX_PAGES_PER_RUN
) -> SyncResult:
    """Read the account's new notifications into the inbox, from its stored cursor.

    Claims the account first (a conditional update: a second worker, or a
    doubled beat tick, finds it taken and does nothing). ``max_pages`` None
    reads until the network has no more.
    """
    if account.status != AccountStatus.ACTIVE:
        return SyncResult("inactive")
    try:
        connector = get_connector(account.network)
    except UnknownNetwork:
        return SyncResult("not_supported")
    if not connector.capabilities.inbox:
        return SyncResult("not_supported")
    row, _created = InboxCursor.objects.get_or_create(channel_account=account)
    now = timezone.now()
    claimed = (
        InboxCursor.objects.filter(pk=row.pk)
        .filter(Q(next_sync_at__isnull=True) | Q(next_sync_at__lte=now))
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .update(leased_until=now + SYNC_LEASE)
    )
    if not claimed:
        row.refresh_from_db()
        if row.next_sync_at is not None and row.next_sync_at > now:
            return SyncResult("deferred")
        return SyncResult("busy")
    row.refresh_from_db()
    ingest = _Ingest(
        account=account,
        sla=sla_rules_for(account.organization),
        watch=watch_list_for(account.organization_id),
    )
    cursor = row.cursor
    pages = added = 0
    try:
        while True:
            page = connector.fetch_inbox(account, cursor)
            count, ours = _store_page(
                ingest=ingest, cursor_id=row.pk, fetched_from=cursor, page=page
            )
            pages += 1
            added += count
            if not ours:
                break
            cursor = page.next_cursor
            if not page.has_more or (max_pages is not None and pages >= max_pages):
                break
    except RateLimited as exc:
        wait = timedelta(seconds=exc.retry_after) if exc.retry_after else DEFAULT_RATE_LIMIT_WAIT
        _finish(
            row.pk,
            next_sync_at=timezone.now() + wait,
            last_error=exc.message[:2000],
            last_error_kind=str(exc.kind),
        )
        return SyncResult("rate_limited", pages, added, exc.message)
    except AuthError as exc:
        _finish(row.pk, last_error=exc.message[:2000], last_error_kind=str(exc.kind))
        # Marks the account needs_reconnect and tells the people who look after it.
        channel_account_record_error(account=account, error=exc)
        return SyncResult("auth_failed", pages, added, exc.message)
    except ConnectorError as exc:
        failures = row.failures + 1
        _finish(
            row.pk,
            failures=failures,
            next_sync_at=timezone.now() + _backoff(failures),
            last_error=exc.message[:2000],
            last_error_kind=str(exc.kind),
        )
        logger.warning("Inbox sync of account %s failed (%s): %s", account.pk, exc.kind, exc.detail)
        return SyncResult("failed", pages, added, exc.message)
    except BaseException:
        # A bug or a time limit: free the account at once, keep what was stored.
        _finish(row.pk, failures=row.failures + 1)
        raise
    _finish(
        row.pk,
        failures=0,
        next_sync_at=None,
        last_synced_at=timezone.now(),
        last_error="",
        last_error_kind="",
    )
    return SyncResult("synced", pages, added)


# --- deleted on the network ----------------------------------------------------------


def inbox_item_mark_deleted_on_network(*, item: InboxItem, at: datetime | None = None) -> bool:
    """Mark an item as deleted by its author on the network. The item itself stays
    (it is part of the record); returns False when it was already marked."""
    at = at or timezone.now()
    with transaction.atomic():
        changed = InboxItem.objects.filter(pk=item.pk, deleted_on_network_at__isnull=True).update(
            deleted_on_network_at=at, deletion_checked_at=at
        )
        if not changed:
            return False
        item.deleted_on_network_at = at
        audit_record(
            action="inbox_item.deleted_on_network",
            organization=item.organization,
            target=item,
            new={"deleted_on_network_at": at.isoformat(), "remote_id": item.remote_id},
        )
    return True


def inbox_check_deleted(
    *, account: ChannelAccount, limit: int = DELETION_BATCH, now: datetime | None = None
) -> int:
    """Look up the account's recent items on the network (those checked longest ago
    first) and mark those that are gone. Returns how many were newly marked.

    Notifications of a deleted post simply vanish from the network's lists, so a
    sync never says "deleted": the post itself has to be looked up."""
    now = now or timezone.now()
    if account.status != AccountStatus.ACTIVE:
        return 0
    try:
        connector = get_connector(account.network)
    except UnknownNetwork:
        return 0
    if not connector.capabilities.metrics:
        return 0
    items = list(
        InboxItem.objects.filter(
            channel_account=account,
            deleted_on_network_at__isnull=True,
            posted_at__gte=now - DELETION_WINDOW,
        )
        .select_related("organization")
        .order_by(F("deletion_checked_at").asc(nulls_first=True), "pk")[:limit]
    )
    if not items:
        return 0
    refs = [
        RemoteRef(remote_id=item.remote_id, url=item.url, extra=dict(item.ref_extra))
        for item in items
    ]
    try:
        metrics = connector.fetch_post_metrics(account, refs)
    except AuthError as exc:
        channel_account_record_error(account=account, error=exc)
        return 0
    except ConnectorError as exc:
        logger.info("Deletion check of account %s skipped (%s)", account.pk, exc.kind)
        return 0
    gone = {metric.remote_id for metric in metrics if metric.deleted}
    InboxItem.objects.filter(pk__in=[item.pk for item in items]).update(deletion_checked_at=now)
    marked = 0
    for item in items:
        if item.remote_id in gone and inbox_item_mark_deleted_on_network(item=item, at=now):
            marked += 1
    return marked


def inbox_store_pushed_items(*, account: ChannelAccount, items: Sequence[RemoteItem]) -> int:
    """Keep items a network pushed (a webhook) rather than the cursor sync found: the same
    rules (threads, watch words, SLA), each item once. Returns how many were new."""
    ingest = _Ingest(
        account=account,
        sla=sla_rules_for(account.organization),
        watch=watch_list_for(account.organization_id),
    )
    now = timezone.now()
    with transaction.atomic():
        existing = set(
            InboxItem.objects.filter(
                channel_account=account, remote_id__in=[i.remote_id[:300] for i in items]
            ).values_list("remote_id", flat=True)
        )
        fresh = {i.remote_id[:300]: i for i in items if i.remote_id and i.remote_id not in existing}
        keys = _thread_keys(account, list(fresh.values()))
        rows = [_new_item(remote, keys[remote.remote_id], ingest, now) for remote in fresh.values()]
        InboxItem.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
