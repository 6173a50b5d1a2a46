"""Posts, their variants and media, approval, and the jobs that publish them.

A **Post** is one message. It reaches each channel account in each language
through a **Variant** (its own text, media and options; a thread continues in
``VariantPart`` rows). A post moves through ``PostStatus`` only by the
services in ``publishing.services`` (one service per transition, each a
conditional update that checks the current state and writes an audit entry).

Publishing is done by **PublishJob** rows, one per variant, claimed by the
dispatcher in the database and run by Celery workers; every call to a network
is a **PublishAttempt** written before the call. The broker only carries "run
job 42 now": the database is the record of what is due.

All times are aware datetimes stored in UTC.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.connectors.base import ErrorKind

# --- organization settings ----------------------------------------------------------


class PublishingSettings(models.Model):
    """The organization's publishing rules (one row per organization, made on first use)."""

    organization = models.OneToOneField(
        "governance.Organization", on_delete=models.CASCADE, related_name="publishing_settings"
    )
    require_alt_text = models.BooleanField(
        _("alt text required"),
        default=True,
        help_text=_("Refuse to schedule an image without a description in the post's language."),
    )
    require_captions = models.BooleanField(
        _("captions required"),
        default=True,
        help_text=_(
            "Refuse to submit a post with a video until the video has captions in the "
            "post's language."
        ),
    )
    late_cutoff_minutes = models.PositiveIntegerField(
        _("late cut-off (minutes)"),
        default=30,
        help_text=_(
            "A post that cannot go out within this many minutes of its time is not "
            "published late: it fails and its author is told."
        ),
    )
    # The language versions a new post starts with ([] : worked out from the
    # organization's default language, see ``post_languages_for``).
    post_languages = models.JSONField(_("languages of a new post"), default=list, blank=True)
    # The languages posts may be written in: BCP 47 tags, normalised, in order
    # ([]: the interface's languages, see ``organization_languages``).
    languages = models.JSONField(_("languages of posts"), default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("publishing settings")
        verbose_name_plural = _("publishing settings")

    def __str__(self) -> str:
        return f"Publishing settings of {self.organization_id}"


class Campaign(models.Model):
    """A label grouping posts (a season's campaign, an event), for the calendar's filters."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="campaigns"
    )
    name = models.CharField(_("name"), max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="uniq_campaign_name"),
        ]

    def __str__(self) -> str:
        return self.name


# --- media library ---------------------------------------------------------------------


def media_upload_to(instance: MediaAsset, filename: str) -> str:
    # A random name: the original may carry personal data, and names collide.
    extension = {
        "image/jpeg": "jpg",
        "image/png": "png",
        "image/gif": "gif",
        "image/webp": "webp",
        "video/mp4": "mp4",
        "video/quicktime": "mov",
        "video/webm": "webm",
    }
    ext = extension.get(instance.mime_type, "bin")
    return f"media/{instance.organization_id}/{uuid.uuid4().hex}.{ext}"


def media_poster_upload_to(instance: MediaAsset, filename: str) -> str:
    return f"media/{instance.organization_id}/{uuid.uuid4().hex}-poster.jpg"


class MediaKind(models.TextChoices):
    IMAGE = "image", _("Image")
    VIDEO = "video", _("Video")


class MediaAsset(models.Model):
    """An image or a video in the organization's library. An image's type and size were
    checked with Pillow on upload (``media_asset_upload``); a video was probed with
    ffprobe (``media_video_upload``), which filled in its duration, codecs, frame rate and
    bitrate, and ffmpeg took its poster frame. Alt text is per language."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="media_assets"
    )
    file = models.FileField(_("file"), upload_to=media_upload_to, max_length=255)
    original_name = models.CharField(_("original file name"), max_length=255, blank=True)
    mime_type = models.CharField(_("type"), max_length=50)
    size_bytes = models.PositiveBigIntegerField(_("size in bytes"))
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    sha256 = models.CharField(max_length=64)
    kind = models.CharField(
        _("kind"), max_length=10, choices=MediaKind.choices, default=MediaKind.IMAGE
    )
    # Videos only (ffprobe's findings).
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    video_codec = models.CharField(_("video codec"), max_length=30, blank=True)
    audio_codec = models.CharField(_("audio codec"), max_length=30, blank=True)
    frame_rate = models.FloatField(_("frame rate"), null=True, blank=True)
    bitrate = models.PositiveBigIntegerField(_("bitrate (bit/s)"), null=True, blank=True)
    container = models.CharField(_("container"), max_length=60, blank=True)
    poster = models.FileField(
        _("poster frame"), upload_to=media_poster_upload_to, max_length=255, blank=True
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("media file")
        verbose_name_plural = _("media files")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.original_name or f"{self.kind} {self.pk}"

    @property
    def is_video(self) -> bool:
        return self.kind == MediaKind.VIDEO

    @property
    def aspect_ratio(self) -> float:
        return self.width / self.height if self.height else 0.0

    @property
    def aspect_label(self) -> str:
        """The aspect ratio as people say it ("16:9", "9:16", "4:3"), or "1.78:1"."""
        from math import gcd

        if not self.width or not self.height:
            return ""
        divisor = gcd(self.width, self.height)
        w, h = self.width // divisor, self.height // divisor
        if w <= 32 and h <= 32:
            return f"{w}:{h}"
        # Encoders round sides to even numbers (a 9:16 crop of 360 rows is 202 wide): name
        # the shape it was meant to be when it is within 1 % of a common one.
        ratio = self.width / self.height
        for cw, ch in ((16, 9), (9, 16), (4, 3), (3, 4), (1, 1), (4, 5), (21, 9)):
            if abs(ratio - cw / ch) <= 0.01 * (cw / ch):
                return f"{cw}:{ch}"
        return f"{ratio:.2f}:1"

    @property
    def bitrate_kbit(self) -> int:
        return round((self.bitrate or 0) / 1000)

    @property
    def duration_label(self) -> str:
        """``m:ss`` (``h:mm:ss`` from an hour), "" for an image."""
        if self.duration_ms is None:
            return ""
        seconds = round(self.duration_ms / 1000)
        hours, rest = divmod(seconds, 3600)
        minutes, secs = divmod(rest, 60)
        return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"

    def alt_text_for(self, language: str) -> str:
        """The description in ``language`` ("" when there is none). Uses prefetched rows,
        or the text typed in the composer and not saved yet (``typed_alt_texts``)."""
        typed: dict[str, str] | None = getattr(self, "typed_alt_texts", None)
        if typed is not None and language in typed:
            return typed[language]
        for alt in self.alt_texts.all():
            if alt.language == language:
                return alt.text
        return ""


class MediaCaption(models.Model):
    """A video's captions in one language: checked and normalised to WebVTT on upload
    (``media_caption_set``); the transcript is the caption text, kept with the record."""

    asset = models.ForeignKey(MediaAsset, on_delete=models.CASCADE, related_name="captions")
    language = models.CharField(_("language"), max_length=10)
    vtt = models.TextField(_("captions (WebVTT)"))
    transcript = models.TextField(_("transcript"), blank=True)
    cue_count = models.PositiveIntegerField(_("cues"), default=0)
    original_name = models.CharField(_("original file name"), max_length=255, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("captions")
        verbose_name_plural = _("captions")
        constraints = [
            models.UniqueConstraint(fields=["asset", "language"], name="uniq_caption_language"),
        ]

    def __str__(self) -> str:
        return f"{self.language}: {self.cue_count}"


class MediaAltText(models.Model):
    """What the image shows, in words, in one language (read aloud by screen readers)."""

    asset = models.ForeignKey(MediaAsset, on_delete=models.CASCADE, related_name="alt_texts")
    language = models.CharField(_("language"), max_length=10)
    text = models.TextField(_("alt text"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("alt text")
        verbose_name_plural = _("alt texts")
        constraints = [
            models.UniqueConstraint(fields=["asset", "language"], name="uniq_alt_text_language"),
        ]

    def __str__(self) -> str:
        return f"{self.language}: {self.text[:40]}"


class UploadStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("video upload status", "uploading")
    COMPLETE = "complete", pgettext_lazy("video upload status", "complete")
    CANCELLED = "cancelled", pgettext_lazy("video upload status", "cancelled")
    FAILED = "failed", pgettext_lazy("video upload status", "failed")
    EXPIRED = "expired", pgettext_lazy("video upload status", "expired")


class VideoUploadSession(models.Model):
    """A video arriving in chunks from the browser (``publishing/services/video_upload.py``).

    The bytes received so far lie in a file of their own under ``VIDEO_UPLOAD_DIR``, never
    in memory or in this row; ``received`` is the offset the next chunk must start at, so
    an upload broken by a network error or a page reload resumes from there. When the last
    byte arrives the file goes through the library's video pipeline (probe, poster) and
    ``asset`` names the result. Open sessions left alone past ``expires_at`` are removed
    by a periodic task."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    original_name = models.CharField(_("original file name"), max_length=255)
    size_bytes = models.PositiveBigIntegerField(_("size in bytes"))
    received_bytes = models.PositiveBigIntegerField(_("bytes received"), default=0)
    alt_texts = models.JSONField(_("alt texts"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=UploadStatus.choices, default=UploadStatus.OPEN
    )
    error = models.TextField(_("error"), blank=True)
    asset = models.ForeignKey(
        MediaAsset, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = _("video upload")
        verbose_name_plural = _("video uploads")
        indexes = [models.Index(fields=["status", "expires_at"], name="upload_session_expiry")]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.received_bytes}/{self.size_bytes})"


# --- posts ----------------------------------------------------------------------------


class PostStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    APPROVED = "approved", _("Approved")
    SCHEDULED = "scheduled", _("Scheduled")
    PUBLISHING = "publishing", _("Publishing")
    PUBLISHED = "published", _("Published")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


# Every move a post may make; the services refuse anything else. An edit of an
# in-review, approved or scheduled post goes (back) to in_review.
POST_TRANSITIONS: dict[str, frozenset[str]] = {
    PostStatus.DRAFT: frozenset({PostStatus.IN_REVIEW, PostStatus.CANCELLED}),
    PostStatus.IN_REVIEW: frozenset(
        {
            PostStatus.IN_REVIEW,
            PostStatus.APPROVED,
            PostStatus.CHANGES_REQUESTED,
            PostStatus.DRAFT,
            PostStatus.CANCELLED,
        }
    ),
    PostStatus.CHANGES_REQUESTED: frozenset(
        {PostStatus.IN_REVIEW, PostStatus.DRAFT, PostStatus.CANCELLED}
    ),
    PostStatus.APPROVED: frozenset(
        {PostStatus.SCHEDULED, PostStatus.IN_REVIEW, PostStatus.CANCELLED}
    ),
    PostStatus.SCHEDULED: frozenset(
        {
            PostStatus.PUBLISHING,
            PostStatus.APPROVED,
            PostStatus.IN_REVIEW,
            PostStatus.CANCELLED,
            # Every target held by a pause was cancelled, or all finished at once.
            PostStatus.PUBLISHED,
            PostStatus.FAILED,
        }
    ),
    PostStatus.PUBLISHING: frozenset(
        {PostStatus.PUBLISHED, PostStatus.FAILED, PostStatus.CANCELLED}
    ),
    PostStatus.FAILED: frozenset({PostStatus.PUBLISHING}),
    PostStatus.PUBLISHED: frozenset(),
    PostStatus.CANCELLED: frozenset(),
}

# States whose content may still change (an edit after approval goes back to review).
EDITABLE_STATUSES = frozenset(
    {
        PostStatus.DRAFT,
        PostStatus.IN_REVIEW,
        PostStatus.CHANGES_REQUESTED,
        PostStatus.APPROVED,
        PostStatus.SCHEDULED,
    }
)
CANCELLABLE_STATUSES = EDITABLE_STATUSES


class Post(models.Model):
    """One message, published through one variant per channel account and language."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="posts"
    )
    # An internal name for lists and the calendar; the published text is in the variants.
    title = models.CharField(_("title"), max_length=200, blank=True)
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="posts"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=PostStatus.choices, default=PostStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="posts"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(default=timezone.now)
    # When it is to go out (UTC); set while scheduling, kept after publishing.
    scheduled_at = models.DateTimeField(_("publish at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    # Bumped by every content edit; a review round counts decisions on one version.
    version = models.PositiveIntegerField(default=1)
    # Each submission for review starts a new round; decisions of older rounds are history.
    review_round = models.PositiveIntegerField(default=0)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    # A recurring post's occurrence: its series and the start the rule gave it (UTC). The
    # pair is unique, so a skipped or edited occurrence is never made again.
    series = models.ForeignKey(
        "publishing.PostSeries",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="occurrences",
    )
    occurrence_start = models.DateTimeField(null=True, blank=True)
    # Its text was edited on its own: a change of the series' text leaves it alone.
    series_detached = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "scheduled_at"], name="post_org_scheduled_idx"),
            # The posts list (newest change first, optionally one status) and the API's
            # list (newest first) read one page off these instead of sorting every post.
            models.Index(
                fields=["organization", "-updated_at", "-id"], name="post_org_updated_idx"
            ),
            models.Index(
                fields=["organization", "status", "-updated_at", "-id"],
                name="post_org_status_updated_idx",
            ),
            models.Index(
                fields=["organization", "-created_at", "-id"], name="post_org_created_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["series", "occurrence_start"], name="uniq_post_series_occurrence"
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"Post {self.pk}"

    def can_move_to(self, status: str) -> bool:
        return status in POST_TRANSITIONS.get(self.status, frozenset())

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    @property
    def is_cancellable(self) -> bool:
        return self.status in CANCELLABLE_STATUSES


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public")
    UNLISTED = "unlisted", _("Unlisted")
    FOLLOWERS = "followers", _("Followers only")


class Variant(models.Model):
    """The post as it goes to one channel account in one language.

    ``text`` is the first (or only) post; a thread continues in ``parts``
    (``VariantPart`` with ``thread_index`` 1, 2, …) where the network has threads.
    """

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="variants")
    channel_account = models.ForeignKey(
        "accounts.ChannelAccount", on_delete=models.PROTECT, related_name="post_variants"
    )
    language = models.CharField(_("language"), max_length=10)
    text = models.TextField(_("text"), blank=True)
    content_warning = models.CharField(_("content warning"), max_length=500, blank=True)
    visibility = models.CharField(
        _("visibility"), max_length=20, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    # The network's own choices (YouTube's title, TikTok's privacy level…), passed to the
    # connector as ``PublishRequest.options``: see ``publishing.network_options``.
    network_options = models.JSONField(_("network choices"), default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("variant")
        verbose_name_plural = _("variants")
        ordering = ["post", "channel_account_id", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "channel_account", "language"], name="uniq_variant_target"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.post_id}/{self.channel_account_id}/{self.language}"


class VariantPart(models.Model):
    """A later post of a thread: ``thread_index`` 1 answers the variant's own text, 2
    answers 1, and so on."""

    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="parts")
    thread_index = models.PositiveSmallIntegerField()
    text = models.TextField(_("text"), blank=True)

    class Meta:
        verbose_name = _("thread part")
        verbose_name_plural = _("thread parts")
        ordering = ["variant", "thread_index"]
        constraints = [
            models.UniqueConstraint(
                fields=["variant", "thread_index"], name="uniq_variant_part_index"
            ),
            models.CheckConstraint(
                condition=Q(thread_index__gte=1), name="variant_part_index_from_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.variant_id}#{self.thread_index}"


class VariantMedia(models.Model):
    """An image attached to a variant's post number ``thread_index`` (0: the first)."""

    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="media")
    thread_index = models.PositiveSmallIntegerField(default=0)
    position = models.PositiveSmallIntegerField(default=0)
    asset = models.ForeignKey(MediaAsset, on_delete=models.PROTECT, related_name="uses")

    class Meta:
        verbose_name = _("attached image")
        verbose_name_plural = _("attached images")
        ordering = ["variant", "thread_index", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["variant", "thread_index", "position"], name="uniq_variant_media_slot"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.variant_id}#{self.thread_index}:{self.position}"


# --- approval ---------------------------------------------------------------------------


class ApprovalPolicy(models.Model):
    """Who must approve posts to one channel account, or (``channel_account`` empty)
    to every account of the organization that has no policy of its own.

    A post reaching several accounts needs every stage of every policy that
    applies to them. Stages of one policy are taken in order.
    """

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="approval_policies"
    )
    channel_account = models.OneToOneField(
        "accounts.ChannelAccount",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="approval_policy",
    )
    name = models.CharField(_("name"), max_length=200)
    allow_self_approval = models.BooleanField(
        _("authors may approve their own posts"), default=False
    )
    # Each language version is approved on its own (a Swedish translator approves the
    # Swedish text); the post is approved when every language version is.
    per_language = models.BooleanField(
        _("each language version approved separately"), default=False
    )
    # A stage waiting longer than this reminds its approvers (once); after
    # ``escalate_after_hours`` the organization's managers are told (once). Empty: never.
    remind_after_hours = models.PositiveIntegerField(
        _("remind approvers after (hours)"), null=True, blank=True
    )
    escalate_after_hours = models.PositiveIntegerField(
        _("tell the managers after (hours)"), null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("approval policy")
        verbose_name_plural = _("approval policies")
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(channel_account__isnull=True),
                name="uniq_default_approval_policy",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ApprovalStage(models.Model):
    """One step of a policy: the people named here (or, when none are named, every
    member with ``role``) may approve; one of them, or all of them."""

    policy = models.ForeignKey(ApprovalPolicy, on_delete=models.CASCADE, related_name="stages")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(_("name"), max_length=200)
    role = models.CharField(
        _("role"),
        max_length=16,
        blank=True,
        help_text=_("Members with this role may approve (when no people are named)."),
    )
    reviewers = models.ManyToManyField(
        "governance.Membership", blank=True, related_name="approval_stages"
    )
    require_all = models.BooleanField(_("all of them must approve"), default=False)
    # Someone outside GovSocial (a legal unit, a minister's office) who decides this
    # stage through an e-mailed link; members named or by role then do not.
    outside_email = models.EmailField(_("outside reviewer's e-mail"), blank=True)
    # The post's author names the outside reviewer when sending it for review
    # (``outside_email``, if any, is then the suggested address).
    outside_per_post = models.BooleanField(
        _("the author names the outside reviewer for each post"), default=False
    )

    class Meta:
        verbose_name = _("approval stage")
        verbose_name_plural = _("approval stages")
        ordering = ["policy", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "position"], name="uniq_approval_stage_position"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy_id}.{self.position} {self.name}"


class Decision(models.TextChoices):
    APPROVE = "approve", _("Approved")
    REQUEST_CHANGES = "request_changes", _("Changes requested")


class ApprovalDecision(models.Model):
    """One reviewer's decision in one review round. ``stage`` is empty when the
    organization has no policy (any approver may then approve, once)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="decisions")
    stage = models.ForeignKey(
        ApprovalStage, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions"
    )
    # The stage's name at the time, so history reads right after a policy changes.
    stage_name = models.CharField(max_length=200, blank=True)
    review_round = models.PositiveIntegerField()
    post_version = models.PositiveIntegerField()
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # An outside reviewer's address (``reviewer`` is then empty).
    outside_email = models.EmailField(blank=True)
    decision = models.CharField(_("decision"), max_length=20, choices=Decision.choices)
    # The language version approved, under a policy that approves each separately
    # ("": the whole post).
    language = models.CharField(_("language"), max_length=10, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("approval decision")
        verbose_name_plural = _("approval decisions")
        ordering = ["post", "at", "id"]

    def __str__(self) -> str:
        return f"{self.post_id} {self.decision} by {self.reviewer_id}"


class ReviewerLanguages(models.Model):
    """The languages one member may approve (a Swedish translator: Swedish only).
    No row: every language."""

    membership = models.OneToOneField(
        "governance.Membership", on_delete=models.CASCADE, related_name="reviewer_languages"
    )
    languages = models.JSONField(_("languages"), default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("reviewer's languages")
        verbose_name_plural = _("reviewers' languages")

    def __str__(self) -> str:
        return f"{self.membership_id}: {', '.join(self.languages)}"


class PostOutsideReviewer(models.Model):
    """The outside reviewer the author named for one post at a stage that asks for one
    per post. Kept across review rounds, changed at the next submission."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="outside_reviewers")
    stage = models.ForeignKey(ApprovalStage, on_delete=models.CASCADE, related_name="+")
    email = models.EmailField(_("outside reviewer's e-mail"))
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    chosen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("outside reviewer of a post")
        verbose_name_plural = _("outside reviewers of posts")
        constraints = [
            models.UniqueConstraint(fields=["post", "stage"], name="uniq_post_outside_reviewer"),
        ]

    def __str__(self) -> str:
        return f"{self.email} for post {self.post_id} stage {self.stage_id}"


class OutsideReview(models.Model):
    """An e-mailed link that lets an outside reviewer decide one stage of one review
    round, without logging in. Only the token's SHA-256 is stored. The link is bound
    to the post's version and content hash: any change to what would be published
    makes it useless. It works once, until ``expires_at``, unless revoked or replaced
    (a resend makes a new row and revokes this one)."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="outside_reviews"
    )
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="outside_reviews")
    stage = models.ForeignKey(
        ApprovalStage, null=True, on_delete=models.SET_NULL, related_name="outside_reviews"
    )
    stage_name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(_("outside reviewer's e-mail"))
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    review_round = models.PositiveIntegerField()
    post_version = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64)
    # Who to contact about the post, shown on the page when the link no longer works.
    contact_email = models.EmailField(blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    decision = models.CharField(_("decision"), max_length=20, choices=Decision.choices, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("outside review")
        verbose_name_plural = _("outside reviews")
        ordering = ["post", "-created_at", "-id"]
        constraints = [
            # At most one live link per stage of a round: a doubled send cannot make two.
            models.UniqueConstraint(
                fields=["post", "stage", "review_round"],
                condition=Q(used_at__isnull=True, revoked_at__isnull=True),
                name="uniq_live_outside_review",
            ),
        ]

    def __str__(self) -> str:
        return f"outside review {self.pk} of post {self.post_id} by {self.email}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_live(self) -> bool:
        return self.used_at is None and self.revoked_at is None and not self.is_expired


class ReminderKind(models.TextChoices):
    REMIND = "remind", _("Reminder to the approvers")
    ESCALATE = "escalate", _("Escalation to the managers")


class ApprovalReminder(models.Model):
    """A reminder (or escalation) about a stage that waited too long, claimed by its
    insert: the unique constraint lets one tick of two send it, once per round."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="approval_reminders")
    stage = models.ForeignKey(ApprovalStage, on_delete=models.CASCADE, related_name="+")
    review_round = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=ReminderKind.choices)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("approval reminder")
        verbose_name_plural = _("approval reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["post", "stage", "review_round", "kind"], name="uniq_approval_reminder"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for post {self.post_id} stage {self.stage_id}"


# --- dispatch ---------------------------------------------------------------------------


class JobStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    CLAIMED = "claimed", _("Queued")
    RUNNING = "running", _("Publishing")
    HELD = "held", _("Held")
    PUBLISHED = "published", _("Published")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


ACTIVE_JOB_STATUSES = frozenset(
    {JobStatus.PENDING, JobStatus.CLAIMED, JobStatus.RUNNING, JobStatus.HELD}
)
FINAL_JOB_STATUSES = frozenset({JobStatus.PUBLISHED, JobStatus.FAILED, JobStatus.CANCELLED})


class HoldReason(models.TextChoices):
    PAUSE = "pause", _("Publishing is paused")
    ACCOUNT = "account", _("The account cannot publish")
    REVIEW = "review", _("Needs review: we could not tell whether it was published")


class PublishJob(models.Model):
    """Publishing one variant to its channel account.

    ``next_attempt_at`` is when the dispatcher may next claim it (its due time
    at first, later the back-off); ``idempotency_key`` is fixed at creation and
    sent with every attempt so that the network can recognise a repeat.
    """

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="publish_jobs"
    )
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="jobs")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="jobs")
    channel_account = models.ForeignKey(
        "accounts.ChannelAccount", on_delete=models.PROTECT, related_name="publish_jobs"
    )
    due_at = models.DateTimeField(_("due at"))
    status = models.CharField(
        _("status"), max_length=20, choices=JobStatus.choices, default=JobStatus.PENDING
    )
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    leased_until = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=200, blank=True)
    # The last try did not say whether the post went out: look before sending again.
    needs_reconcile = models.BooleanField(default=False)
    hold_reason = models.CharField(max_length=20, choices=HoldReason.choices, blank=True)
    held_at = models.DateTimeField(null=True, blank=True)
    # Published during a pause by an emergency publisher (the pause check is skipped).
    emergency = models.BooleanField(default=False)
    last_error_kind = models.CharField(max_length=20, choices=ErrorKind.choices, blank=True)
    last_error_message = models.TextField(blank=True)
    remote_id = models.CharField(max_length=255, blank=True)
    remote_url = models.URLField(max_length=500, blank=True)
    # The network's references of every post of the thread, in order:
    # [{"remote_id", "url", "extra"}]; the first is the job's remote_id.
    remote_parts = models.JSONField(default=list, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("publish job")
        verbose_name_plural = _("publish jobs")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="job_status_next_idx"),
            models.Index(fields=["status", "leased_until"], name="job_status_lease_idx"),
            models.Index(fields=["organization", "status"], name="job_org_status_idx"),
        ]
        constraints = [
            # At most one live job per variant: a doubled schedule cannot publish twice.
            models.UniqueConstraint(
                fields=["variant"],
                condition=Q(status__in=["pending", "claimed", "running", "held", "published"]),
                name="uniq_live_job_per_variant",
            ),
        ]

    def __str__(self) -> str:
        return f"job {self.pk} ({self.status})"

    def part_key(self, thread_index: int) -> str:
        """The idempotency key of post ``thread_index`` of the thread (the job's own for 0)."""
        if thread_index == 0:
            return str(self.idempotency_key)
        return str(uuid.uuid5(self.idempotency_key, f"part-{thread_index}"))


