"""Triage: who handles an item, its status, tags and priority, one at a time or in bulk.

Status moves: ``new`` ⇄ ``assigned`` follows the assignee (assigning a new item
makes it assigned; taking the assignee away makes it new again); ``answered``
is set when a reply goes out (or by hand, when it was answered elsewhere);
``closed`` needs no answer. Answered and closed items can be reopened.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.connectors.base import AuthError, ConnectorError, RemoteRef
from accounts.connectors.registry import get_connector
from accounts.selectors import channel_accounts_for_membership
from accounts.services import channel_account_record_error
from governance.models import Membership, User
from governance.selectors.access import has_perm, require_perm
from governance.services.audit import audit_record
from governance.services.notifications import notification_send
from inbox.models import InboxItem, ItemStatus, Priority, Tag
from inbox.selectors import inbox_changed, sla_rules_for

MAX_TAG_LENGTH = 50


def lock_item(item: InboxItem) -> InboxItem:
    """The item's row, locked until the transaction ends, as it is now.

    Only the item's row (``of=("self",)``), and ``FOR NO KEY UPDATE``: locking the
    joined organization row too would block every audit entry of the organization
    (its insert takes ``FOR KEY SHARE`` on that row) while this transaction waits
    for the organization's audit chain head: a deadlock. See the lock order in
    ``governance.services.audit``."""
    return (
        InboxItem.objects.select_for_update(of=("self",), no_key=True)
        .select_related("organization")
        .get(pk=item.pk)
    )


def _sync(item: InboxItem, locked: InboxItem, names: Iterable[str]) -> None:
    for name in names:
        setattr(item, name, getattr(locked, name))


def _member_for(item: InboxItem, user: User) -> Membership | None:
    return (
        Membership.objects.filter(
            organization_id=item.organization_id, user=user, is_active=True, user__is_active=True
        )
        .select_related("organization")
        .first()
    )


def _check_assignee(item: InboxItem, assignee: User) -> None:
    membership = _member_for(item, assignee)
    if membership is None or not has_perm(membership, "inbox.reply"):
        raise ValidationError(
            _("%(name)s cannot answer in the inbox, so the item cannot be assigned to them.")
            % {"name": assignee},
            code="assignee",
        )
    if not channel_accounts_for_membership(membership).filter(pk=item.channel_account_id).exists():
        raise ValidationError(
            _("%(name)s does not have access to %(account)s.")
            % {"name": assignee, "account": item.channel_account.handle},
            code="assignee",
        )


def item_link(item: InboxItem) -> str:
    return reverse("inbox:item", args=[item.pk])


def inbox_item_assign(
    *,
    item: InboxItem,
    assignee: User | None,
    actor: User,
    membership: Membership,
    request: HttpRequest | None = None,
) -> InboxItem:
    """Give the item to ``assignee`` (None: to nobody). The assignee is told, unless
    they assigned it to themselves."""
    require_perm(membership, "inbox.reply")
    if assignee is not None:
        _check_assignee(item, assignee)
    now = timezone.now()
    with transaction.atomic():
        locked = lock_item(item)
        if locked.assignee_id == (assignee.pk if assignee else None):
            return item
        old = {"assignee": locked.assignee_id, "status": locked.status}
        locked.assignee = assignee
        locked.assigned_at = now if assignee else None
        if assignee is not None and locked.status == ItemStatus.NEW:
            locked.status, locked.status_changed_at = ItemStatus.ASSIGNED, now
        elif assignee is None and locked.status == ItemStatus.ASSIGNED:
            locked.status, locked.status_changed_at = ItemStatus.NEW, now
        locked.save(update_fields=["assignee", "assigned_at", "status", "status_changed_at"])
        audit_record(
            action="inbox_item.assigned",
            organization=locked.organization,
            actor=actor,
            target=locked,
            old=old,
            new={
                "assignee": assignee.pk if assignee else None,
                "assignee_email": assignee.email if assignee else "",
                "status": locked.status,
            },
            request=request,
        )
        if assignee is not None and assignee.pk != actor.pk:
            with translation.override(assignee.preferred_language or None):
                message = _("%(actor)s assigned you a message from %(author)s to %(account)s.") % {
                    "actor": actor,
                    "author": locked.author_label,
                    "account": item.channel_account.handle,
                }
            notification_send(
                user=assignee,
                organization=locked.organization,
                kind="inbox.assigned",
                message=message,
                link=item_link(locked),
            )
    _sync(item, locked, ["assignee", "assigned_at", "status", "status_changed_at"])
    item.assignee = assignee
    return item


def inbox_item_set_status(
    *,
    item: InboxItem,
    status: str,
    actor: User,
    membership: Membership,
    request: HttpRequest | None = None,
) -> InboxItem:
    """Move the item to ``status``. "Assigned" comes from assigning, so it needs an
    assignee; "new" puts the item back in the shared queue (no assignee)."""
    require_perm(membership, "inbox.reply")
    if status not in ItemStatus.values:
        raise ValidationError(_("Choose a status."), code="status")
    now = timezone.now()
    with transaction.atomic():
        locked = lock_item(item)
        if locked.status == status:
            return item
        if status == ItemStatus.ASSIGNED and locked.assignee_id is None:
            raise ValidationError(
                _("Assign the item to someone to mark it assigned."), code="status"
            )
        old = {"status": locked.status, "assignee": locked.assignee_id}
        locked.status, locked.status_changed_at = status, now
        if status == ItemStatus.NEW:
            locked.assignee, locked.assigned_at = None, None
        locked.closed_at = now if status == ItemStatus.CLOSED else None
        locked.save(
            update_fields=["status", "status_changed_at", "assignee", "assigned_at", "closed_at"]
        )
        audit_record(
            action="inbox_item.status_changed",
            organization=locked.organization,
            actor=actor,
            target=locked,
            old=old,
            new={"status": status, "assignee": locked.assignee_id},
            request=request,
        )
    _sync(item, locked, ["status", "status_changed_at", "assignee_id", "assigned_at", "closed_at"])
    if locked.assignee_id is None:
        item.assignee = None
    return item


def _clean_tag_names(names: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for raw in names:
        name = " ".join(raw.split())
        if not name:
            continue
        if len(name) > MAX_TAG_LENGTH:
            raise ValidationError(
                _("A tag can be at most %(limit)d characters long.") % {"limit": MAX_TAG_LENGTH},
                code="tags",
            )
        seen.setdefault(name.casefold(), name)
    return list(seen.values())


def tags_get_or_create(organization_id: int, names: Sequence[str]) -> list[Tag]:
    """The organization's tags of these names (case-insensitive), made where missing."""
    tags: list[Tag] = []
    existing = {
        tag.name.casefold(): tag
        for tag in Tag.objects.filter(organization_id=organization_id)
        if tag.name.casefold() in {name.casefold() for name in names}
    }
    for name in names:
        tag = existing.get(name.casefold())
        if tag is None:
            tag, _created = Tag.objects.get_or_create(organization_id=organization_id, name=name)
        tags.append(tag)
    return tags


