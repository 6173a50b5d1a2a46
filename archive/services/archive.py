"""The complete record: each account's own history, kept as the network shows it.

``archive_sync_account`` walks the account's posts (made through GovSocial or in the
network's own app) from the newest back to the first, a page per step. For each
post it keeps the current text, every version (Mastodon's status history; on a
network without one, each wording the archive itself saw) and the comments below it.
Each page and the network's cursor after it are written in one transaction, so a run
that stops part-way resumes where it stopped; unique constraints (and version keys
that hash a version's time and words) make a page read twice change nothing.

When a pass reaches the first post it starts again from the newest at a later run:
a post not seen in a whole pass, and a comment missing below its post, are looked up
on the network and, when the network confirms they are gone, marked
``found_gone_at`` (audited) and kept.

Every text kept is also written to ``RecordEntry``, the table the records search
reads (``archive.selectors``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from accounts.connectors.base import (
    ArchiveMedia,
    AuthError,
    Connector,
    ConnectorError,
    HistoryPage,
    HistoryPost,
    PostVersion,
    RateLimited,
    RemoteRef,
    ThreadComment,
)
from accounts.connectors.registry import UnknownNetwork, get_connector
from accounts.models import AccountStatus, ChannelAccount
from accounts.services import channel_account_record_error
from archive.models import (
    ArchiveCursor,
    ArchivedComment,
    ArchivedPost,
    ArchivedPostVersion,
    RecordEntry,
    RecordKind,
)
from governance.services.audit import audit_record
from inbox.models import (
    InboxItem,
    InboxNote,
    Reply,
)

logger = logging.getLogger(__name__)

SYNC_LEASE = timedelta(minutes=10)
MAX_PAGES_PER_RUN = 20
DEFAULT_RATE_LIMIT_WAIT = timedelta(seconds=60)
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)
# A new pass starts no sooner than this after the last one ended.
PASS_INTERVAL = timedelta(minutes=15)
# Comments below posts younger than this are read at every pass; older posts' only
# when the network's reply count changed or a day has gone by.
RECENT_POST_AGE = timedelta(days=30)
OLD_POST_RECHECK = timedelta(days=1)

# The text-search configuration for a language code (ISO 639-1); "simple" for the
# rest, and for any of these the database does not have (see ``search_config_for``).
SEARCH_CONFIGS = {
    "fi": "finnish",
    "sv": "swedish",
    "en": "english",
    "tr": "turkish",
    "id": "indonesian",
}


@lru_cache(maxsize=1)
def _available_configs() -> frozenset[str]:
    if connection.vendor != "postgresql":
        return frozenset()
    with connection.cursor() as cursor:
        cursor.execute("SELECT cfgname FROM pg_ts_config")
        return frozenset(row[0] for row in cursor.fetchall())


def search_config_for(language: str) -> str:
    """The PostgreSQL text-search configuration for ``language`` ("fi", "sv-FI", …):
    finnish, swedish, english, turkish or indonesian, else "simple". A configuration
    the server lacks (``indonesian`` came with PostgreSQL 13) falls back to simple."""
    code = (language or "").split("-")[0].split("_")[0].lower()
    config = SEARCH_CONFIGS.get(code, "simple")
    if config != "simple" and config not in _available_configs():
        return "simple"
    return config


@dataclass(frozen=True)
class ArchiveResult:
    """How a run went: ``outcome`` is synced, deferred, busy, inactive, not_supported,
    rate_limited, auth_failed or failed."""

    outcome: str
    pages: int = 0
    new_posts: int = 0
    new_versions: int = 0
    new_comments: int = 0
    found_gone: int = 0
    error: str = ""


@dataclass
class _Tally:
    pages: int = 0
    posts: int = 0
    versions: int = 0
    comments: int = 0
    gone: int = 0
    # Posts new or with a new version: their capture as they look is (re)made.
    to_capture: set[int] = field(default_factory=set)


@dataclass
class _PostRead:
    """What the network said about one post on this page."""

    post: HistoryPost
    versions: list[PostVersion] | None = None  # None: not asked
    comments: list[ThreadComment] | None = None  # None: not asked
    gone_comment_ids: set[str] = field(default_factory=set)


def _media(items: Iterable[ArchiveMedia]) -> list[dict[str, str]]:
    return [{"url": m.url, "alt_text": m.alt_text, "mime_type": m.mime_type} for m in items]


def _version_key(valid_from: datetime | None, text: str, warning: str) -> str:
    moment = valid_from.replace(microsecond=0).isoformat() if valid_from else ""
    return hashlib.sha256(f"{moment}\n{warning}\n{text}".encode()).hexdigest()


def _backoff(failures: int) -> timedelta:
    return min(BACKOFF_BASE * (2 ** max(failures - 1, 0)), BACKOFF_MAX)


# --- reading a page from the network ---------------------------------------------------


def _read_page(
    connector: Connector, account: ChannelAccount, page: HistoryPage, now: datetime
) -> list[_PostRead]:
    """Ask the network for what each post of the page needs: its versions when it is
    new or was edited since, its comments when they may have changed."""
    known = {
        post.remote_id: post
        for post in ArchivedPost.objects.filter(
            channel_account=account, remote_id__in=[p.ref.remote_id[:300] for p in page.posts]
        )
    }
    reads: list[_PostRead] = []
    for remote in page.posts:
        read = _PostRead(post=remote)
        stored = known.get(remote.ref.remote_id[:300])
        edited = remote.edited_at is not None and (
            stored is None or stored.edited_at != remote.edited_at
        )
        if edited:
            read.versions = connector.fetch_status_history(account, remote.ref)
        created = remote.created_at or now
        recheck = (
            stored is None
            or stored.replies_count != remote.replies
            or remote.replies is None
            or now - created < RECENT_POST_AGE
            or stored.comments_checked_at is None
            or now - stored.comments_checked_at > OLD_POST_RECHECK
        )
        if recheck:
            read.comments = connector.fetch_replies(account, remote.ref)
            if stored is not None:
                seen = {c.ref.remote_id[:300] for c in read.comments}
                missing = list(
                    ArchivedComment.objects.filter(post=stored, found_gone_at__isnull=True)
                    .exclude(remote_id__in=seen)
                    .values_list("remote_id", "url")
                )
                read.gone_comment_ids = _confirm_gone(connector, account, missing)
        reads.append(read)
    return reads


def _confirm_gone(
    connector: Connector, account: ChannelAccount, refs: Sequence[tuple[str, str]]
) -> set[str]:
    """Of these (remote id, url), the ones the network confirms are deleted. Missing from
    a list is not enough (a hidden or paginated reply is missing too): each is looked up."""
    if not refs or not connector.capabilities.metrics:
        return set()
    metrics = connector.fetch_post_metrics(
        account,
        [
            RemoteRef(remote_id=remote_id, url=url, extra={"uri": remote_id})
            for remote_id, url in refs
        ],
    )
    return {m.remote_id for m in metrics if m.deleted}


# --- writing --------------------------------------------------------------------------


def _entry(
    *,
    kind: str,
    object_id: int,
    organization_id: int,
    account_id: int | None,
    post_id: int | None,
    author: str,
    occurred_at: datetime,
    text: str,
    language: str,
    found_gone_at: datetime | None = None,
) -> RecordEntry:
    return RecordEntry(
        organization_id=organization_id,
        channel_account_id=account_id,
        kind=kind,
        object_id=object_id,
        post_id=post_id,
        author=author[:255],
        occurred_at=occurred_at,
        text=text,
        language=language[:16],
        search_config=search_config_for(language),
        found_gone_at=found_gone_at,
    )


def records_entries_upsert(entries: Sequence[RecordEntry]) -> None:
    """Write search entries, replacing those of the same (kind, object)."""
    if not entries:
        return
    RecordEntry.objects.bulk_create(
        entries,
        batch_size=500,
        update_conflicts=True,
        unique_fields=["kind", "object_id"],
        update_fields=[
            "author",
            "occurred_at",
            "text",
            "language",
            "search_config",
            "found_gone_at",
            "channel_account",
            "post",
        ],
    )


def _store_post(
    account: ChannelAccount, read: _PostRead, now: datetime, tally: _Tally
) -> ArchivedPost:
    remote = read.post
    posted_at = min(remote.created_at, now) if remote.created_at else now
    values: dict[str, Any] = {
        "organization_id": account.organization_id,
        "network": account.network,
        "url": remote.ref.url[:500],
        "text": remote.text,
        "content_warning": remote.content_warning,
        "language": remote.language[:16],
        "reply_to_remote_id": remote.reply_to_id[:300],
        "media": _media(remote.media),
        "posted_at": posted_at,
        "edited_at": remote.edited_at,
        "replies_count": remote.replies,
        "last_seen_at": now,
        "raw": dict(remote.raw),
    }
    post, created = ArchivedPost.objects.get_or_create(
        channel_account=account,
        remote_id=remote.ref.remote_id[:300],
        defaults={**values, "first_seen_at": now},
    )
    if created:
        tally.posts += 1
    else:
        for name, value in values.items():
            setattr(post, name, value)
        post.save(update_fields=list(values))
    # Every version the network lists; where it lists none, the wording seen now.
    versions = read.versions or [
        PostVersion(
            text=remote.text,
            created_at=remote.edited_at or posted_at,
            content_warning=remote.content_warning,
            media=remote.media,
        )
    ]
    rows = [
        ArchivedPostVersion(
            organization_id=account.organization_id,
            post=post,
            text=version.text,
            content_warning=version.content_warning,
            media=_media(version.media),
            valid_from=version.created_at,
            version_key=_version_key(version.created_at, version.text, version.content_warning),
            recorded_at=now,
        )
        for version in versions
    ]
    existing = set(
        ArchivedPostVersion.objects.filter(
            post=post, version_key__in=[r.version_key for r in rows]
        ).values_list("version_key", flat=True)
    )
    fresh = {r.version_key: r for r in rows if r.version_key not in existing}
    ArchivedPostVersion.objects.bulk_create(list(fresh.values()), ignore_conflicts=True)
    tally.versions += len(fresh)
    if fresh or not post.capture:
        tally.to_capture.add(post.pk)
    entries = [
        _entry(
            kind=RecordKind.POST,
            object_id=post.pk,
            organization_id=account.organization_id,
            account_id=account.pk,
            post_id=post.pk,
            author=account.handle,
            occurred_at=post.posted_at,
            text="\n".join(filter(None, [post.content_warning, post.text])),
            language=post.language,
            found_gone_at=post.found_gone_at,
        )
    ]
    current_key = _version_key(
        versions[-1].created_at, versions[-1].text, versions[-1].content_warning
    )
    for version in ArchivedPostVersion.objects.filter(post=post).exclude(version_key=current_key):
        entries.append(
            _entry(
                kind=RecordKind.POST_VERSION,
                object_id=version.pk,
                organization_id=account.organization_id,
                account_id=account.pk,
                post_id=post.pk,
                author=account.handle,
                occurred_at=version.valid_from or post.posted_at,
                text="\n".join(filter(None, [version.content_warning, version.text])),
                language=post.language,
            )
        )
    records_entries_upsert(entries)
    return post


def _store_comments(
    account: ChannelAccount, post: ArchivedPost, read: _PostRead, now: datetime, tally: _Tally
) -> None:
    if read.comments is None:
        return
    stored = {
        c.remote_id: c
        for c in ArchivedComment.objects.filter(
            channel_account=account,
            remote_id__in=[c.ref.remote_id[:300] for c in read.comments],
        )
    }
    entries: list[RecordEntry] = []
    for remote in read.comments:
        key = remote.ref.remote_id[:300]
        comment = stored.get(key)
        if comment is None:
            comment = ArchivedComment.objects.create(
                organization_id=account.organization_id,
                channel_account=account,
                post=post,
                remote_id=key,
                url=remote.ref.url[:500],
                author_handle=remote.author_handle[:255],
                author_name=remote.author_name[:255],
                author_id=remote.author_id[:255],
                text=remote.text,
                language=remote.language[:16],
                in_reply_to_remote_id=remote.in_reply_to_id[:300],
                posted_at=min(remote.created_at, now) if remote.created_at else now,
                edited_at=remote.edited_at,
                first_seen_at=now,
                last_seen_at=now,
            )
            stored[key] = comment
            tally.comments += 1
        else:
            fields = ["last_seen_at"]
            comment.last_seen_at = now
            if comment.text != remote.text:
                comment.earlier_texts = [
                    *comment.earlier_texts,
                    {
                        "text": comment.text,
                        "until": (remote.edited_at or now).isoformat(),
                    },
                ]
                comment.text = remote.text
                comment.edited_at = remote.edited_at or now
                fields += ["earlier_texts", "text", "edited_at"]
            comment.save(update_fields=fields)
        entries.append(_comment_entry(comment))
    records_entries_upsert(entries)
    ArchivedPost.objects.filter(pk=post.pk).update(comments_checked_at=now)
    if read.gone_comment_ids:
        for comment in ArchivedComment.objects.filter(
            post=post, remote_id__in=read.gone_comment_ids, found_gone_at__isnull=True
        ):
            if archive_mark_found_gone(target=comment, at=now):
                tally.gone += 1


def _comment_entry(comment: ArchivedComment) -> RecordEntry:
    return _entry(
        kind=RecordKind.COMMENT,
        object_id=comment.pk,
        organization_id=comment.organization_id,
        account_id=comment.channel_account_id,
        post_id=comment.post_id,
        author=comment.author_handle or comment.author_name,
        occurred_at=comment.posted_at,
        text=comment.text,
        language=comment.language,
        found_gone_at=comment.found_gone_at,
    )


def archive_mark_found_gone(*, target: ArchivedPost | ArchivedComment, at: datetime) -> bool:
    """Mark a post or comment the network no longer has: it stays in the record, with
    when it was found gone. Audited; False when it was already marked."""
    model = type(target)
    with transaction.atomic():
        changed = model.objects.filter(pk=target.pk, found_gone_at__isnull=True).update(
            found_gone_at=at
        )
        if not changed:
            return False
        target.found_gone_at = at
        kind = RecordKind.POST if isinstance(target, ArchivedPost) else RecordKind.COMMENT
        RecordEntry.objects.filter(kind=kind, object_id=target.pk).update(found_gone_at=at)
        audit_record(
            action=f"archive.{kind}_found_gone",
            organization=target.channel_account.organization,
            target=target,
            new={"found_gone_at": at.isoformat(), "remote_id": target.remote_id},
        )
    return True


def _store_page(
    *,
    account: ChannelAccount,
    cursor_id: int,
    fetched_from: str | None,
    page: HistoryPage,
    reads: list[_PostRead],
    tally: _Tally,
) -> bool:
    """One page's posts, versions and comments and the cursor after it, in one
    transaction. False when another run moved the cursor meanwhile (the rows are
    still kept; the cursor is not moved back)."""
    now = timezone.now()
    with transaction.atomic():
        row = ArchiveCursor.objects.select_for_update().get(pk=cursor_id)
        ours = row.cursor == fetched_from
        for read in reads:
            post = _store_post(account, read, now, tally)
            _store_comments(account, post, read, now, tally)
        values: dict[str, Any] = {"leased_until": now + SYNC_LEASE}
        if ours:
            values["cursor"] = page.next_cursor
        ArchiveCursor.objects.filter(pk=row.pk).update(**values)
    return ours


def _end_pass(
    connector: Connector, account: ChannelAccount, row: ArchiveCursor, tally: _Tally
) -> None:
    """The walk reached the first post: posts not seen since the pass began are looked
    up, and those the network confirms gone are marked."""
    started = row.pass_started_at
    now = timezone.now()
    if started is not None:
        unseen = list(
            ArchivedPost.objects.filter(
                channel_account=account, found_gone_at__isnull=True, last_seen_at__lt=started
            ).select_related("channel_account__organization")
        )
        gone = _confirm_gone(connector, account, [(p.remote_id, p.url) for p in unseen])
        for post in unseen:
            if post.remote_id in gone and archive_mark_found_gone(target=post, at=now):
                tally.gone += 1
    ArchiveCursor.objects.filter(pk=row.pk).update(
        cursor=None, pass_started_at=None, passes_completed=row.passes_completed + 1
    )


def archived_post_capture(*, post: ArchivedPost) -> None:
    """(Re)make the post's capture as it looks (a PDF) and store it with the post."""
    from django.core.files.base import ContentFile

    from archive.capture import render_capture

    content = render_capture(post)
    previous = post.capture.name if post.capture else ""
    post.capture.save("capture.pdf", ContentFile(content), save=False)
    post.captured_at = timezone.now()
    post.save(update_fields=["capture", "captured_at"])
    if previous and previous != post.capture.name:
        post.capture.storage.delete(previous)


