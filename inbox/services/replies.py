"""Answering from the inbox, through the account's connector.

A reply is a proper reply on the network: it points at the item it answers
(on Bluesky with the thread's root and the item as parent, from the uri and
cid the sync kept). It is signed per the organization's rule. Where the
organization asks for approval (chosen accounts or tags), it waits in
``pending_approval`` until a reviewer approves it, and is sent then.

Sending is recorded before the network is called (status ``sending``, the try
counted), and every failure is handled by kind: a reply whose outcome is
unknown is never sent again blindly: a retry first looks for it on the
network, and resends with the same idempotency key.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accounts.connectors.base import (
    AuthError,
    Connector,
    ConnectorError,
    PublishRequest,
    PublishResult,
    RecentPost,
    Rejected,
    RemoteRef,
    UnknownOutcome,
)
from accounts.connectors.registry import get_connector
from accounts.models import AccountStatus
from accounts.services import channel_account_record_error
from governance.models import Membership, User
from governance.selectors.access import require_perm
from governance.services.audit import audit_record, retry_on_lock_conflict
from governance.services.notifications import notification_send
from inbox.models import (
    OPEN_STATUSES,
    InboxItem,
    InboxSettings,
    ItemKind,
    ItemStatus,
    Reply,
    ReplyStatus,
    SavedReply,
)
from inbox.selectors import inbox_settings_for, members_who_may_see_account
from inbox.services.sync import inbox_item_mark_deleted_on_network
from inbox.services.triage import item_link, lock_item
from inbox.text import ensure_mention, sign, signature_for
from publishing.selectors_guidelines import word_hits, word_rules_for

logger = logging.getLogger(__name__)

# On these networks a direct message reaches only the accounts it mentions.
DIRECT_MESSAGES_NEED_MENTION = frozenset({"mastodon"})
# How far back a retry looks for a reply that may have gone out.
RECONCILE_SLACK = timedelta(minutes=5)
RECONCILE_LOOKUP_LIMIT = 40


def item_ref(item: InboxItem) -> RemoteRef:
    """The item itself, as the network points at it."""
    return RemoteRef(
        remote_id=item.remote_id,
        url=item.url,
        extra={str(k): str(v) for k, v in (item.ref_extra or {}).items()},
    )


def _stored_ref(value: dict[str, object]) -> RemoteRef | None:
    remote_id = str(value.get("remote_id") or "")
    if not remote_id:
        return None
    extra = value.get("extra") or {}
    return RemoteRef(
        remote_id=remote_id,
        url=str(value.get("url") or ""),
        extra={str(k): str(v) for k, v in dict(extra).items()} if isinstance(extra, dict) else {},
    )


def publish_request_for(item: InboxItem, *, text: str, key: str, language: str) -> PublishRequest:
    """The reply as the connector takes it: the item is the parent; the thread's root
    is the network's root when it named one, else the item (it starts the thread)."""
    return PublishRequest(
        text=text,
        reply_to=item_ref(item),
        thread_root=_stored_ref(item.thread_root) or item_ref(item),
        idempotency_key=key,
        language=language,
        visibility="direct" if item.kind == ItemKind.DM else "public",
    )


def reply_text(item: InboxItem, body: str, *, actor: User, settings: InboxSettings) -> str:
    """What goes to the network: the body, signed per the organization's rule (and, on
    networks that need it, addressed to the author of a direct message)."""
    text = sign(
        body, signature_for(settings.signature_rule, user=actor, organization=item.organization)
    )
    if item.kind == ItemKind.DM and item.network in DIRECT_MESSAGES_NEED_MENTION:
        text = ensure_mention(text, item.author_handle)
    return text


def reply_needs_approval(item: InboxItem, settings: InboxSettings) -> bool:
    if settings.pk is None:
        return False
    if settings.approval_accounts.filter(pk=item.channel_account_id).exists():
        return True
    return item.tags.filter(pk__in=settings.approval_tags.values("pk")).exists()


