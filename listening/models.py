"""Listening: watches on what the public says, the posts they found, volume and alerts.

A **Watch** is a set of terms (words, phrases, ``#hashtags``, ``@handles``) with
excluded terms, searched through some of the organization's channel accounts
(the account's network is the network searched; its sign-in is the viewer the
search runs as). **WatchSource** is one (watch, account) pair's place in that
work: when it was last searched, when next, and what went wrong. Every matching
post is kept once per watch as a **ListeningPost** (deduplicated by the network's
id). **WatchVolume** counts the matching posts per hour (by the post's own time);
a **WatchAlert** is raised, once per hour, when an hour's count passes the
baseline. A **MisinformationCase** groups the posts that spread one false claim,
with the correction we published and its reach over time (**CaseReach**).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.connectors.base import ErrorKind

ALERT_FACTOR_DEFAULT = 3
ALERT_MIN_COUNT_DEFAULT = 10


class Watch(models.Model):
    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="watches"
    )
    name = models.CharField(_("name"), max_length=120)
    terms = models.JSONField(_("terms"), default=list)
    excluded_terms = models.JSONField(_("excluded terms"), default=list, blank=True)
    prefix_match = models.BooleanField(_("match word beginnings"), default=False)
    channel_accounts = models.ManyToManyField(
        "accounts.ChannelAccount", related_name="watches", verbose_name=_("search through")
    )
    followers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="followed_watches",
        blank=True,
        verbose_name=_("followers"),
    )
    alert_factor = models.PositiveSmallIntegerField(
        _("alert at this many times the usual volume"), default=ALERT_FACTOR_DEFAULT
    )
    alert_min_count = models.PositiveIntegerField(
        _("alert only from this many posts an hour"), default=ALERT_MIN_COUNT_DEFAULT
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("watch")
        verbose_name_plural = _("watches")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class WatchSource(models.Model):
    """One watch searched through one account: the poll's state (the database, not the
    broker, says what is due)."""

    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="sources")
    channel_account = models.ForeignKey(
        "accounts.ChannelAccount", on_delete=models.CASCADE, related_name="watch_sources"
    )
    searched_until = models.DateTimeField(null=True, blank=True)
    next_poll_at = models.DateTimeField(default=timezone.now)
    leased_until = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_kind = models.CharField(max_length=20, choices=ErrorKind.choices, blank=True)
    failures = models.PositiveIntegerField(default=0)
    posts_found = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["watch", "channel_account"], name="uniq_watch_source")
        ]
        indexes = [models.Index(fields=["next_poll_at"], name="watch_source_due_idx")]

    def __str__(self) -> str:
        return f"{self.watch_id}@{self.channel_account_id}"


class ListeningPost(models.Model):
    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="+"
    )
    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="posts")
    channel_account = models.ForeignKey(
        "accounts.ChannelAccount",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("found through"),
    )
    network = models.CharField(_("network"), max_length=32)
    # The id on the server of ``channel_account`` (what a reply through it names).
    remote_id = models.CharField(max_length=300)
    # The post's identity across the network: Mastodon's status ``uri``, the same
    # through every instance; elsewhere the network's own id (= ``remote_id``).
    canonical_key = models.CharField(max_length=500)
    url = models.CharField(_("address on the network"), max_length=500, blank=True)
    author_handle = models.CharField(_("author"), max_length=255)
    author_name = models.CharField(_("author's name"), max_length=255, blank=True)
    text = models.TextField(_("text"), blank=True)
    language = models.CharField(_("language"), max_length=16, blank=True)
    posted_at = models.DateTimeField(_("time"))
    found_at = models.DateTimeField(default=timezone.now)
    likes = models.PositiveIntegerField(_("likes"), default=0)
    shares = models.PositiveIntegerField(_("shares"), default=0)
    replies = models.PositiveIntegerField(_("replies"), default=0)
    quotes = models.PositiveIntegerField(_("quotes"), default=0)
    matched_terms = models.JSONField(default=list, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    misinformation_at = models.DateTimeField(null=True, blank=True)
    misinformation_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    case = models.ForeignKey(
        "listening.MisinformationCase",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="posts",
    )
    correction_url = models.CharField(_("our correcting post"), max_length=500, blank=True)
    inbox_item = models.ForeignKey(
        "inbox.InboxItem", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-posted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["watch", "network", "canonical_key"], name="uniq_listening_post_key"
            )
        ]
        # The stream reads newest first, by watch, optionally by network or language.
        indexes = [
            models.Index(fields=["watch", "-posted_at", "-id"], name="listen_watch_time_idx"),
            models.Index(
                fields=["watch", "network", "-posted_at", "-id"], name="listen_watch_net_idx"
            ),
            models.Index(
                fields=["watch", "language", "-posted_at", "-id"], name="listen_watch_lang_idx"
            ),
            models.Index(
                fields=["watch", "-posted_at", "-id"],
                name="listen_watch_misinfo_idx",
                condition=models.Q(misinformation_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.author_handle}: {self.text[:40]}"

    @property
    def engagement(self) -> int:
        return self.likes + self.shares + self.replies + self.quotes


class WatchVolume(models.Model):
    """How many matching posts a watch found, per hour of their posting (UTC)."""

    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="volume")
    hour = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["watch", "hour"], name="uniq_watch_volume_hour")
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}:00 {self.count}"


class WatchAlert(models.Model):
    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="alerts")
    hour = models.DateTimeField(_("hour"))
    count = models.PositiveIntegerField(_("posts"))
    baseline = models.FloatField(_("usual volume"))
    created_at = models.DateTimeField(default=timezone.now)
    # Someone saw the alert and took it in hand (the API's and the team's "seen").
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-hour"]
        constraints = [
            models.UniqueConstraint(fields=["watch", "hour"], name="uniq_watch_alert_hour")
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}:00 {self.count}"


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class MisinformationCase(models.Model):
    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="+"
    )
    watch = models.ForeignKey(
        Watch, on_delete=models.SET_NULL, null=True, blank=True, related_name="cases"
    )
    claim = models.CharField(_("false claim"), max_length=300)
    correction_url = models.CharField(_("our correcting post"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN
    )
    closing_note = models.TextField(_("closing note"), blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]

    def __str__(self) -> str:
        return self.claim


class CaseReach(models.Model):
    """The case's posts and their engagement at one moment: reach over time."""

    case = models.ForeignKey(MisinformationCase, on_delete=models.CASCADE, related_name="reach")
    at = models.DateTimeField(default=timezone.now)
    posts = models.PositiveIntegerField()
    engagement = models.PositiveIntegerField()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.engagement}"
