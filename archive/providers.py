"""The complete record as a record type of governance's records export."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy

from archive.models import (
    ArchivedComment,
    ArchivedPost,
    ArchivedPostVersion,
    RecordEntry,
    RecordKind,
)
from governance.models import Organization
from governance.providers import (
    ACTION_ANONYMIZE,
    ACTION_DELETE,
    DisposalResult,
    ExportFile,
    HoldScope,
    Record,
    held_q,
)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


class ArchiveRecords:
    """The complete record: each account's own posts as the network showed them (made
    through GovSocial or not), every version of each, the comments below them, and
    each post's capture as it looked (a PDF). Dated by when the post was made. Posts
    and comments deleted on the network stay, marked with when they were found gone.

    Anonymizing removes who wrote each comment; the words stay. Deleting removes the
    posts with their versions and comments.

    A records search can be exported too (``count_search``/``iter_search``): one
    record per match, each with the archived post it belongs to.
    """

    key = "archive"
    label = gettext_lazy("Archived posts, versions and comments")
    actions = frozenset({ACTION_DELETE, ACTION_ANONYMIZE})

    def _posts(
        self,
        organization: Organization,
        accounts: Sequence[int],
        start: datetime | None,
        end: datetime | None,
    ) -> QuerySet[ArchivedPost]:
        posts = ArchivedPost.objects.filter(organization=organization)
        if accounts:
            posts = posts.filter(channel_account_id__in=list(accounts))
        if start is not None:
            posts = posts.filter(posted_at__gte=start)
        if end is not None:
            posts = posts.filter(posted_at__lt=end)
        return posts

    def count_records(
        self,
        organization: Organization,
        accounts: Sequence[int],
        start: datetime | None,
        end: datetime | None,
    ) -> int:
        return self._posts(organization, accounts, start, end).count()

    def iter_records(
        self,
        organization: Organization,
        accounts: Sequence[int],
        start: datetime | None,
        end: datetime | None,
    ) -> Iterator[Record]:
        posts = (
            self._posts(organization, accounts, start, end)
            .select_related("channel_account")
            .prefetch_related(
                Prefetch("versions", queryset=ArchivedPostVersion.objects.order_by("valid_from")),
                Prefetch("comments", queryset=ArchivedComment.objects.order_by("posted_at")),
            )
            .order_by("posted_at", "pk")
        )
        for post in posts.iterator(chunk_size=200):
            data = archived_post_data(post)
            yield Record(
                id=str(post.pk), occurred_at=post.posted_at, data=data, media=_capture(post)
            )

    # --- a records search, exported -------------------------------------------------

    def _matches(
        self,
        organization: Organization,
        accounts: Sequence[int],
        start: datetime | None,
        end: datetime | None,
        search: dict[str, Any],
    ) -> QuerySet[RecordEntry]:
        from archive.selectors import (
            RecordQuery,
            records_search_all,
        )

        query = RecordQuery.from_dict(search)
        query = RecordQuery(
            text=query.text,
            account_ids=tuple(accounts) or query.account_ids,
            start=start or query.start,
            end=end or query.end,
            author=query.author,
            kinds=query.kinds,
        )
        return records_search_all(organization, query, visible_account_ids=None)

    def count_search(
        self,
        organization: Organization,
        accounts: Sequence[int],
        start: datetime | None,
        end: datetime | None,
        search: dict[str, Any],
    ) -> int:
        return self._matches(organization, accounts, start, end, search).count()

    def iter_search(
        self,
        organization: Organization,
        accounts: Sequence[int],
        start: datetime | None,
        end: datetime | None,
        search: dict[str, Any],
    ) -> Iterator[Record]:
        entries = self._matches(organization, accounts, start, end, search).select_related(
            "channel_account"
        )
        posts: dict[int, ArchivedPost] = {}
        for entry in entries.iterator(chunk_size=200):
            data: dict[str, Any] = {
                "kind": entry.kind,
                "account": entry.channel_account.handle if entry.channel_account else "",
                "author": entry.author,
                "occurred_at": _iso(entry.occurred_at),
                "language": entry.language,
                "text": entry.text,
                "found_gone_at": _iso(entry.found_gone_at),
                "source_id": entry.object_id,
            }
            media: tuple[ExportFile, ...] = ()
            if entry.post_id is not None:
                post = posts.get(entry.post_id)
                if post is None:
                    post = (
                        ArchivedPost.objects.select_related("channel_account")
                        .prefetch_related("versions", "comments")
                        .get(pk=entry.post_id)
                    )
                    posts[entry.post_id] = post
                data["post"] = archived_post_data(post)
                media = _capture(post)
            elif entry.kind == RecordKind.INBOX_ITEM:
                data["inbox_item"] = entry.object_id
            yield Record(
                id=f"{entry.kind}-{entry.object_id}",
                occurred_at=entry.occurred_at,
                data=data,
                media=media,
            )

    def dispose(
        self,
        organization: Organization,
        older_than: datetime,
        held: Sequence[HoldScope],
        *,
        action: str,
        dry_run: bool,
    ) -> DisposalResult:
        if action not in self.actions:
            raise ValueError(f"Archived posts cannot be disposed of by {action!r}")
        due = ArchivedPost.objects.filter(organization=organization, posted_at__lt=older_than)
        if action == ACTION_ANONYMIZE:
            due = due.filter(comments__isnull=False).exclude(
                comments__author_handle="", comments__author_name="", comments__author_id=""
            )
        held_ids = set(
            due.filter(
                held_q(held, date_field="posted_at", account_field="channel_account_id")
            ).values_list("pk", flat=True)
        )
        ids = sorted(set(due.values_list("pk", flat=True)) - held_ids)
        if not dry_run and ids:
            with transaction.atomic():
                comments = ArchivedComment.objects.filter(post_id__in=ids)
                if action == ACTION_DELETE:
                    captures = [
                        str(p.capture.name)
                        for p in ArchivedPost.objects.filter(pk__in=ids)
                        if p.capture
                    ]
                    # Search entries of the posts, versions and comments go with them.
                    RecordEntry.objects.filter(post_id__in=ids).delete()
                    comments.delete()
                    ArchivedPost.objects.filter(pk__in=ids).delete()
                    if captures:
                        transaction.on_commit(lambda: _delete_files(captures))
                else:
                    RecordEntry.objects.filter(
                        kind=RecordKind.COMMENT, object_id__in=comments.values("pk")
                    ).update(author="")
                    comments.update(author_handle="", author_name="", author_id="", url="")
        return DisposalResult(removed=len(ids), held=len(held_ids), ids=[str(pk) for pk in ids])


def _delete_files(names: list[str]) -> None:
    from django.core.files.storage import default_storage

    for name in names:
        default_storage.delete(name)


def _capture(post: ArchivedPost) -> tuple[ExportFile, ...]:
    if not post.capture:
        return ()
    return (ExportFile(name=f"{post.pk}-as-it-looked.pdf", open=lambda: post.capture.open("rb")),)


def archived_post_data(post: ArchivedPost) -> dict[str, Any]:
    """An archived post as a records export writes it, with versions and comments."""
    return {
        "id": post.pk,
        "channel_account": post.channel_account.handle,
        "network": post.network,
        "network_id": post.remote_id,
        "url": post.url,
        "text": post.text,
        "content_warning": post.content_warning,
        "language": post.language,
        "in_reply_to": post.reply_to_remote_id,
        "media": list(post.media),
        "posted_at": _iso(post.posted_at),
        "edited_at": _iso(post.edited_at),
        "first_seen_at": _iso(post.first_seen_at),
        "last_seen_at": _iso(post.last_seen_at),
        "found_gone_at": _iso(post.found_gone_at),
        "capture": f"{post.pk}-as-it-looked.pdf" if post.capture else "",
        "versions": [
            {
                "text": version.text,
                "content_warning": version.content_warning,
                "media": list(version.media),
                "from": _iso(version.valid_from),
            }
            for version in post.versions.all()
        ],
        "comments": [
            {
                "network_id": comment.remote_id,
                "url": comment.url,
                "author_handle": comment.author_handle,
                "author_name": comment.author_name,
                "text": comment.text,
                "earlier_texts": list(comment.earlier_texts),
                "language": comment.language,
                "in_reply_to": comment.in_reply_to_remote_id,
                "posted_at": _iso(comment.posted_at),
                "edited_at": _iso(comment.edited_at),
                "found_gone_at": _iso(comment.found_gone_at),
            }
            for comment in post.comments.all()
        ],
    }