def _capture_posts(tally: _Tally) -> None:
    posts = ArchivedPost.objects.filter(pk__in=tally.to_capture).select_related("channel_account")
    for post in posts:
        archived_post_capture(post=post)
    tally.to_capture.clear()


def _finish(cursor_id: int, **values: Any) -> None:
    ArchiveCursor.objects.filter(pk=cursor_id).update(leased_until=None, **values)


def archive_sync_account(
    *, account: ChannelAccount, max_pages: int | None = MAX_PAGES_PER_RUN
) -> ArchiveResult:
    """Read the account's own history into the archive, from its stored cursor.

    Claimed first with a conditional update, so a second worker (or a doubled beat
    tick) finds the account taken. ``max_pages`` None reads to the end of the pass."""
    if account.status != AccountStatus.ACTIVE:
        return ArchiveResult("inactive")
    try:
        connector = get_connector(account.network)
    except UnknownNetwork:
        return ArchiveResult("not_supported")
    if not connector.capabilities.archive:
        return ArchiveResult("not_supported")
    row, _created = ArchiveCursor.objects.get_or_create(channel_account=account)
    now = timezone.now()
    claimed = (
        ArchiveCursor.objects.filter(pk=row.pk)
        .filter(Q(next_sync_at__isnull=True) | Q(next_sync_at__lte=now))
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .update(leased_until=now + SYNC_LEASE)
    )
    if not claimed:
        row.refresh_from_db()
        if row.next_sync_at is not None and row.next_sync_at > now:
            return ArchiveResult("deferred")
        return ArchiveResult("busy")
    row.refresh_from_db()
    if row.cursor is None and row.pass_started_at is None:
        ArchiveCursor.objects.filter(pk=row.pk).update(pass_started_at=now)
        row.pass_started_at = now
    tally = _Tally()
    cursor = row.cursor
    ended = False
    try:
        while True:
            page = connector.fetch_own_history(account, cursor)
            reads = _read_page(connector, account, page, timezone.now())
            ours = _store_page(
                account=account,
                cursor_id=row.pk,
                fetched_from=cursor,
                page=page,
                reads=reads,
                tally=tally,
            )
            tally.pages += 1
            _capture_posts(tally)
            if not ours:
                break
            cursor = page.next_cursor
            if cursor is None:
                _end_pass(connector, account, row, tally)
                ended = True
                break
            if max_pages is not None and tally.pages >= max_pages:
                break
    except RateLimited as exc:
        wait = timedelta(seconds=exc.retry_after) if exc.retry_after else DEFAULT_RATE_LIMIT_WAIT
        _finish(
            row.pk,
            next_sync_at=timezone.now() + wait,
            last_error=exc.message[:2000],
            last_error_kind=str(exc.kind),
        )
        return _result("rate_limited", tally, exc.message)
    except AuthError as exc:
        _finish(row.pk, last_error=exc.message[:2000], last_error_kind=str(exc.kind))
        channel_account_record_error(account=account, error=exc)
        return _result("auth_failed", tally, exc.message)
    except ConnectorError as exc:
        failures = row.failures + 1
        _finish(
            row.pk,
            failures=failures,
            next_sync_at=timezone.now() + _backoff(failures),
            last_error=exc.message[:2000],
            last_error_kind=str(exc.kind),
        )
        logger.warning(
            "Archive sync of account %s failed (%s): %s", account.pk, exc.kind, exc.detail
        )
        return _result("failed", tally, exc.message)
    except BaseException:
        _finish(row.pk, failures=row.failures + 1)
        raise
    _finish(
        row.pk,
        failures=0,
        next_sync_at=timezone.now() + PASS_INTERVAL if ended else None,
        last_synced_at=timezone.now(),
        last_error="",
        last_error_kind="",
    )
    return _result("synced", tally)


