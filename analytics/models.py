"""Metrics pulled from the networks, their daily rollups, goals and scheduled reports.

A **TrackedPost** is a published post (one ``PublishJob``) whose metrics we pull,
with its ``next_pull_at``: the schedule thins out as the post ages (see
``analytics.schedule``). Every pull that changes a number keeps a raw
**PostMetricSnapshot**; an account's followers are kept the same way in
**AccountMetricSnapshot**. **MetricsPullState** holds each account's place in
that work: when its profile is next due, when the network told us to wait
until, and the lease a running pull holds.

Dashboards read only the rollups: one **DailyAccountRollup** per (account, day),
**DailyCampaignRollup** rows for the share of a day's posts and engagement that
belongs to each campaign, and **DailyResponseBucket** rows (how many inbox
items were first answered within each band of response time) from which a
median over any range and any set of accounts is estimated without reading the
items. Days are the organization's calendar days, in its time zone. Rollups are
rebuilt from the raw tables, idempotently, one day at a time.

A **Goal** is a manager's target for one metric over a period; a
**ScheduledReport** is a PDF of a dashboard view e-mailed weekly or monthly.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.connectors.base import ErrorKind

# --- what we pull ------------------------------------------------------------------------


class TrackedPost(models.Model):
    """A published post whose metrics we pull. The latest numbers are kept here too,
    so that a list of top posts reads one row per post, never the snapshots."""

    job = models.OneToOneField(
        "publishing.PublishJob", on_delete=models.CASCADE, related_name="tracking"
    )
    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="+"
    )
    channel_account = models.ForeignKey(
        "accounts.ChannelAccount", on_delete=models.CASCADE, related_name="tracked_posts"
    )
    post = models.ForeignKey("publishing.Post", on_delete=models.CASCADE, related_name="+")
    # The network's reference to the post (Bluesky: uri and cid in ``remote_extra``).
    remote_id = models.CharField(max_length=255)
    remote_url = models.URLField(max_length=500, blank=True)
    remote_extra = models.JSONField(default=dict, blank=True)
    published_at = models.DateTimeField()
    # When to pull next; None: never again (deleted, here or on the network).
    next_pull_at = models.DateTimeField(null=True, blank=True)
    last_pulled_at = models.DateTimeField(null=True, blank=True)
    pulls = models.PositiveIntegerField(default=0)
    deleted_at = models.DateTimeField(null=True, blank=True)
    likes = models.PositiveIntegerField(default=0)
    shares = models.PositiveIntegerField(default=0)
    replies = models.PositiveIntegerField(default=0)
    quotes = models.PositiveIntegerField(default=0)
    # None where the network does not tell.
    impressions = models.PositiveBigIntegerField(null=True, blank=True)
    # likes + shares + replies + quotes: what "top posts" are ranked by.
    engagement = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("tracked post")
        verbose_name_plural = _("tracked posts")
        indexes = [
            models.Index(
                fields=["channel_account", "next_pull_at"], name="tracked_account_due_idx"
            ),
            models.Index(fields=["organization", "published_at"], name="tracked_org_published_idx"),
            # Top posts walk this in engagement order and check the rest from the index.
            models.Index(
                fields=["organization", "-engagement", "published_at", "channel_account"],
                name="tracked_org_engagement_idx",
            ),
            models.Index(fields=["published_at"], name="tracked_published_idx"),
        ]

    def __str__(self) -> str:
        return f"Tracked post {self.remote_id}"


class MetricsPullState(models.Model):
    """One account's metric pulls: what is due, and whether the network asked us to wait."""

    channel_account = models.OneToOneField(
        "accounts.ChannelAccount", on_delete=models.CASCADE, related_name="metrics_state"
    )
    # The account's own numbers (followers) are next due then.
    next_account_pull_at = models.DateTimeField(null=True, blank=True)
    # Nothing for this account before then: a rate limit, or back-off after failures.
    not_before = models.DateTimeField(null=True, blank=True)
    # A running pull holds the account until then; a second worker finds it taken.
    leased_until = models.DateTimeField(null=True, blank=True)
    last_pulled_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_error_kind = models.CharField(max_length=20, choices=ErrorKind.choices, blank=True)

    class Meta:
        verbose_name = _("metrics pull state")
        verbose_name_plural = _("metrics pull states")

    def __str__(self) -> str:
        return f"Metrics pulls of account {self.channel_account_id}"