def _cannot_answer(item: InboxItem, connector: Connector) -> str:
    """Why nobody can answer this item from here, or ""."""
    if item.deleted_on_network_at is not None:
        return _("Its author deleted it on the network, so it cannot be answered.")
    if item.channel_account.status != AccountStatus.ACTIVE:
        return _("%(account)s needs reconnecting before anything can be sent from it.") % {
            "account": item.channel_account.handle
        }
    caps = connector.capabilities
    if not caps.replies:
        return _("This network does not take replies from GovSocial.")
    if item.kind == ItemKind.DM and not caps.direct_messages:
        return _("This network does not let GovSocial answer direct messages.")
    return connector.reply_unavailable(
        item.channel_account, item_ref(item), direct=item.kind == ItemKind.DM
    )


def reply_blocker(item: InboxItem) -> str:
    """For the pages: why the reply box is not offered, or ""."""
    return _cannot_answer(item, get_connector(item.network))


def reply_notes(item: InboxItem) -> list[str]:
    """For the pages: the network's limits the person replying should know first."""
    return get_connector(item.network).reply_notes(item.channel_account, kind=item.kind)


def reply_banned_words(item: InboxItem, body: str, language: str = "") -> list[str]:
    """The words of the organization's writing guidelines that ``body`` may not carry,
    in words; a reply whose language is not known is held to every language's list."""
    rules = word_rules_for(item.organization_id)
    return [hit.message for hit in word_hits(rules, [body], language or None) if hit.banned]


def _notify(
    users: Iterable[User], item: InboxItem, kind: str, message: Promise, **values: object
) -> None:
    """Tell each of ``users``, in their own language (``message`` is a lazy translation)."""
    for user in users:
        with translation.override(user.preferred_language or None):
            text = str(message) % {name: str(value) for name, value in values.items()}
        notification_send(
            user=user, organization=item.organization, kind=kind, message=text, link=item_link(item)
        )


def inbox_reply_create(
    *,
    item: InboxItem,
    body: str,
    actor: User,
    membership: Membership,
    saved_reply: SavedReply | None = None,
    language: str = "",
    request: HttpRequest | None = None,
) -> Reply:
    """Answer ``item``: send the reply now, or hold it for approval where the
    organization asks for that (the reviewers who may approve it are told)."""
    require_perm(membership, "inbox.reply")
    body = body.strip()
    if not body:
        raise ValidationError(_("Write a reply."), code="body")
    connector = get_connector(item.network)
    blocker = _cannot_answer(item, connector)
    if blocker:
        raise ValidationError(blocker, code="item")
    settings = inbox_settings_for(item.organization)
    text = reply_text(item, body, actor=actor, settings=settings)
    language = language or (saved_reply.language if saved_reply else "")
    banned = reply_banned_words(item, body, language)
    if banned:
        raise ValidationError(banned, code="body")
    problems = connector.validate(
        publish_request_for(item, text=text, key="check", language=language),
        account=item.channel_account,
    )
    if problems:
        raise ValidationError(problems, code="body")
    needs_approval = reply_needs_approval(item, settings)
    with transaction.atomic():
        reply = Reply.objects.create(
            organization_id=item.organization_id,
            item=item,
            channel_account_id=item.channel_account_id,
            author=actor,
            body=body,
            text=text,
            language=language,
            saved_reply=saved_reply,
            needs_approval=needs_approval,
            status=ReplyStatus.PENDING_APPROVAL if needs_approval else ReplyStatus.SENDING,
            attempts=0 if needs_approval else 1,
        )
        audit_record(
            action="inbox_reply.created",
            organization=item.organization,
            actor=actor,
            target=reply,
            new={
                "item": item.pk,
                "status": reply.status,
                "text": text,
                "needs_approval": needs_approval,
                "saved_reply": saved_reply.pk if saved_reply else None,
            },
            request=request,
        )
        if needs_approval:
            approvers = [
                m.user
                for m in members_who_may_see_account(
                    item.organization_id, item.channel_account_id, "inbox.approve"
                )
                if m.user_id != actor.pk
            ]
            _notify(
                approvers,
                item,
                "inbox.reply_needs_approval",
                _lazy("%(author)s wrote a reply to %(who)s that needs your approval."),
                author=actor,
                who=item.author_label,
            )
    if needs_approval:
        return reply
    return _send(reply, item=item, connector=connector, actor=actor, request=request)