class AttemptStatus(models.TextChoices):
    STARTED = "started", _("Started")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    UNKNOWN = "unknown", _("Outcome unknown")
    RECONCILED = "reconciled", _("Found on the network")
    NOT_FOUND = "not_found", _("Not found on the network")
    INCOMPLETE = "incomplete", _("Look-up could not read far enough back")


class AttemptKind(models.TextChoices):
    PUBLISH = "publish", _("Publish")
    RECONCILE = "reconcile", _("Look up")
    DELETE = "delete", _("Delete")


class PublishAttempt(models.Model):
    """One call to a network for a job, written before the call (``started``) and
    completed after it. A ``started`` row whose lease has expired means the worker
    died mid-call: the outcome is unknown."""

    job = models.ForeignKey(PublishJob, on_delete=models.CASCADE, related_name="attempt_rows")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=AttemptKind.choices, default=AttemptKind.PUBLISH)
    thread_index = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=AttemptStatus.choices, default=AttemptStatus.STARTED
    )
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error_kind = models.CharField(max_length=20, choices=ErrorKind.choices, blank=True)
    error_message = models.TextField(blank=True)
    remote_id = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name = _("publish attempt")
        verbose_name_plural = _("publish attempts")
        ordering = ["job", "number"]
        constraints = [
            models.UniqueConstraint(fields=["job", "number"], name="uniq_attempt_number"),
        ]

    def __str__(self) -> str:
        return f"job {self.job_id} attempt {self.number} ({self.status})"