def inbox_item_set_tags(
    *,
    item: InboxItem,
    names: Iterable[str],
    actor: User,
    membership: Membership,
    add_only: bool = False,
    request: HttpRequest | None = None,
) -> list[Tag]:
    """Set the item's tags to ``names`` (or, with ``add_only``, add them), making new
    tags as needed. Returns the item's tags afterwards."""
    require_perm(membership, "inbox.reply")
    cleaned = _clean_tag_names(names)
    with transaction.atomic():
        locked = lock_item(item)
        before = sorted(locked.tags.values_list("name", flat=True))
        tags = tags_get_or_create(locked.organization_id, cleaned)
        if add_only:
            locked.tags.add(*tags)
        else:
            locked.tags.set(tags)
        after = sorted(locked.tags.values_list("name", flat=True))
        if before != after:
            audit_record(
                action="inbox_item.tagged",
                organization=locked.organization,
                actor=actor,
                target=locked,
                old={"tags": before},
                new={"tags": after},
                request=request,
            )
        return list(locked.tags.order_by("name"))


def inbox_item_set_priority(
    *,
    item: InboxItem,
    priority: int,
    actor: User,
    membership: Membership,
    request: HttpRequest | None = None,
) -> InboxItem:
    """Set the priority; the due time follows when the policy has a separate target
    for high-priority items."""
    require_perm(membership, "inbox.reply")
    if priority not in Priority.values:
        raise ValidationError(_("Choose a priority."), code="priority")
    with transaction.atomic():
        locked = lock_item(item)
        if locked.priority == priority:
            return item
        old = {"priority": locked.priority, "sla_due_at": locked.sla_due_at}
        locked.priority = priority
        locked.sla_due_at = sla_rules_for(locked.organization).due(locked.posted_at, priority)
        locked.save(update_fields=["priority", "sla_due_at"])
        audit_record(
            action="inbox_item.priority_changed",
            organization=locked.organization,
            actor=actor,
            target=locked,
            old=old,
            new={"priority": priority, "sla_due_at": locked.sla_due_at},
            request=request,
        )
    _sync(item, locked, ["priority", "sla_due_at"])
    return item


BULK_ACTIONS = ("assign", "status", "tag", "priority")


@dataclass
class BulkResult:
    done: int = 0
    refused: list[str] = field(default_factory=list)