def _send(
    reply: Reply,
    *,
    item: InboxItem,
    connector: Connector,
    actor: User,
    request: HttpRequest | None,
) -> Reply:
    """Call the network for a reply already marked ``sending`` (its try counted and
    committed), and record what came back."""
    account = item.channel_account
    blocker = _cannot_answer(item, connector)
    if blocker:
        return _record_failure(reply, item, Rejected(blocker), actor=actor, request=request)
    publish = publish_request_for(
        item, text=reply.text, key=str(reply.idempotency_key), language=reply.language
    )
    try:
        result = connector.reply(account, publish)
    except UnknownOutcome as exc:
        return _record_failure(reply, item, exc, actor=actor, request=request)
    except ConnectorError as exc:
        if isinstance(exc, AuthError):
            channel_account_record_error(account=account, error=exc)
        if isinstance(exc, Rejected) and exc.status_code == 404:
            inbox_item_mark_deleted_on_network(item=item)
        return _record_failure(reply, item, exc, actor=actor, request=request)
    except Exception as exc:
        # After the request may have left, anything unexpected is an unknown outcome.
        logger.exception("Reply %s: unexpected error from the connector", reply.pk)
        unknown = UnknownOutcome(detail=repr(exc)[:500])
        return _record_failure(reply, item, unknown, actor=actor, request=request)
    return _record_sent(reply, item, result, actor=actor, request=request)


def _record_sent(
    reply: Reply,
    item: InboxItem,
    result: PublishResult,
    *,
    actor: User,
    request: HttpRequest | None,
    reconciled: bool = False,
) -> Reply:
    """Record a reply the network accepted. It is already out, so this never ends in
    an error for the person: a lock conflict runs the recording again, and if the
    database still refuses, the reply is left "not confirmed" (a later try looks it up
    on the network instead of sending it again)."""
    try:
        return retry_on_lock_conflict(
            lambda: _record_sent_once(
                reply, item, result, actor=actor, request=request, reconciled=reconciled
            )
        )
    except DatabaseError:
        logger.exception("Reply %s was sent (%s) but could not be recorded", reply.pk, result)
        return _left_unconfirmed(reply)


def _left_unconfirmed(reply: Reply) -> Reply:
    try:
        Reply.objects.filter(pk=reply.pk, status=ReplyStatus.SENDING).update(
            status=ReplyStatus.UNKNOWN, error_kind="unknown_outcome"
        )
    except DatabaseError:
        logger.exception("Reply %s: could not be marked unconfirmed either", reply.pk)
    reply.status = ReplyStatus.UNKNOWN
    return reply


def _record_sent_once(
    reply: Reply,
    item: InboxItem,
    result: PublishResult,
    *,
    actor: User,
    request: HttpRequest | None,
    reconciled: bool,
) -> Reply:
    now = timezone.now()
    with transaction.atomic():
        values = {
            "status": ReplyStatus.SENT,
            "remote_id": result.remote_id[:300],
            "remote_url": result.url[:500],
            "remote_extra": {str(k): str(v) for k, v in result.extra.items()},
            "sent_at": now,
            "error_kind": "",
            "error_message": "",
        }
        Reply.objects.filter(pk=reply.pk).update(**values)
        for name, value in values.items():
            setattr(reply, name, value)
        locked = lock_item(item)
        old_status = locked.status
        if locked.status in OPEN_STATUSES:
            locked.status, locked.status_changed_at = ItemStatus.ANSWERED, now
        if locked.first_response_at is None:
            locked.first_response_at = now
        locked.save(update_fields=["status", "status_changed_at", "first_response_at"])
        item.status, item.first_response_at = locked.status, locked.first_response_at
        audit_record(
            action="inbox_reply.sent",
            organization=locked.organization,
            actor=actor,
            target=reply,
            old={"item_status": old_status},
            new={
                "remote_id": reply.remote_id,
                "url": reply.remote_url,
                "item_status": locked.status,
                "reconciled": reconciled,
            },
            request=request,
        )
        if reply.author_id and reply.author_id != actor.pk and reply.author is not None:
            _notify(
                [reply.author],
                item,
                "inbox.reply_sent",
                _lazy("Your reply to %(who)s was approved and sent."),
                who=item.author_label,
            )
    return reply