# --- crisis pause ---------------------------------------------------------------------------


class PublishingPause(models.Model):
    """Publishing stopped for the organization (or one account) until a manager ends it.
    Due jobs are held meanwhile, never dropped."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="publishing_pauses"
    )
    channel_account = models.ForeignKey(
        "accounts.ChannelAccount",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="publishing_pauses",
    )
    reason = models.TextField(_("reason"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("publishing pause")
        verbose_name_plural = _("publishing pauses")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(ended_at__isnull=True, channel_account__isnull=True),
                name="uniq_active_org_pause",
            ),
            models.UniqueConstraint(
                fields=["organization", "channel_account"],
                condition=Q(ended_at__isnull=True, channel_account__isnull=False),
                name="uniq_active_account_pause",
            ),
        ]

    def __str__(self) -> str:
        return f"pause {self.pk} of {self.organization_id}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None


class EmergencyPublisher(models.Model):
    """A member who may publish while publishing is paused (each such publish is audited)."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="emergency_publishers"
    )
    membership = models.ForeignKey(
        "governance.Membership", on_delete=models.CASCADE, related_name="+"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("emergency publisher")
        verbose_name_plural = _("emergency publishers")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "membership"], name="uniq_emergency_publisher"
            ),
        ]

    def __str__(self) -> str:
        return f"emergency publisher {self.membership_id}"