def inbox_items_bulk(
    *,
    items: Sequence[InboxItem],
    action: str,
    value: Any,
    actor: User,
    membership: Membership,
    request: HttpRequest | None = None,
) -> BulkResult:
    """Apply one action to many items, each through its own service (and transaction,
    and audit entry). An item that refuses (say, an assignee without access to its
    account) is reported and the others go ahead."""
    require_perm(membership, "inbox.reply")
    if action not in BULK_ACTIONS:
        raise ValidationError(_("Choose an action."), code="action")
    result = BulkResult()
    for item in items:
        try:
            if action == "assign":
                inbox_item_assign(
                    item=item, assignee=value, actor=actor, membership=membership, request=request
                )
            elif action == "status":
                inbox_item_set_status(
                    item=item, status=value, actor=actor, membership=membership, request=request
                )
            elif action == "tag":
                inbox_item_set_tags(
                    item=item,
                    names=[value],
                    add_only=True,
                    actor=actor,
                    membership=membership,
                    request=request,
                )
            else:
                inbox_item_set_priority(
                    item=item, priority=value, actor=actor, membership=membership, request=request
                )
        except ValidationError as exc:
            result.refused.append(f"{item.author_label}: {' '.join(exc.messages)}")
            continue
        result.done += 1
    return result


def inbox_items_hand_over(
    *,
    item_ids: Sequence[int],
    previous_holder: Membership,
    new_holder: Membership,
    actor: User,
) -> int:
    """Give a leaving person's assigned items to ``new_holder`` (the handover case).

    Runs inside the handover's transaction: an item the new holder may not answer
    (no inbox role, or not its account) refuses the whole handover with a reason.
    Items no longer assigned to ``previous_holder`` are skipped. Returns how many moved.
    """
    if not has_perm(new_holder, "inbox.reply"):
        raise ValidationError(
            _("%(name)s cannot answer in the inbox, so cannot take inbox items over.")
            % {"name": new_holder.user},
            code="holder_cannot_reply",
        )
    usable = set(channel_accounts_for_membership(new_holder).values_list("pk", flat=True))
    items = list(
        InboxItem.objects.select_for_update(of=("self",), no_key=True)
        .filter(
            organization_id=new_holder.organization_id,
            pk__in=list(item_ids),
            assignee_id=previous_holder.user_id,
        )
        .select_related("channel_account", "organization")
        .order_by("pk")
    )
    for item in items:
        if item.channel_account_id not in usable:
            raise ValidationError(
                _("%(name)s does not have access to %(account)s.")
                % {"name": new_holder.user, "account": item.channel_account.handle},
                code="holder_lacks_accounts",
            )
    now = timezone.now()
    for item in items:
        InboxItem.objects.filter(pk=item.pk).update(assignee_id=new_holder.user_id, assigned_at=now)
        inbox_changed(item.organization_id)
        audit_record(
            action="inbox_item.assigned",
            organization=item.organization,
            actor=actor,
            target=item,
            old={"assignee": previous_holder.user_id, "assignee_email": previous_holder.user.email},
            new={
                "assignee": new_holder.user_id,
                "assignee_email": new_holder.user.email,
                "reason": "handover",
            },
        )
    if items:
        user = new_holder.user
        with translation.override(user.preferred_language or None):
            message = ngettext(
                "%(actor)s handed over %(count)d inbox item from %(previous)s to you.",
                "%(actor)s handed over %(count)d inbox items from %(previous)s to you.",
                len(items),
            ) % {
                "actor": actor,
                "count": len(items),
                "previous": previous_holder.user,
            }
        notification_send(
            user=user,
            organization=new_holder.organization,
            kind="inbox.assigned",
            message=message,
            link=reverse("inbox:index") + "?assignee=me",
        )
    return len(items)


def inbox_item_set_hidden(
    *,
    item: InboxItem,
    hidden: bool,
    actor: User,
    membership: Membership,
    request: HttpRequest | None = None,
) -> InboxItem:
    """Hide a reply to one of our posts on the network (or show it again), where the
    network lets us. The item and its text stay in the inbox and the archive; the change
    is audited. A refusal by the network becomes a ``ValidationError`` in its words."""
    require_perm(membership, "inbox.reply")
    connector = get_connector(item.network)
    if not connector.capabilities.hide_replies:
        raise ValidationError(_("This network does not let us hide replies."), code="hide")
    if item.kind != "reply":
        raise ValidationError(_("Only replies to our own posts can be hidden."), code="hide")
    if item.deleted_on_network_at is not None:
        raise ValidationError(_("This reply has been deleted on the network."), code="hide")
    if bool(item.hidden_on_network_at) == hidden:
        return item
    account = item.channel_account
    try:
        connector.hide_reply(account, RemoteRef(remote_id=item.remote_id), hide=hidden)
    except ConnectorError as error:
        if isinstance(error, AuthError):
            channel_account_record_error(account=account, error=error)
        raise ValidationError(error.message, code="hide") from error
    with transaction.atomic():
        locked = lock_item(item)
        old = {"hidden_on_network_at": locked.hidden_on_network_at}
        locked.hidden_on_network_at = timezone.now() if hidden else None
        locked.save(update_fields=["hidden_on_network_at"])
        audit_record(
            action="inbox_item.hidden" if hidden else "inbox_item.unhidden",
            organization=locked.organization,
            actor=actor,
            target=locked,
            old=old,
            new={
                "hidden_on_network_at": locked.hidden_on_network_at,
                "author": locked.author_handle,
                "text": locked.text,
            },
            request=request,
        )
    _sync(item, locked, ["hidden_on_network_at"])
    return item