def _record_failure(
    reply: Reply,
    item: InboxItem,
    error: ConnectorError,
    *,
    actor: User,
    request: HttpRequest | None,
) -> Reply:
    """Record what went wrong after the request may have left: like ``_record_sent``,
    never an error for the person."""
    try:
        return retry_on_lock_conflict(
            lambda: _record_failure_once(reply, item, error, actor=actor, request=request)
        )
    except DatabaseError:
        logger.exception("Reply %s failed (%s) and could not be recorded", reply.pk, error.kind)
        return _left_unconfirmed(reply)


def _record_failure_once(
    reply: Reply,
    item: InboxItem,
    error: ConnectorError,
    *,
    actor: User,
    request: HttpRequest | None,
) -> Reply:
    status = ReplyStatus.UNKNOWN if isinstance(error, UnknownOutcome) else ReplyStatus.FAILED
    with transaction.atomic():
        values = {
            "status": status,
            "error_kind": str(error.kind),
            "error_message": error.message[:2000],
        }
        Reply.objects.filter(pk=reply.pk).update(**values)
        for name, value in values.items():
            setattr(reply, name, value)
        audit_record(
            action="inbox_reply.failed",
            organization=item.organization,
            actor=actor,
            target=reply,
            new={"status": status, "kind": str(error.kind), "detail": error.detail[:500]},
            request=request,
        )
        if reply.author_id and reply.author_id != actor.pk and reply.author is not None:
            _notify(
                [reply.author],
                item,
                "inbox.reply_failed",
                _lazy("Your reply to %(who)s could not be sent: %(error)s"),
                who=item.author_label,
                error=error.message,
            )
    return reply


def _normalized(text: str) -> str:
    return " ".join(text.split()).casefold()


def _find_sent(reply: Reply, item: InboxItem, connector: Connector) -> RecentPost | None:
    """Look on the network for a reply whose sending was not confirmed."""
    caps = connector.capabilities
    window = timedelta(seconds=caps.idempotency_window_seconds)
    if window and timezone.now() - reply.created_at < window:
        # Re-sending with the same idempotency key returns the first post, if any.
        return None
    if not caps.lookup_recent:
        return None
    try:
        recent = connector.lookup_replies(
            item.channel_account,
            reply_to=item_ref(item),
            thread_root=_stored_ref(item.thread_root),
            since=reply.created_at - RECONCILE_SLACK,
            limit=RECONCILE_LOOKUP_LIMIT,
        )
    except ConnectorError as exc:
        raise ValidationError(
            _("We could not check whether the reply went out (%(error)s). Try again later.")
            % {"error": exc.message},
            code="reconcile",
        ) from exc
    # Compared as the network gives texts back (Mastodon: a full mention of an account
    # of its own server, as replies to direct messages open with, reads "@name").
    sent = _normalized(connector.comparable_text(reply.text, account=item.channel_account))
    for post in recent:
        if post.reply_to_id == item.remote_id and _normalized(post.text) == sent:
            return post
    return None


