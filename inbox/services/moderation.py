"""Moderating comments on the organization's own posts: hide one, show it again, or
delete it on the network. Each is audited with the comment's text, which stays in
our records even when the network no longer shows it."""

from __future__ import annotations

from typing import Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.connectors.base import ConnectorError
from accounts.connectors.registry import get_connector
from accounts.models import AccountStatus
from accounts.services import channel_account_record_error
from governance.models import Membership, User
from governance.selectors.access import require_perm
from governance.services.audit import audit_record
from inbox.models import InboxItem, ItemKind
from inbox.services.replies import item_ref
from inbox.services.triage import lock_item

ModerationAction = Literal["hide", "unhide", "delete"]
AUDIT_ACTIONS = {
    "hide": "inbox_item.comment_hidden",
    "unhide": "inbox_item.comment_unhidden",
    "delete": "inbox_item.comment_deleted",
}


def inbox_item_can_moderate(item: InboxItem) -> bool:
    """Whether the item is a comment the network lets us hide and delete."""
    try:
        connector = get_connector(item.network)
    except LookupError:
        return False
    return (
        connector.capabilities.moderation
        and item.kind == ItemKind.REPLY
        and (item.ref_extra or {}).get("graph_kind", "comment") == "comment"
    )


def inbox_item_moderate(
    *,
    item: InboxItem,
    action: ModerationAction,
    actor: User,
    membership: Membership,
    request: HttpRequest | None = None,
) -> InboxItem:
    """Hide, show again or delete the comment on the network, then record it."""
    require_perm(membership, "inbox.reply")
    if action not in ("hide", "unhide", "delete"):
        raise ValidationError(_("Choose what to do with the comment."), code="action")
    if not inbox_item_can_moderate(item):
        raise ValidationError(_("This network does not let GovSocial moderate this item."))
    if item.deleted_on_network_at is not None:
        raise ValidationError(_("The comment is no longer on the network."))
    account = item.channel_account
    if account.status != AccountStatus.ACTIVE:
        raise ValidationError(
            _("%(account)s needs reconnecting first.") % {"account": account.handle}
        )
    connector = get_connector(item.network)
    try:
        if action == "delete":
            connector.delete_comment(account, item_ref(item))
        else:
            connector.hide_comment(account, item_ref(item), hidden=action == "hide")
    except ConnectorError as exc:
        channel_account_record_error(account=account, error=exc)
        raise ValidationError(
            _("The network did not do it: %(error)s") % {"error": exc.message}, code="network"
        ) from exc
    now = timezone.now()
    with transaction.atomic():
        locked = lock_item(item)
        old_hidden = bool((locked.raw or {}).get("moderated_hidden"))
        raw = dict(locked.raw or {})
        values: dict[str, object] = {}
        if action == "delete":
            values["deleted_on_network_at"] = now
            values["deletion_checked_at"] = now
            raw["moderated_deleted"] = True
        else:
            raw["moderated_hidden"] = action == "hide"
        values["raw"] = raw
        InboxItem.objects.filter(pk=locked.pk).update(**values)
        for name, value in values.items():
            setattr(item, name, value)
        audit_record(
            action=AUDIT_ACTIONS[action],
            organization=item.organization,
            actor=actor,
            target=item,
            old={"hidden": old_hidden},
            new={
                "action": action,
                "remote_id": item.remote_id,
                "author": item.author_label,
                # The text is kept in the record whatever the network does with it.
                "text": item.text,
            },
            request=request,
        )
    return item
