"""What the inbox tells governance about (see ``governance.providers``): the items
assigned to a leaving person, for their handover; and inbox items (with our
replies) as a record type, for retention, legal holds and records requests.

Registered in ``InboxConfig.ready()``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.dispatch import Signal
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.dates import format_datetime_in_zone
from governance.models import Membership, Organization, User
from governance.providers import (
    ACTION_ANONYMIZE,
    ACTION_DELETE,
    DisposalResult,
    HeldItem,
    HoldScope,
    Record,
    held_q,
)
from inbox.models import (
    OPEN_STATUSES,
    InboxItem,
    InboxNote,
    Reply,
    Tag,
)
from inbox.services.triage import inbox_items_hand_over

# Sent inside the disposal's transaction, before the items are deleted or anonymized,
# with ``organization``, ``ids`` (the items' primary keys) and ``action``: the layers
# above the inbox (the records search) keep copies of the items' texts and follow suit.
inbox_items_disposed = Signal()


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
                # Layers above (the records search) drop or anonymize their copies
                # of these items' texts first, in the same transaction.
                inbox_items_disposed.send(
                    sender=InboxItem, organization=organization, ids=ids, action=action
                )
                if action == ACTION_DELETE:
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
        return DisposalResult(removed=len(ids), held=len(held_ids), ids=[str(pk) for pk in ids])