def _result(outcome: str, tally: _Tally, error: str = "") -> ArchiveResult:
    return ArchiveResult(
        outcome,
        pages=tally.pages,
        new_posts=tally.posts,
        new_versions=tally.versions,
        new_comments=tally.comments,
        found_gone=tally.gone,
        error=error,
    )


# --- the inbox's own texts in the search ------------------------------------------------


def records_index_inbox(*, organization_id: int | None = None, batch: int = 2000) -> int:
    """Write search entries for inbox items, our replies and internal notes not yet in
    the search (those with an id above the highest indexed one, per kind). Returns how
    many were written. Run by the archive tick; the records search runs it too, so
    what arrived a moment ago is found."""
    written = 0
    sources: list[tuple[str, Any]] = [
        (RecordKind.INBOX_ITEM, InboxItem.objects.all()),
        (RecordKind.REPLY, Reply.objects.select_related("author", "item")),
        (RecordKind.NOTE, InboxNote.objects.select_related("author", "item")),
    ]
    for kind, queryset in sources:
        indexed = RecordEntry.objects.filter(kind=kind)
        if organization_id is not None:
            indexed = indexed.filter(organization_id=organization_id)
            queryset = queryset.filter(organization_id=organization_id)
        high = indexed.aggregate(high=Max("object_id"))["high"] or 0
        while True:
            rows = list(queryset.filter(pk__gt=high).order_by("pk")[:batch])
            if not rows:
                break
            records_entries_upsert([_inbox_entry(kind, row) for row in rows])
            written += len(rows)
            high = rows[-1].pk
    return written