# --- calendar feed ---------------------------------------------------------------------------


class CalendarFeedToken(models.Model):
    """A member's secret iCalendar feed address. Only the token's SHA-256 is stored:
    the address is shown once, and regenerating it revokes the old one."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed_tokens"
    )
    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="calendar_feed_tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed address")
        verbose_name_plural = _("calendar feed addresses")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization"],
                condition=Q(revoked_at__isnull=True),
                name="uniq_active_calendar_feed",
            ),
        ]

    def __str__(self) -> str:
        return f"calendar feed {self.pk} of {self.user_id}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ImportStatus(models.TextChoices):
    CHECKED = "checked", _("Checked, waiting to be imported")
    IMPORTING = "importing", _("Importing")
    IMPORTED = "imported", _("Imported")
    FAILED = "failed", _("Failed; nothing was imported")


class ImportBatch(models.Model):
    """One uploaded spreadsheet of posts: its rows and their problems as checked
    (``publishing.services.bulk_import``), then what was made of it."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="import_batches"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    file_name = models.CharField(_("file"), max_length=255)
    report = models.JSONField(default=dict)
    row_count = models.PositiveIntegerField(default=0)
    problem_count = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=20, choices=ImportStatus.choices, default=ImportStatus.CHECKED
    )
    # What the person chose when they started the import.
    submit_for_review = models.BooleanField(default=False)
    only_valid_rows = models.BooleanField(default=False)
    failure = models.TextField(blank=True)
    imported_posts = models.PositiveIntegerField(default=0)
    imported_rows = models.PositiveIntegerField(default=0)
    skipped_rows = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("post import")
        verbose_name_plural = _("post imports")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.file_name


