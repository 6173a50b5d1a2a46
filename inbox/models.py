"""The unified inbox: what people said to the organization's accounts, and our answers.

An **InboxItem** is one reply, mention, quote or direct message pulled from a
network (``inbox.services.sync``), kept for good: an item deleted on the
network stays here, marked ``deleted_on_network_at``, for the records archive.
Items of one conversation share a ``thread_key`` (the remote id of the
thread's first post). Our answers are **Reply** rows, sent through the
account's connector (after approval where the organization asks for it).

Per organization: a **ResponsePolicy** (working days and hours and the target
response time, from which each item's SLA due time is counted), **InboxSettings**
(signature rule, which accounts or tags need reply approval), **Tag**,
**SavedReply** (canned answers in several languages), **PriorityWord** (words
that raise an item's priority), and each person's **SavedView** filters.

**InboxCursor** holds each account's position in its network's notifications.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.connectors.base import ErrorKind


class ItemKind(models.TextChoices):
    REPLY = "reply", _("Reply")
    MENTION = "mention", _("Mention")
    QUOTE = "quote", _("Quote")
    DM = "dm", _("Direct message")


class ItemStatus(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")


# Items still waiting for someone: the only ones that can be overdue.
OPEN_STATUSES = frozenset({ItemStatus.NEW, ItemStatus.ASSIGNED})


class Priority(models.IntegerChoices):
    LOW = 0, _("Low")
    NORMAL = 1, _("Normal")
    HIGH = 2, _("High")
    URGENT = 3, _("Urgent")


class SignatureRule(models.TextChoices):
    NONE = "none", _("No signature")
    FIRST_NAME = "first_name", _("The first name of the person answering")
    ORGANIZATION = "organization", _("The organization's name")


def default_working_days() -> list[int]:
    return [0, 1, 2, 3, 4]  # Monday to Friday (Python's weekday numbers)


class ResponsePolicy(models.Model):
    """How fast the organization promises to answer, counted in its working hours.

    "Within one working day" with hours 8-16 is ``target_hours`` 8: an item that
    arrives on Friday at 15:00 is due on Monday at 15:00. Times are the
    organization's local time (``Organization.time_zone``), daylight saving included.
    """

    organization = models.OneToOneField(
        "governance.Organization", on_delete=models.CASCADE, related_name="response_policy"
    )
    working_days = models.JSONField(_("working days"), default=default_working_days)
    work_starts = models.TimeField(_("working day starts"), default=time(8, 0))
    work_ends = models.TimeField(_("working day ends"), default=time(16, 0))
    target_hours = models.DecimalField(
        _("answer within (working hours)"),
        max_digits=6,
        decimal_places=2,
        default=Decimal("8"),
        help_text=_("Counted in working hours only: 8 with a day of 8-16 is one working day."),
    )
    high_priority_target_hours = models.DecimalField(
        _("high-priority items: answer within (working hours)"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Leave empty to use the same target for every item."),
    )
    # ISO dates (YYYY-MM-DD) that are not working days: public holidays.
    holidays = models.JSONField(_("holidays"), default=list, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("response policy")
        verbose_name_plural = _("response policies")

    def __str__(self) -> str:
        return f"Response policy of {self.organization_id}"


class InboxSettings(models.Model):
    """The organization's rules for answering: the signature, and where replies need approval."""

    organization = models.OneToOneField(
        "governance.Organization", on_delete=models.CASCADE, related_name="inbox_settings"
    )
    signature_rule = models.CharField(
        _("sign replies with"),
        max_length=20,
        choices=SignatureRule.choices,
        default=SignatureRule.FIRST_NAME,
    )
    approval_accounts = models.ManyToManyField(
        "accounts.ChannelAccount",
        blank=True,
        related_name="+",
        verbose_name=_("replies from these accounts need approval"),
    )
    approval_tags = models.ManyToManyField(
        "inbox.Tag",
        blank=True,
        related_name="+",
        verbose_name=_("replies to items with these tags need approval"),
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("inbox settings")
        verbose_name_plural = _("inbox settings")

    def __str__(self) -> str:
        return f"Inbox settings of {self.organization_id}"


class Tag(models.Model):
    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="inbox_tags"
    )
    name = models.CharField(_("name"), max_length=50)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), "organization", name="uniq_inbox_tag_name"),
        ]

    def __str__(self) -> str:
        return self.name


class InboxCursor(models.Model):
    """Where an account's sync stands: the network's cursor, stored with each page's items."""

    channel_account = models.OneToOneField(
        "accounts.ChannelAccount", on_delete=models.CASCADE, related_name="inbox_cursor"
    )
    cursor = models.TextField(null=True, blank=True)
    # Not before this (the network asked us to wait, or the last try failed).
    next_sync_at = models.DateTimeField(null=True, blank=True)
    # A run holds the account until then; a second worker finds it taken.
    leased_until = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_kind = models.CharField(max_length=20, choices=ErrorKind.choices, blank=True)
    failures = models.PositiveIntegerField(default=0)
    items_synced = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("inbox cursor")
        verbose_name_plural = _("inbox cursors")

    def __str__(self) -> str:
        return f"Inbox cursor of account {self.channel_account_id}"