class PostMetricSnapshot(models.Model):
    """A post's numbers as the network gave them at one moment (kept when they changed)."""

    tracked_post = models.ForeignKey(
        TrackedPost, on_delete=models.CASCADE, related_name="snapshots"
    )
    # Copied from the tracked post: a day's rollup reads snapshots by account and time.
    channel_account = models.ForeignKey(
        "accounts.ChannelAccount", on_delete=models.CASCADE, related_name="+"
    )
    taken_at = models.DateTimeField()
    likes = models.PositiveIntegerField(default=0)
    shares = models.PositiveIntegerField(default=0)
    replies = models.PositiveIntegerField(default=0)
    quotes = models.PositiveIntegerField(default=0)
    impressions = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("post metric snapshot")
        verbose_name_plural = _("post metric snapshots")
        indexes = [
            models.Index(fields=["tracked_post", "taken_at"], name="post_snap_post_time_idx"),
            models.Index(fields=["channel_account", "taken_at"], name="post_snap_account_time_idx"),
        ]

    def __str__(self) -> str:
        return f"Snapshot of {self.tracked_post_id} at {self.taken_at:%Y-%m-%d %H:%M}"


class AccountMetricSnapshot(models.Model):
    """An account's numbers as the network gave them at one moment (kept when they changed)."""

    channel_account = models.ForeignKey(
        "accounts.ChannelAccount", on_delete=models.CASCADE, related_name="metric_snapshots"
    )
    taken_at = models.DateTimeField()
    followers = models.PositiveIntegerField(null=True, blank=True)
    following = models.PositiveIntegerField(null=True, blank=True)
    posts = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("account metric snapshot")
        verbose_name_plural = _("account metric snapshots")
        indexes = [
            models.Index(fields=["channel_account", "taken_at"], name="account_snap_time_idx"),
        ]

    def __str__(self) -> str:
        return f"Snapshot of account {self.channel_account_id} at {self.taken_at:%Y-%m-%d %H:%M}"


# --- daily rollups -------------------------------------------------------------------------


class DailyAccountRollup(models.Model):
    """One account's day, in the organization's calendar: what dashboards read.

    Engagement columns are what the account's posts *gained* that day (the change of
    their latest numbers, summed; negative when likes were withdrawn). Followers are
    the count at the end of the day (the latest known; None before the first pull).
    ``sla_measured`` counts the items whose answer was due that day (those closed
    without needing an answer left out), ``sla_met`` those answered by then.
    """

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="+"
    )
    channel_account = models.ForeignKey(
        "accounts.ChannelAccount", on_delete=models.CASCADE, related_name="daily_rollups"
    )
    day = models.DateField()
    followers = models.PositiveIntegerField(null=True, blank=True)
    followers_gained = models.IntegerField(null=True, blank=True)
    posts_published = models.PositiveIntegerField(default=0)
    likes = models.IntegerField(default=0)
    shares = models.IntegerField(default=0)
    replies = models.IntegerField(default=0)
    quotes = models.IntegerField(default=0)
    impressions = models.BigIntegerField(null=True, blank=True)
    engagement = models.IntegerField(default=0)
    inbox_received = models.PositiveIntegerField(default=0)
    inbox_answered = models.PositiveIntegerField(default=0)
    # The exact median of the day's first answers, in seconds (ranges use the buckets).
    response_median_seconds = models.PositiveIntegerField(null=True, blank=True)
    sla_measured = models.PositiveIntegerField(default=0)
    sla_met = models.PositiveIntegerField(default=0)
    built_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("daily account rollup")
        verbose_name_plural = _("daily account rollups")
        constraints = [
            models.UniqueConstraint(fields=["channel_account", "day"], name="uniq_rollup_day"),
        ]
        indexes = [
            models.Index(fields=["organization", "day"], name="rollup_org_day_idx"),
        ]

    def __str__(self) -> str:
        return f"Account {self.channel_account_id} on {self.day}"