# --- links that measure (UTM tags and short links) ------------------------------------


class LinkSettings(models.Model):
    """How links in published posts are rewritten (one row per organization, made on first
    use). The text people approve stays as written: links change at publish time only."""

    organization = models.OneToOneField(
        "governance.Organization", on_delete=models.CASCADE, related_name="link_settings"
    )
    tag_utm = models.BooleanField(
        _("tag links with campaign parameters"),
        default=False,
        help_text=_(
            "Adds utm_source (the network), utm_medium (social) and utm_campaign (the "
            "post's campaign) to each web address in a published post."
        ),
    )
    shorten = models.BooleanField(
        _("shorten links"),
        default=False,
        help_text=_(
            "Replaces each web address with a short link served by GovSocial, which counts "
            "clicks per post, network and day without storing anything about the visitor."
        ),
    )
    short_domain = models.CharField(
        _("short link domain"),
        max_length=253,
        blank=True,
        help_text=_(
            "A domain of your own that points at GovSocial, such as go.example.fi. "
            "Empty: GovSocial's own address."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("link settings")
        verbose_name_plural = _("link settings")

    def __str__(self) -> str:
        return f"Link settings of {self.organization_id}"


class ShortLink(models.Model):
    """One web address of one publish job, behind a short code. Made once per (job,
    address): a retried publish finds the same row, so the same code goes out."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="short_links"
    )
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="short_links")
    job = models.ForeignKey(PublishJob, on_delete=models.CASCADE, related_name="short_links")
    network = models.CharField(max_length=50)
    code = models.CharField(max_length=16, unique=True)
    original_url = models.TextField()
    target_url = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("short link")
        verbose_name_plural = _("short links")
        constraints = [
            models.UniqueConstraint(fields=["job", "original_url"], name="uniq_short_link_per_job"),
        ]

    def __str__(self) -> str:
        return f"short link {self.code}"


class ShortLinkClick(models.Model):
    """Clicks on one short link on one day (UTC). Counts only: no address, cookie or
    browser is stored. Requests from known crawlers are counted apart as ``bot_clicks``."""

    link = models.ForeignKey(ShortLink, on_delete=models.CASCADE, related_name="clicks")
    day = models.DateField()
    clicks = models.PositiveIntegerField(default=0)
    bot_clicks = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("short link clicks")
        verbose_name_plural = _("short link clicks")
        constraints = [
            models.UniqueConstraint(fields=["link", "day"], name="uniq_short_link_day"),
        ]

    def __str__(self) -> str:
        return f"{self.link_id} on {self.day}: {self.clicks}"


class ShortLinkClickBatch(models.Model):
    """A batch of clicks moved from Redis into ``ShortLinkClick``, written in the same
    transaction as its counts: a flush interrupted after the commit finds its batch here
    and only clears Redis, so no click is counted twice (publishing/services/links.py)."""

    batch = models.CharField(max_length=32, unique=True)
    flushed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("short link click batch")
        verbose_name_plural = _("short link click batches")

    def __str__(self) -> str:
        return f"click batch {self.batch}"


# --- writing guidelines --------------------------------------------------------------------


class StyleGuide(models.Model):
    """The short tone and style guide shown where people write (the composer, the inbox
    reply box), in one language or, with no language, in all; it may link to the full
    policy in the governance area."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="style_guides"
    )
    language = models.CharField(
        _("language"),
        max_length=8,
        blank=True,
        help_text=_("Leave empty for a guide shown in every language."),
    )
    text = models.TextField(_("short guide"), max_length=1000)
    policy = models.ForeignKey(
        "governance.Policy",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("full policy"),
    )

    class Meta:
        verbose_name = _("style guide")
        verbose_name_plural = _("style guides")
        ordering = ["language", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "language"], name="uniq_style_guide_language"
            ),
        ]

    def __str__(self) -> str:
        return self.text[:60]

    @property
    def language_name(self) -> str:
        from publishing.languages import language_name  # languages reads these models

        return language_name(self.language) if self.language else ""