class InboxItem(models.Model):
    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="inbox_items"
    )
    # PROTECT: the archive outlives a channel account's removal from the app.
    channel_account = models.ForeignKey(
        "accounts.ChannelAccount", on_delete=models.PROTECT, related_name="inbox_items"
    )
    network = models.CharField(_("network"), max_length=32)
    remote_id = models.CharField(max_length=300)
    kind = models.CharField(_("kind"), max_length=10, choices=ItemKind.choices)
    author_handle = models.CharField(_("author"), max_length=255)
    author_name = models.CharField(_("author's name"), max_length=255, blank=True)
    author_id = models.CharField(max_length=255, blank=True)
    text = models.TextField(_("text"), blank=True)
    url = models.CharField(_("address on the network"), max_length=500, blank=True)
    language = models.CharField(_("language"), max_length=16, blank=True)
    # When the author wrote it (the network's time; our receipt time when it gives none).
    posted_at = models.DateTimeField(_("time"))
    received_at = models.DateTimeField(default=timezone.now)
    # References as the network gives them ({"remote_id", "url", "extra"}), for threads
    # and for answering (Bluesky needs the uri and cid of the parent and the root).
    in_reply_to = models.JSONField(default=dict, blank=True)
    in_reply_to_remote_id = models.CharField(max_length=300, blank=True)
    thread_root = models.JSONField(default=dict, blank=True)
    # The remote id of the conversation's first post: items sharing it are one thread.
    thread_key = models.CharField(max_length=300)
    # What the network needs to point at this item itself (Bluesky: its cid).
    ref_extra = models.JSONField(default=dict, blank=True)
    raw = models.JSONField(default=dict, blank=True)

    status = models.CharField(
        _("status"), max_length=10, choices=ItemStatus.choices, default=ItemStatus.NEW
    )
    status_changed_at = models.DateTimeField(default=timezone.now)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbox_items",
        verbose_name=_("assigned to"),
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    # The watch words that raised the priority, as written in the list.
    matched_words = models.JSONField(default=list, blank=True)
    sla_due_at = models.DateTimeField(_("answer by"), null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    deleted_on_network_at = models.DateTimeField(_("deleted on the network"), null=True, blank=True)
    # Hidden from the public by us (the network keeps it; the archive keeps its text).
    hidden_on_network_at = models.DateTimeField(_("hidden on the network"), null=True, blank=True)
    deletion_checked_at = models.DateTimeField(null=True, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="items", verbose_name=_("tags"))

    class Meta:
        verbose_name = _("inbox item")
        verbose_name_plural = _("inbox items")
        ordering = ["-posted_at", "-id"]
        constraints = [
            # Re-syncing can never make a second copy of what the network sent once.
            models.UniqueConstraint(
                fields=["channel_account", "remote_id"], name="uniq_inbox_item_remote"
            ),
        ]
        # The list is newest first, filtered by these columns (see inbox.selectors).
        indexes = [
            models.Index(fields=["organization", "-posted_at", "-id"], name="inbox_org_posted_idx"),
            models.Index(
                fields=["organization", "status", "-posted_at", "-id"],
                name="inbox_org_status_idx",
            ),
            models.Index(
                fields=["organization", "assignee", "-posted_at", "-id"],
                name="inbox_org_assignee_idx",
            ),
            models.Index(
                fields=["organization", "network", "-posted_at", "-id"],
                name="inbox_org_network_idx",
            ),
            models.Index(
                fields=["organization", "priority", "-posted_at", "-id"],
                name="inbox_org_priority_idx",
            ),
            models.Index(
                fields=["channel_account", "-posted_at", "-id"], name="inbox_account_posted_idx"
            ),
            models.Index(
                fields=["organization", "sla_due_at"],
                name="inbox_org_open_due_idx",
                condition=Q(status__in=["new", "assigned"]),
            ),
            # The day's answers and answers due, read live for today's figures (analytics).
            models.Index(
                fields=["organization", "first_response_at"], name="inbox_org_answered_idx"
            ),
            models.Index(fields=["organization", "sla_due_at"], name="inbox_org_due_idx"),
            models.Index(fields=["channel_account", "thread_key"], name="inbox_account_thread_idx"),
            models.Index(
                fields=["channel_account", "in_reply_to_remote_id"],
                name="inbox_account_parent_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.author_handle}: {self.text[:40]}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, now: datetime | None = None) -> bool:
        moment = now or timezone.now()
        return bool(self.is_open and self.sla_due_at is not None and self.sla_due_at < moment)

    @property
    def author_label(self) -> str:
        # Empty once a retention rule anonymized the item.
        return self.author_name or self.author_handle or str(_("someone (name removed)"))


class ReplyStatus(models.TextChoices):
    PENDING_APPROVAL = "pending_approval", _("Waiting for approval")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    # The network did not confirm: looked up before anything is sent again.
    UNKNOWN = "unknown", _("Not confirmed by the network")
    REJECTED = "rejected", _("Not approved")


class Reply(models.Model):
    """Our answer to an inbox item, sent through the account's connector.

    ``idempotency_key`` is fixed at creation and sent with every try, so a network
    that honours it (Mastodon, the Sandbox) returns the first post on a repeat.
    """

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="inbox_replies"
    )
    item = models.ForeignKey(InboxItem, on_delete=models.PROTECT, related_name="replies")
    channel_account = models.ForeignKey(
        "accounts.ChannelAccount", on_delete=models.PROTECT, related_name="inbox_replies"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What the person wrote, and what goes to the network (with the signature).
    body = models.TextField(_("reply"))
    text = models.TextField(_("text sent"))
    language = models.CharField(_("language"), max_length=10, blank=True)
    saved_reply = models.ForeignKey(
        "inbox.SavedReply", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=20, choices=ReplyStatus.choices)
    needs_approval = models.BooleanField(default=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(blank=True)
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    attempts = models.PositiveIntegerField(default=0)
    remote_id = models.CharField(max_length=300, blank=True)
    remote_url = models.CharField(max_length=500, blank=True)
    remote_extra = models.JSONField(default=dict, blank=True)
    error_kind = models.CharField(max_length=20, choices=ErrorKind.choices, blank=True)
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("reply")
        verbose_name_plural = _("replies")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["channel_account", "remote_id"], name="inbox_reply_remote_idx"),
            models.Index(fields=["organization", "status"], name="inbox_reply_org_status_idx"),
        ]

    def __str__(self) -> str:
        return f"Reply {self.pk} to item {self.item_id} ({self.status})"


class SavedReply(models.Model):
    """A canned answer in one language. ``{author}``, ``{first_name}`` and
    ``{organization}`` are filled in when it is used."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="saved_replies"
    )
    title = models.CharField(_("title"), max_length=100)
    # Any of the organization's post languages (BCP 47), not only the interface's.
    language = models.CharField(_("language"), max_length=10)
    body = models.TextField(_("text"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("saved reply")
        verbose_name_plural = _("saved replies")
        ordering = ["title", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "title", "language"], name="uniq_saved_reply"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.language})"

    @property
    def language_name(self) -> str:
        from publishing.languages import language_name

        return language_name(self.language)


class PriorityWord(models.Model):
    """A word or phrase that raises an item's priority (crisis and misinformation watch).

    Matched case-insensitively at word boundaries; ``match_prefix`` also matches
    longer words that begin with it, for inflected languages (Finnish "tulva"
    matches "tulvan", "tulvasta"; Swedish "översvämning" "översvämningen").
    """

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="priority_words"
    )
    word = models.CharField(_("word or phrase"), max_length=100)
    # Any BCP 47 tag (posts and inbox items come in any language), not only the
    # interface's; blank: any language.
    language = models.CharField(_("language"), max_length=10, blank=True)
    match_prefix = models.BooleanField(
        _("also match longer forms"),
        default=False,
        help_text=_("Match words that begin with this, such as inflected forms."),
    )
    level = models.PositiveSmallIntegerField(
        _("raise priority to"),
        choices=[(Priority.HIGH, Priority.HIGH.label), (Priority.URGENT, Priority.URGENT.label)],
        default=Priority.HIGH,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("priority word")
        verbose_name_plural = _("priority words")
        ordering = ["word"]
        constraints = [
            models.UniqueConstraint(Lower("word"), "organization", name="uniq_inbox_priority_word"),
        ]

    def __str__(self) -> str:
        return self.word

    @property
    def language_name(self) -> str:
        from publishing.languages import language_name

        return language_name(self.language) if self.language else ""


class SavedView(models.Model):
    """A person's named set of inbox filters (the list page's query string)."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbox_views"
    )
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "owner", "name"], name="uniq_inbox_saved_view"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class WebhookEvent(models.Model):
    """One event of a signed webhook delivery (Meta: a comment, mention or message),
    kept once: a delivery sent again by the network finds its events already here.

    Processing reads the account's new items through the usual cursor sync, so an
    event changes nothing the sync would not (and a lost event loses nothing)."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="webhook_events"
    )
    platform = models.CharField(max_length=32)
    key = models.CharField(max_length=300)
    object = models.CharField(max_length=32, blank=True)
    account_id = models.CharField(max_length=255, blank=True)
    field = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "platform", "key"], name="uniq_inbox_webhook_event"
            ),
        ]
        indexes = [
            models.Index(fields=["processed_at", "received_at"], name="inbox_webhook_pending_idx"),
        ]

    def __str__(self) -> str:
        return self.key


class InboxNote(models.Model):
    """A note the team keeps on an item: shown beside the conversation, never sent to
    the network, kept with the item's records."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="inbox_notes"
    )
    item = models.ForeignKey(InboxItem, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(_("note"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("internal note")
        verbose_name_plural = _("internal notes")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["item", "created_at"], name="inbox_note_item_idx")]

    def __str__(self) -> str:
        return self.body[:40]
