"""What the inbox tells governance about (see ``governance.providers``): the items
assigned to a leaving person, for their handover; and inbox items (with our
replies) as a record type, for retention, legal holds and records requests.

Registered in ``InboxConfig.ready()``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.dates import format_datetime_in_zone
from governance.models import Membership, Organization, User
from governance.providers import (
    ACTION_ANONYMIZE,
    ACTION_DELETE,
    DisposalResult,
    ExportFile,
    HeldItem,
    HoldScope,
    Record,
    held_q,
)
from inbox.models import (
    OPEN_STATUSES,
    ArchivedComment,
    ArchivedPost,
    ArchivedPostVersion,
    InboxItem,
    InboxNote,
    RecordEntry,
    RecordKind,
    Reply,
    Tag,
)
from inbox.services.triage import inbox_items_hand_over


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _local(moment: datetime, organization: Organization) -> str:
    return format_datetime_in_zone(moment, organization.time_zone)


class AssignedItemsProvider:
    """Open inbox items assigned to the person; the new holder is assigned instead."""

    key = "inbox.assigned"
    label = gettext_lazy("Inbox items assigned to them")

    def items_held_by(self, membership: Membership) -> list[HeldItem]:
        organization = membership.organization
        items = (
            InboxItem.objects.filter(
                organization_id=membership.organization_id,
                assignee_id=membership.user_id,
                status__in=list(OPEN_STATUSES),
            )
            .select_related("channel_account")
            .order_by("sla_due_at", "pk")
        )
        held = []
        for item in items:
            detail = _("%(kind)s to %(account)s") % {
                "kind": item.get_kind_display(),
                "account": item.channel_account.handle,
            }
            if item.sla_due_at is not None:
                detail = _("%(detail)s, answer by %(when)s (%(zone)s)") % {
                    "detail": detail,
                    "when": _local(item.sla_due_at, organization),
                    "zone": organization.time_zone,
                }
            held.append(
                HeldItem(
                    object_type="inbox.inboxitem",
                    object_id=str(item.pk),
                    label=_("Message from %(who)s") % {"who": item.author_label},
                    link=reverse("inbox:item", args=[item.pk]),
                    detail=str(detail),
                )
            )
        return held

    def reassign(
        self,
        item_ids: Sequence[str],
        new_holder: Membership,
        actor: User,
        *,
        previous_holder: Membership,
    ) -> None:
        inbox_items_hand_over(
            item_ids=[int(pk) for pk in item_ids if str(pk).isdigit()],
            previous_holder=previous_holder,
            new_holder=new_holder,
            actor=actor,
        )


class InboxItemsRecords:
    """Messages received in the inbox, with the replies sent from GovSocial and how
    each was handled. Dated by when the author wrote them. Items deleted by their
    authors on the network are part of the record too, marked as such.

    Anonymizing removes who wrote each message (handle, name, network id and
    address) and the staff names on it; the words stay. Deleting removes the
    items with their replies.
    """

    key = "inbox_items"
    label = gettext_lazy("Inbox messages and replies")
    actions = frozenset({ACTION_DELETE, ACTION_ANONYMIZE})

    def _items(
        self,
        organization: Organization,
        accounts: Sequence[int],
        start: datetime | None,
        end: datetime | None,
    ) -> QuerySet[InboxItem]:
        items = InboxItem.objects.filter(organization=organization)
        if accounts:
            items = items.filter(channel_account_id__in=list(accounts))
        if start is not None:
            items = items.filter(posted_at__gte=start)
        if end is not None:
            items = items.filter(posted_at__lt=end)
        return items

    def count_records(
        self,
        organization: Organization,
        accounts: Sequence[int],
        start: datetime | None,
        end: datetime | None,
    ) -> int:
        return self._items(organization, accounts, start, end).count()

    def iter_records(
        self,
        organization: Organization,
        accounts: Sequence[int],
        start: datetime | None,
        end: datetime | None,
    ) -> Iterator[Record]:
        items = (
            self._items(organization, accounts, start, end)
            .select_related("channel_account", "assignee")
            .prefetch_related(
                Prefetch("tags", queryset=Tag.objects.order_by("name")),
                Prefetch(
                    "replies",
                    queryset=Reply.objects.select_related("author", "decided_by").order_by(
                        "created_at", "pk"
                    ),
                ),
                Prefetch(
                    "notes",
                    queryset=InboxNote.objects.select_related("author").order_by(
                        "created_at", "pk"
                    ),
                ),
            )
            .order_by("posted_at", "pk")
        )
        for item in items.iterator(chunk_size=500):
            yield self._record(item)

    def _record(self, item: InboxItem) -> Record:
        replies = [
            {
                "author": reply.author.email if reply.author else "",
                "text": reply.text,
                "status": reply.status,
                "created_at": _iso(reply.created_at),
                "sent_at": _iso(reply.sent_at),
                "network_post_id": reply.remote_id,
                "url": reply.remote_url,
                "approval_needed": reply.needs_approval,
                "decided_by": reply.decided_by.email if reply.decided_by else "",
                "decision_comment": reply.decision_comment,
            }
            for reply in item.replies.all()
        ]
        return Record(
            id=str(item.pk),
            occurred_at=item.posted_at,
            data={
                "id": item.pk,
                "channel_account": item.channel_account.handle,
                "network": item.network,
                "kind": item.kind,
                "network_id": item.remote_id,
                "url": item.url,
                "author_handle": item.author_handle,
                "author_name": item.author_name,
                "text": item.text,
                "language": item.language,
                "posted_at": _iso(item.posted_at),
                "received_at": _iso(item.received_at),
                "in_reply_to": item.in_reply_to_remote_id,
                "thread": item.thread_key,
                "status": item.status,
                "assignee": item.assignee.email if item.assignee else "",
                "priority": item.priority,
                "watch_words": list(item.matched_words),
                "tags": [tag.name for tag in item.tags.all()],
                "answer_by": _iso(item.sla_due_at),
                "first_response_at": _iso(item.first_response_at),
                "closed_at": _iso(item.closed_at),
                "deleted_on_network_at": _iso(item.deleted_on_network_at),
                "replies": replies,
                # The team's internal notes: never sent, kept with the item.
                "internal_notes": [
                    {
                        "author": note.author.email if note.author else "",
                        "text": note.body,
                        "created_at": _iso(note.created_at),
                    }
                    for note in item.notes.all()
                ],
            },
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
            raise ValueError(f"Inbox items cannot be disposed of by {action!r}")
        due = InboxItem.objects.filter(organization=organization, posted_at__lt=older_than)
        if action == ACTION_ANONYMIZE:
            # Items already without names are done; counting them again would say the
            # job did something every day.
            due = due.exclude(author_handle="", author_name="", author_id="", url="")
        held_ids = set(
            due.filter(
                held_q(held, date_field="posted_at", account_field="channel_account_id")
            ).values_list("pk", flat=True)
        )
        ids = sorted(set(due.values_list("pk", flat=True)) - held_ids)
        if not dry_run and ids:
            with transaction.atomic():
                if action == ACTION_DELETE:
                    # Their texts leave the records search with them.
                    RecordEntry.objects.filter(
                        Q(kind=RecordKind.INBOX_ITEM, object_id__in=ids)
                        | Q(
                            kind=RecordKind.REPLY,
                            object_id__in=Reply.objects.filter(item_id__in=ids).values("pk"),
                        )
                        | Q(
                            kind=RecordKind.NOTE,
                            object_id__in=InboxNote.objects.filter(item_id__in=ids).values("pk"),
                        )
                    ).delete()
                    Reply.objects.filter(item_id__in=ids).delete()
                    InboxItem.objects.filter(pk__in=ids).delete()
                else:
                    InboxItem.objects.filter(pk__in=ids).update(
                        author_handle="",
                        author_name="",
                        author_id="",
                        url="",
                        raw={},
                        assignee=None,
                    )
                    Reply.objects.filter(item_id__in=ids).update(
                        author=None, decided_by=None, decision_comment=""
                    )
                    InboxNote.objects.filter(item_id__in=ids).update(author=None)
                    RecordEntry.objects.filter(
                        Q(kind=RecordKind.INBOX_ITEM, object_id__in=ids)
                        | Q(
                            kind=RecordKind.REPLY,
                            object_id__in=Reply.objects.filter(item_id__in=ids).values("pk"),
                        )
                        | Q(
                            kind=RecordKind.NOTE,
                            object_id__in=InboxNote.objects.filter(item_id__in=ids).values("pk"),
                        )
                    ).update(author="")
        return DisposalResult(removed=len(ids), held=len(held_ids), ids=[str(pk) for pk in ids])


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
        from inbox.selectors import RecordQuery, records_search_all

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