class HashtagSet(models.Model):
    """Hashtags people add to a post with one click; a set tied to a campaign may be
    required in every post of that campaign."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="hashtag_sets"
    )
    name = models.CharField(_("name"), max_length=100)
    campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="hashtag_sets",
        verbose_name=_("campaign"),
    )
    hashtags = models.CharField(_("hashtags"), max_length=500)
    required = models.BooleanField(
        _("required in the campaign's posts"),
        default=False,
        help_text=_("Every language version of a post in the campaign must carry these hashtags."),
    )

    class Meta:
        verbose_name = _("hashtag set")
        verbose_name_plural = _("hashtag sets")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def tags(self) -> list[str]:
        return [tag for tag in self.hashtags.split() if tag]


class WordSeverity(models.TextChoices):
    DISCOURAGED = "discouraged", _("Discouraged")
    BANNED = "banned", _("Banned")


class WordRule(models.Model):
    """A word or phrase the organization avoids in one language, with what to write
    instead. A banned one stops a post going to review; a discouraged one is flagged."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="word_rules"
    )
    language = models.CharField(_("language"), max_length=8)
    phrase = models.CharField(_("word or phrase"), max_length=200)
    severity = models.CharField(
        _("severity"),
        max_length=16,
        choices=WordSeverity.choices,
        default=WordSeverity.DISCOURAGED,
    )
    alternative = models.CharField(_("suggested alternative"), max_length=200, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    match_prefix = models.BooleanField(
        _("match inflected forms"),
        default=False,
        help_text=_(
            "Also flag words that begin with it, so Finnish endings are caught "
            "(“virasto” flags “virastossa”)."
        ),
    )

    class Meta:
        verbose_name = _("word rule")
        verbose_name_plural = _("word rules")
        ordering = ["language", "phrase", "pk"]

    def __str__(self) -> str:
        return self.phrase


# --- queue slots ------------------------------------------------------------------------


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class QueueSlot(models.Model):
    """A time of the week the team likes to post on one account ("Tuesdays at 9:00").

    The time is a wall-clock time in the organization's time zone, so 9:00 stays
    9:00 local across a change to or from summer time. "Add to queue" puts a post
    in the earliest slot that none of its accounts has a post planned at.
    """

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="queue_slots"
    )
    channel_account = models.ForeignKey(
        "accounts.ChannelAccount", on_delete=models.CASCADE, related_name="queue_slots"
    )
    weekday = models.PositiveSmallIntegerField(_("day of the week"), choices=Weekday.choices)
    time = models.TimeField(_("time of day"))
    enabled = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("queue slot")
        verbose_name_plural = _("queue slots")
        ordering = ["channel_account_id", "weekday", "time", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel_account", "weekday", "time"], name="uniq_queue_slot"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel_account_id}: {self.get_weekday_display()} {self.time:%H:%M}"


# --- important dates on the calendar ------------------------------------------------------------


class DateKind(models.TextChoices):
    EVENT = "event", _("Event")
    AWARENESS = "awareness", _("Awareness day")
    # A day of mourning, an election silence: publishing on it needs a manager's confirmation.
    QUIET = "quiet", _("Quiet day")


class CalendarSource(models.Model):
    """An iCal calendar the organization's events come from: an uploaded file or a
    subscribed URL (refreshed by ``publishing.tasks.refresh_calendar_sources``).

    A source is checked (its events previewed) before anything is imported: until then
    ``is_active`` is False and the checked file waits in ``pending``."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="calendar_sources"
    )
    name = models.CharField(_("name"), max_length=200)
    url = models.URLField(_("address"), max_length=2000, blank=True, default="")
    is_active = models.BooleanField(default=False)
    pending = models.TextField(blank=True, default="")
    pending_file_name = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    last_error_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("calendar source")
        verbose_name_plural = _("calendar sources")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_subscription(self) -> bool:
        return bool(self.url)


class ImportantDate(models.Model):
    """A day (or days) the organization marks on its calendar."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="important_dates"
    )
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"))
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=DateKind.choices)
    note = models.TextField(_("note"), blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Imported events: the calendar they came from, the event's UID (with the occurrence's
    # RECURRENCE-ID for a repeating one) and, for a timed event, when it starts.
    source = models.ForeignKey(
        CalendarSource, on_delete=models.CASCADE, null=True, blank=True, related_name="dates"
    )
    source_key = models.CharField(max_length=600, blank=True, default="")
    starts_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("important date")
        verbose_name_plural = _("important dates")
        ordering = ["starts_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="important_date_ends_after_start",
            ),
            models.UniqueConstraint(
                fields=["source", "source_key"],
                condition=Q(source__isnull=False),
                name="important_date_unique_source_key",
            ),
        ]
        indexes = [models.Index(fields=["organization", "starts_on", "ends_on"])]

    def __str__(self) -> str:
        return self.name