class DailyCampaignRollup(models.Model):
    """The part of an account's day that belongs to one campaign's posts."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="+"
    )
    channel_account = models.ForeignKey(
        "accounts.ChannelAccount", on_delete=models.CASCADE, related_name="+"
    )
    campaign = models.ForeignKey(
        "publishing.Campaign", on_delete=models.CASCADE, related_name="daily_rollups"
    )
    day = models.DateField()
    posts_published = models.PositiveIntegerField(default=0)
    likes = models.IntegerField(default=0)
    shares = models.IntegerField(default=0)
    replies = models.IntegerField(default=0)
    quotes = models.IntegerField(default=0)
    impressions = models.BigIntegerField(null=True, blank=True)
    engagement = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("daily campaign rollup")
        verbose_name_plural = _("daily campaign rollups")
        constraints = [
            models.UniqueConstraint(
                fields=["channel_account", "campaign", "day"], name="uniq_campaign_rollup_day"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "campaign", "day"], name="campaign_rollup_idx"),
        ]

    def __str__(self) -> str:
        return f"Campaign {self.campaign_id}, account {self.channel_account_id} on {self.day}"


class DailyResponseBucket(models.Model):
    """How many of an account's inbox items got their first answer on ``day`` within
    the response-time band ``bucket`` (see ``analytics.schedule.response_bucket``)."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="+"
    )
    channel_account = models.ForeignKey(
        "accounts.ChannelAccount", on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField()
    bucket = models.PositiveSmallIntegerField()
    answered = models.PositiveIntegerField()
    # The response times of those items added up: the band's mean is the estimate.
    seconds = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("daily response-time band")
        verbose_name_plural = _("daily response-time bands")
        constraints = [
            models.UniqueConstraint(
                fields=["channel_account", "day", "bucket"], name="uniq_response_bucket"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "day"], name="response_bucket_org_day_idx"),
        ]

    def __str__(self) -> str:
        return f"Account {self.channel_account_id} on {self.day}, band {self.bucket}"


# --- goals ----------------------------------------------------------------------------------


class GoalMetric(models.TextChoices):
    FOLLOWERS = "followers", _("Followers")
    FOLLOWERS_GAINED = "followers_gained", _("New followers")
    ENGAGEMENT = "engagement", _("Engagement (likes, shares, replies and quotes)")
    IMPRESSIONS = "impressions", _("Impressions")
    POSTS_PUBLISHED = "posts_published", _("Posts published")
    SLA_SHARE = "sla_share", _("Inbox items answered within the response time (%)")
    RESPONSE_MEDIAN = "response_median", _("Median response time (minutes)")


class Goal(models.Model):
    """A target for one metric over a period, for one account or the whole organization."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="analytics_goals"
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    metric = models.CharField(_("metric"), max_length=30, choices=GoalMetric.choices)
    channel_account = models.ForeignKey(
        "accounts.ChannelAccount",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="analytics_goals",
        verbose_name=_("account"),
    )
    target = models.DecimalField(_("target"), max_digits=14, decimal_places=2)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("until"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("goal")
        verbose_name_plural = _("goals")
        ordering = ["period_end", "id"]
        indexes = [
            models.Index(fields=["organization", "period_end"], name="goal_org_end_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="goal_period_order"
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"{self.get_metric_display()} {self.target}"


# --- scheduled reports ----------------------------------------------------------------------


class Cadence(models.TextChoices):
    WEEKLY = "weekly", _("Weekly (the week before, every Monday)")
    MONTHLY = "monthly", _("Monthly (the month before, on the 1st)")


class ScheduledReport(models.Model):
    """A dashboard view sent as a PDF to named e-mail addresses, weekly or monthly.

    The report covers the period that just ended (the previous week, Monday to
    Sunday, or the previous calendar month) in the organization's time zone.
    """

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="scheduled_reports"
    )
    name = models.CharField(_("name"), max_length=200)
    cadence = models.CharField(_("how often"), max_length=10, choices=Cadence.choices)
    channel_account = models.ForeignKey(
        "accounts.ChannelAccount",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("account"),
    )
    campaign = models.ForeignKey(
        "publishing.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("campaign"),
    )
    # E-mail addresses, people outside the app included.
    recipients = models.JSONField(_("recipients"), default=list)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    is_active = models.BooleanField(_("active"), default=True)
    next_send_at = models.DateTimeField(_("next sent at"))
    # A sending worker holds the report until then; a second one finds it taken.
    leased_until = models.DateTimeField(null=True, blank=True)
    last_sent_at = models.DateTimeField(_("last sent at"), null=True, blank=True)
    last_error = models.TextField(blank=True)
    failures = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("scheduled report")
        verbose_name_plural = _("scheduled reports")
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["is_active", "next_send_at"], name="report_due_idx"),
        ]

    def __str__(self) -> str:
        return self.name
