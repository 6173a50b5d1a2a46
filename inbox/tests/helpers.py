"""Shortcuts for the inbox tests: items made directly, and Sandbox citizens who write."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from accounts.connectors.base import PublishRequest, RemoteRef
from accounts.connectors.registry import get_connector
from accounts.models import ChannelAccount, SandboxPost
from inbox.models import InboxItem, ItemKind

_numbers = itertools.count(1)


def make_item(account: ChannelAccount, **fields: Any) -> InboxItem:
    """A saved item of ``account`` (as if synced), newest unless ``posted_at`` says."""
    number = next(_numbers)
    remote_id = fields.pop("remote_id", f"remote-{number}")
    values: dict[str, Any] = {
        "organization_id": account.organization_id,
        "channel_account": account,
        "network": account.network,
        "remote_id": remote_id,
        "kind": ItemKind.MENTION,
        "author_handle": f"citizen{number}",
        "author_name": f"Citizen {number}",
        "text": f"Message number {number}",
        "posted_at": timezone.now() - timedelta(minutes=number),
        "thread_key": remote_id,
    }
    values.update(fields)
    return InboxItem.objects.create(**values)


def publish_sandbox(account: ChannelAccount, text: str) -> str:
    """Our post on a Sandbox account; returns its remote id."""
    return get_connector("sandbox").publish(account, PublishRequest(text=text)).remote_id


def citizen_writes(
    account: ChannelAccount,
    text: str,
    *,
    handle: str = "aino.virtanen",
    name: str = "Aino Virtanen",
    reply_to: str | None = None,
    visibility: str = "public",
    created_at: datetime | None = None,
) -> SandboxPost:
    """A simulated citizen mentions, answers (``reply_to``) or messages the account."""
    parent = SandboxPost.objects.get(remote_id=reply_to) if reply_to else None
    return SandboxPost.objects.create(
        account=account,
        remote_id=f"sbx_c{next(_numbers):08d}",
        is_own=False,
        author_handle=handle,
        author_name=name,
        text=text,
        in_reply_to=parent,
        thread_root=(parent.thread_root or parent) if parent else None,
        visibility=visibility,
        created_at=created_at or timezone.now(),
    )


def ref(remote_id: str) -> RemoteRef:
    return RemoteRef(remote_id=remote_id)