# --- recurring posts -----------------------------------------------------------------------------


class PostSeries(models.Model):
    """A post that repeats: an RRULE from a wall-clock start in a time zone.

    The first occurrence is the ``head`` post, written and approved like any post. Once
    the head is scheduled, the series is approved at the head's version and the next
    occurrences within a rolling horizon are made as scheduled posts of their own (their
    own variants and publish jobs). An edit of the head's text ends that approval: the
    future occurrences that were plain copies are withdrawn until the new text is
    approved and scheduled.
    """

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="post_series"
    )
    head = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="+")
    # RFC 5545 RRULE without DTSTART, e.g. "FREQ=WEEKLY;INTERVAL=1;BYDAY=TU;COUNT=10".
    rule = models.CharField(_("repeat rule"), max_length=500)
    # The first occurrence as a wall-clock time in ``time_zone``: 09:00 stays 09:00 local.
    starts_on = models.DateField(_("first day"))
    time_of_day = models.TimeField(_("time of day"))
    time_zone = models.CharField(_("time zone"), max_length=64)
    # The head's version the series was approved at (None: waiting for approval).
    approved_version = models.PositiveIntegerField(null=True, blank=True)
    # Occurrences are made up to this far ahead.
    horizon_days = models.PositiveSmallIntegerField(default=60)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("recurring post")
        verbose_name_plural = _("recurring posts")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["head"], name="uniq_series_head")]

    def __str__(self) -> str:
        return f"{self.head_id}: {self.rule}"