def inbox_reply_retry(
    *, reply: Reply, actor: User, membership: Membership, request: HttpRequest | None = None
) -> Reply:
    """Try again to send a reply that failed for a passing reason, or whose outcome is
    unknown (looked for on the network first)."""
    require_perm(membership, "inbox.reply")
    item = reply.item
    connector = get_connector(item.network)
    if reply.status not in (ReplyStatus.FAILED, ReplyStatus.UNKNOWN):
        raise ValidationError(_("Only a reply that did not go out can be tried again."))
    if reply.status == ReplyStatus.FAILED and reply.error_kind == "rejected":
        raise ValidationError(
            _(
                "The network refused this reply, so sending it again would fail too. "
                "Write a new reply instead."
            ),
            code="rejected",
        )
    if reply.status == ReplyStatus.UNKNOWN:
        found = _find_sent(reply, item, connector)
        if found is not None:
            claimed = Reply.objects.filter(pk=reply.pk, status=ReplyStatus.UNKNOWN).update(
                status=ReplyStatus.SENDING
            )
            if claimed:
                result = PublishResult(
                    remote_id=found.ref.remote_id, url=found.ref.url, extra=dict(found.ref.extra)
                )
                return _record_sent(
                    reply, item, result, actor=actor, request=request, reconciled=True
                )
    with transaction.atomic():
        claimed = Reply.objects.filter(pk=reply.pk, status=reply.status).update(
            status=ReplyStatus.SENDING, attempts=F("attempts") + 1
        )
        if not claimed:
            raise ValidationError(_("Someone else is already sending this reply."))
        audit_record(
            action="inbox_reply.retried",
            organization=item.organization,
            actor=actor,
            target=reply,
            old={"status": reply.status},
            new={"status": ReplyStatus.SENDING},
            request=request,
        )
    reply.status = ReplyStatus.SENDING
    return _send(reply, item=item, connector=connector, actor=actor, request=request)


def _decide(
    *,
    reply: Reply,
    actor: User,
    membership: Membership,
    to: ReplyStatus,
    comment: str,
    action: str,
    request: HttpRequest | None,
) -> Reply:
    require_perm(membership, "inbox.approve")
    if reply.author_id == actor.pk:
        raise PermissionDenied(_("Nobody approves their own reply."))
    now = timezone.now()
    with transaction.atomic():
        values = {
            "status": to,
            "decided_by_id": actor.pk,
            "decided_at": now,
            "decision_comment": comment,
        }
        changed = Reply.objects.filter(pk=reply.pk, status=ReplyStatus.PENDING_APPROVAL).update(
            **values, **({"attempts": F("attempts") + 1} if to == ReplyStatus.SENDING else {})
        )
        if not changed:
            raise ValidationError(
                _("This reply is no longer waiting for approval."), code="decided"
            )
        for name, value in values.items():
            setattr(reply, name, value)
        audit_record(
            action=action,
            organization=reply.item.organization,
            actor=actor,
            target=reply,
            old={"status": ReplyStatus.PENDING_APPROVAL},
            new={"status": to, "comment": comment},
            request=request,
        )
    return reply


def inbox_reply_approve(
    *,
    reply: Reply,
    actor: User,
    membership: Membership,
    comment: str = "",
    request: HttpRequest | None = None,
) -> Reply:
    """Approve a reply that waits for approval, and send it."""
    item = reply.item
    connector = get_connector(item.network)
    _decide(
        reply=reply,
        actor=actor,
        membership=membership,
        to=ReplyStatus.SENDING,
        comment=comment.strip(),
        action="inbox_reply.approved",
        request=request,
    )
    return _send(reply, item=item, connector=connector, actor=actor, request=request)


def inbox_reply_reject(
    *,
    reply: Reply,
    actor: User,
    membership: Membership,
    comment: str,
    request: HttpRequest | None = None,
) -> Reply:
    """Turn a reply down with a reason; its author is told."""
    comment = comment.strip()
    if not comment:
        raise ValidationError(
            _("Say why, so that the author can write a better reply."), code="comment"
        )
    _decide(
        reply=reply,
        actor=actor,
        membership=membership,
        to=ReplyStatus.REJECTED,
        comment=comment,
        action="inbox_reply.rejected",
        request=request,
    )
    if reply.author is not None:
        _notify(
            [reply.author],
            reply.item,
            "inbox.reply_rejected",
            _lazy("%(reviewer)s did not approve your reply to %(who)s: %(comment)s"),
            reviewer=actor,
            who=reply.item.author_label,
            comment=comment,
        )
    return reply