def _inbox_entry(kind: str, row: Any) -> RecordEntry:
    if kind == RecordKind.INBOX_ITEM:
        item: InboxItem = row
        return _entry(
            kind=kind,
            object_id=item.pk,
            organization_id=item.organization_id,
            account_id=item.channel_account_id,
            post_id=None,
            author=item.author_handle or item.author_name,
            occurred_at=item.posted_at,
            text=item.text,
            language=item.language,
            found_gone_at=item.deleted_on_network_at,
        )
    if kind == RecordKind.REPLY:
        reply: Reply = row
        return _entry(
            kind=kind,
            object_id=reply.pk,
            organization_id=reply.organization_id,
            account_id=reply.channel_account_id,
            post_id=None,
            author=reply.author.email if reply.author else "",
            occurred_at=reply.sent_at or reply.created_at,
            text=reply.text,
            language=reply.item.language,
        )
    note: InboxNote = row
    return _entry(
        kind=kind,
        object_id=note.pk,
        organization_id=note.organization_id,
        account_id=note.item.channel_account_id,
        post_id=None,
        author=note.author.email if note.author else "",
        occurred_at=note.created_at,
        text=note.body,
        language=note.item.language,
    )


def records_entries_forget(*, kind: str, object_ids: Iterable[int]) -> int:
    """Drop the search entries of records disposed of (deleted by a retention rule)."""
    deleted, _ = RecordEntry.objects.filter(kind=kind, object_id__in=list(object_ids)).delete()
    return deleted


def records_inbox_items_disposed(*, ids: Sequence[int], action: str) -> None:
    """Inbox items are being disposed of (their replies and notes with them): their
    texts leave the records search with them, or lose their author when anonymized."""
    from governance.providers import ACTION_DELETE

    entries = RecordEntry.objects.filter(
        Q(kind=RecordKind.INBOX_ITEM, object_id__in=ids)
        | Q(kind=RecordKind.REPLY, object_id__in=Reply.objects.filter(item_id__in=ids).values("pk"))
        | Q(
            kind=RecordKind.NOTE,
            object_id__in=InboxNote.objects.filter(item_id__in=ids).values("pk"),
        )
    )
    if action == ACTION_DELETE:
        entries.delete()
    else:
        entries.update(author="")
