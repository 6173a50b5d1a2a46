"""The complete record: our accounts' own history (posts, versions, comments) and
one search table over everything kept."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.connectors.base import ErrorKind

# --- the complete record ----------------------------------------------------------------
#
# Each account's own history as the network shows it (posts made anywhere, every
# version of each, the comments below them), kept for records law and information
# requests, and one search table over everything kept. ``archive.services.archive``
# writes them; nothing here is ever deleted by a sync: what vanished from the network
# is marked ``found_gone_at``.


def archive_capture_upload_to(instance: ArchivedPost, filename: str) -> str:
    return f"archive/{instance.organization_id}/{instance.pk}-{uuid.uuid4().hex[:8]}.pdf"


class ArchiveCursor(models.Model):
    """Where an account's archive sync stands. A pass walks the account's posts from the
    newest back to the first, a page at a time; ``cursor`` (stored with each page) is
    the network's position in that walk, None when the next run starts a new pass."""

    channel_account = models.OneToOneField(
        "accounts.ChannelAccount", on_delete=models.CASCADE, related_name="archive_cursor"
    )
    cursor = models.TextField(null=True, blank=True)
    pass_started_at = models.DateTimeField(null=True, blank=True)
    passes_completed = models.PositiveIntegerField(default=0)
    next_sync_at = models.DateTimeField(null=True, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_kind = models.CharField(max_length=20, choices=ErrorKind.choices, blank=True)
    failures = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("archive cursor")
        verbose_name_plural = _("archive cursors")

    def __str__(self) -> str:
        return f"Archive cursor of account {self.channel_account_id}"


class ArchivedPost(models.Model):
    """One of an account's own posts, as last seen on the network."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="archived_posts"
    )
    # PROTECT: the record outlives a channel account's removal from the app.
    channel_account = models.ForeignKey(
        "accounts.ChannelAccount", on_delete=models.PROTECT, related_name="archived_posts"
    )
    network = models.CharField(max_length=30)
    remote_id = models.CharField(max_length=300)
    url = models.URLField(max_length=500, blank=True)
    text = models.TextField(blank=True)
    content_warning = models.TextField(blank=True)
    language = models.CharField(max_length=16, blank=True)
    reply_to_remote_id = models.CharField(max_length=300, blank=True)
    # [{"url", "alt_text", "mime_type"}]
    media = models.JSONField(default=list, blank=True)
    posted_at = models.DateTimeField()
    edited_at = models.DateTimeField(null=True, blank=True)
    replies_count = models.IntegerField(null=True, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    found_gone_at = models.DateTimeField(_("found gone"), null=True, blank=True)
    comments_checked_at = models.DateTimeField(null=True, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    # The post as it looked (text, images with their descriptions, time, account), as
    # a PDF for handing over; made when the archive first keeps the post.
    capture = models.FileField(upload_to=archive_capture_upload_to, max_length=255, blank=True)
    captured_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("archived post")
        verbose_name_plural = _("archived posts")
        ordering = ["-posted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel_account", "remote_id"], name="archive_post_unique_remote"
            )
        ]
        indexes = [models.Index(fields=["organization", "posted_at"], name="archive_post_org_idx")]

    def __str__(self) -> str:
        return f"{self.network} post {self.remote_id}"


class ArchivedPostVersion(models.Model):
    """One version of an archived post: the text as it stood from ``valid_from``."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="+"
    )
    post = models.ForeignKey(ArchivedPost, on_delete=models.CASCADE, related_name="versions")
    text = models.TextField(blank=True)
    content_warning = models.TextField(blank=True)
    media = models.JSONField(default=list, blank=True)
    valid_from = models.DateTimeField(null=True, blank=True)
    # The version's time and words, hashed: the same version read twice is stored once.
    version_key = models.CharField(max_length=64)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("archived post version")
        verbose_name_plural = _("archived post versions")
        ordering = ["valid_from", "id"]
        constraints = [
            models.UniqueConstraint(fields=["post", "version_key"], name="archive_version_unique")
        ]

    def __str__(self) -> str:
        return f"Version of {self.post_id} from {self.valid_from}"


class ArchivedComment(models.Model):
    """Someone's comment or reply below one of the account's archived posts."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="archived_comments"
    )
    channel_account = models.ForeignKey(
        "accounts.ChannelAccount", on_delete=models.PROTECT, related_name="archived_comments"
    )
    post = models.ForeignKey(ArchivedPost, on_delete=models.CASCADE, related_name="comments")
    remote_id = models.CharField(max_length=300)
    url = models.URLField(max_length=500, blank=True)
    author_handle = models.CharField(max_length=255, blank=True)
    author_name = models.CharField(max_length=255, blank=True)
    author_id = models.CharField(max_length=255, blank=True)
    text = models.TextField(blank=True)
    language = models.CharField(max_length=16, blank=True)
    in_reply_to_remote_id = models.CharField(max_length=300, blank=True)
    posted_at = models.DateTimeField()
    edited_at = models.DateTimeField(null=True, blank=True)
    # Earlier wordings seen by the archive: [{"text", "until"}], oldest first.
    earlier_texts = models.JSONField(default=list, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    found_gone_at = models.DateTimeField(_("found gone"), null=True, blank=True)

    class Meta:
        verbose_name = _("archived comment")
        verbose_name_plural = _("archived comments")
        ordering = ["posted_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel_account", "remote_id"], name="archive_comment_unique_remote"
            )
        ]

    def __str__(self) -> str:
        return f"Comment {self.remote_id} by {self.author_handle}"


class RecordKind(models.TextChoices):
    POST = "post", _("Our post")
    POST_VERSION = "post_version", _("Earlier version of our post")
    COMMENT = "comment", _("Comment on our post")
    INBOX_ITEM = "inbox_item", _("Inbox message")
    REPLY = "reply", _("Our reply")
    NOTE = "note", _("Internal note")


class RecordEntry(models.Model):
    """One searchable text of the record (a post, a version, a comment, an inbox item,
    a reply, an internal note), pointing at its source row. On PostgreSQL a trigger
    keeps a ``search_vector`` column (not a model field) from ``text`` with the
    text-search configuration ``search_config``, under a GIN index, and ``text`` has
    a trigram index for the fallback (see the migration)."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="+"
    )
    channel_account = models.ForeignKey(
        "accounts.ChannelAccount", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=RecordKind.choices)
    object_id = models.BigIntegerField()
    # The archived post this record belongs to (a post, its version, a comment on it).
    post = models.ForeignKey(
        ArchivedPost, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    author = models.CharField(max_length=255, blank=True)
    occurred_at = models.DateTimeField()
    text = models.TextField(blank=True)
    language = models.CharField(max_length=16, blank=True)
    search_config = models.CharField(max_length=20, default="simple")
    found_gone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("record search entry")
        verbose_name_plural = _("record search entries")
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="record_entry_unique")
        ]
        # The search's newest-first window walks this index; with the id in it, the
        # ties on the time need no sort.
        indexes = [
            models.Index(
                fields=["organization", "occurred_at", "id"], name="record_entry_org_time_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id}"