# --- compatible copies of videos (transcodes, burned-in captions) -----------------------


class VideoCopyKind(models.TextChoices):
    TRANSCODE = "transcode", _("Compatible copy (H.264/AAC MP4)")
    BURN_CAPTIONS = "burn_captions", _("Copy with captions burned in")


class VideoCopyStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting for the worker")
    RUNNING = "running", _("Being made")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class VideoCopyJob(models.Model):
    """A copy of a library video made by ffmpeg on a worker (``publishing.services.
    video_copies``): the H.264/AAC MP4 that most networks take, optionally cropped to 9:16,
    or with one language's captions burned into the picture. The original is never
    changed; the copy becomes a library video of its own (``result``)."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="video_copy_jobs"
    )
    source = models.ForeignKey(MediaAsset, on_delete=models.CASCADE, related_name="copy_jobs")
    kind = models.CharField(_("kind"), max_length=20, choices=VideoCopyKind.choices)
    # "9:16" to crop the middle of the picture for Reels and TikTok; "" keeps the shape.
    crop = models.CharField(_("crop"), max_length=10, blank=True)
    # The captions burned in (BURN_CAPTIONS only).
    language = models.CharField(_("language"), max_length=10, blank=True)
    status = models.CharField(
        max_length=20, choices=VideoCopyStatus.choices, default=VideoCopyStatus.QUEUED
    )
    progress_percent = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    result = models.ForeignKey(
        MediaAsset, null=True, blank=True, on_delete=models.SET_NULL, related_name="made_by_jobs"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    # Written with each progress report: a running job whose worker died stops beating,
    # and the sweeper hands it to another worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("video copy")
        verbose_name_plural = _("video copies")
        ordering = ["-created_at", "-id"]
        constraints = [
            # Asking twice for the same copy while the first is being made starts one job.
            models.UniqueConstraint(
                fields=["source", "kind", "crop", "language"],
                condition=models.Q(status__in=["queued", "running"]),
                name="uniq_open_video_copy",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.kind} {self.crop} {self.language}".strip()

    @property
    def is_open(self) -> bool:
        return self.status in (VideoCopyStatus.QUEUED, VideoCopyStatus.RUNNING)

    @property
    def source_url(self) -> str:
        from django.urls import reverse

        return reverse("publishing:media_detail", args=[self.source_id])

    @property
    def announced_percent(self) -> int:
        """The progress as said to screen readers: in steps of ten."""
        return self.progress_percent // 10 * 10

    @property
    def language_name(self) -> str:
        from publishing.languages import language_name

        return language_name(self.language) if self.language else ""
