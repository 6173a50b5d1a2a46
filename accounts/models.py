from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.connectors.base import ErrorKind, OAuthClient
from accounts.fields import EncryptedJSONField, EncryptedTextField


class AccountStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    NEEDS_RECONNECT = "needs_reconnect", _("Needs reconnect")
    PAUSED = "paused", _("Paused")
    DISCONNECTED = "disconnected", _("Disconnected")


class ChannelAccount(models.Model):
    """One official account of the organization on one network."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="channel_accounts"
    )
    network = models.CharField(_("network"), max_length=32)
    handle = models.CharField(_("handle"), max_length=255)
    display_name = models.CharField(_("display name"), max_length=255, blank=True)
    remote_id = models.CharField(_("network's account id"), max_length=255, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=AccountStatus.choices, default=AccountStatus.ACTIVE
    )
    # Members limited to some accounts (Membership.all_accounts False) see only these.
    limited_members = models.ManyToManyField(
        "governance.Membership", blank=True, related_name="channel_accounts"
    )
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Base address of the account's server: a Mastodon instance, a Bluesky PDS.
    server_url = models.URLField(_("server address"), max_length=255, blank=True)
    # Tokens, refresh tokens, app passwords and session JWTs, encrypted at rest.
    credentials = EncryptedJSONField(_("credentials"), default=dict, blank=True, editable=False)
    credentials_expire_at = models.DateTimeField(_("sign-in expires at"), null=True, blank=True)
    scopes = models.JSONField(_("granted scopes"), default=list, blank=True)
    # Limits the network reported for this account (Mastodon: the instance's
    # configuration), overriding the connector's defaults when validating.
    network_limits = models.JSONField(_("network limits"), default=dict, blank=True)
    connected_at = models.DateTimeField(_("connected at"), null=True, blank=True)
    last_health_check_at = models.DateTimeField(_("last checked at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_kind = models.CharField(
        _("kind of last error"), max_length=20, choices=ErrorKind.choices, blank=True
    )
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    # The account's entry in the governance registry (owners, login, access reviews).
    # The link lives here because accounts sits above governance, never below it.
    registry_entry = models.OneToOneField(
        "governance.RegistryEntry",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="channel_account",
        verbose_name=_("registry entry"),
    )

    class Meta:
        verbose_name = _("channel account")
        verbose_name_plural = _("channel accounts")
        ordering = ["network", "handle"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "network", "handle"], name="uniq_channel_account"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.handle} ({self.network})"


class MastodonApp(models.Model):
    """Our app's registration on one Mastodon instance, made on the first connect there."""

    server_url = models.CharField(_("instance address"), max_length=255, unique=True)
    client_id = models.CharField(_("client id"), max_length=255)
    client_secret = EncryptedTextField(_("client secret"))
    scopes = models.CharField(_("scopes"), max_length=500)
    redirect_uri = models.CharField(_("redirect URI"), max_length=500)
    remote_app_id = models.CharField(_("app id on the instance"), max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Mastodon app registration")
        verbose_name_plural = _("Mastodon app registrations")

    def __str__(self) -> str:
        return self.server_url

    def as_client(self) -> OAuthClient:
        return OAuthClient(
            server_url=self.server_url,
            client_id=self.client_id,
            client_secret=self.client_secret,
            redirect_uri=self.redirect_uri,
            scopes=tuple(self.scopes.split()),
            remote_app_id=self.remote_app_id,
        )


class SandboxPost(models.Model):
    """A post in the Sandbox network's feed: the account's own, or one by a
    simulated citizen answering it. The feed lives inside the app."""

    account = models.ForeignKey(
        ChannelAccount, on_delete=models.CASCADE, related_name="sandbox_posts"
    )
    remote_id = models.CharField(max_length=40, unique=True)
    # False for the simulated audience's replies, mentions and messages.
    is_own = models.BooleanField(default=True)
    author_handle = models.CharField(max_length=255)
    author_name = models.CharField(max_length=255, blank=True)
    text = models.TextField(blank=True)
    # [{"mime_type", "alt_text", "size", "sha256"}]: the feed keeps no image bytes.
    media = models.JSONField(default=list, blank=True)
    in_reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    thread_root = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    quote_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="quotes"
    )
    visibility = models.CharField(max_length=20, default="public")
    language = models.CharField(max_length=16, blank=True)
    content_warning = models.CharField(max_length=500, blank=True)
    idempotency_key = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    likes = models.PositiveIntegerField(default=0)
    reposts = models.PositiveIntegerField(default=0)
    impressions = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("sandbox post")
        verbose_name_plural = _("sandbox posts")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="uniq_sandbox_post_idempotency_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.author_handle}: {self.text[:40]}"


class SandboxFollower(models.Model):
    """A simulated citizen following a Sandbox account."""

    account = models.ForeignKey(
        ChannelAccount, on_delete=models.CASCADE, related_name="sandbox_followers"
    )
    handle = models.CharField(max_length=255)
    followed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("sandbox follower")
        verbose_name_plural = _("sandbox followers")
        constraints = [
            models.UniqueConstraint(fields=["account", "handle"], name="uniq_sandbox_follower"),
        ]

    def __str__(self) -> str:
        return self.handle


class NetworkApp(models.Model):
    """The organization's own developer app on one network (Meta, Threads, X, LinkedIn,
    Google, TikTok): public bodies register their own apps, so every OAuth flow,
    token exchange and webhook check uses the credentials stored here.

    ``network`` names the app's platform, which may serve several channel networks
    (one Meta app connects Facebook Pages and Instagram).
    ``options`` holds the app's non-secret choices (an API version, a plan); a webhook
    verify token or signing secret is a secret and goes in ``secrets``."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="network_apps"
    )
    network = models.CharField(_("platform"), max_length=32)
    client_id = models.CharField(_("app id"), max_length=255)
    client_secret = EncryptedTextField(_("app secret"))
    # Other secrets of the app (webhook verify tokens, signing secrets), encrypted.
    secrets = EncryptedJSONField(_("other secrets"), default=dict, blank=True, editable=False)
    options = models.JSONField(_("options"), default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("network app")
        verbose_name_plural = _("network apps")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "network"], name="uniq_network_app_per_org"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.network} app {self.client_id}"

    def as_client(
        self, *, server_url: str, redirect_uri: str, scopes: tuple[str, ...]
    ) -> OAuthClient:
        return OAuthClient(
            server_url=server_url,
            client_id=self.client_id,
            client_secret=self.client_secret,
            redirect_uri=redirect_uri,
            scopes=scopes,
        )


class PublishCheckpoint(models.Model):
    """What a network handed back partway through one publish, recorded before the step
    that makes the post public (Threads: the media container id, before
    ``threads_publish``). A publish sent again with the same idempotency key reads it
    and asks the network about that container instead of creating a second post."""

    channel_account = models.ForeignKey(
        ChannelAccount, on_delete=models.CASCADE, related_name="publish_checkpoints"
    )
    key = models.CharField(_("idempotency key"), max_length=200)
    data = models.JSONField(_("progress"), default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("publish checkpoint")
        verbose_name_plural = _("publish checkpoints")
        constraints = [
            models.UniqueConstraint(
                fields=["channel_account", "key"], name="uniq_publish_checkpoint"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel_account_id}:{self.key}"


class ApiCallCount(models.Model):
    """Calls made to a network's API, per account, endpoint and UTC day: the usage that
    paid APIs (X) bill and that daily quotas (YouTube, LinkedIn) cap. Counted where
    the call is made (the connector), whatever the answer."""

    network = models.CharField(_("network"), max_length=32)
    account = models.ForeignKey(
        ChannelAccount, null=True, blank=True, on_delete=models.CASCADE, related_name="api_calls"
    )
    endpoint = models.CharField(_("endpoint"), max_length=100)
    day = models.DateField(_("day (UTC)"))
    count = models.PositiveIntegerField(_("calls"), default=0)

    class Meta:
        verbose_name = _("API call count")
        verbose_name_plural = _("API call counts")
        constraints = [
            models.UniqueConstraint(
                fields=["network", "account", "endpoint", "day"], name="uniq_api_call_count"
            ),
        ]
        indexes = [models.Index(fields=["account", "day"])]

    def __str__(self) -> str:
        return f"{self.network} {self.endpoint} {self.day}: {self.count}"


class ApiCallBudget(models.Model):
    """An admin's monthly budget of API calls for one account. When the month's calls
    reach it, pulls (inbox, metrics) stop until the month ends; publishing never does."""

    account = models.OneToOneField(
        ChannelAccount, on_delete=models.CASCADE, related_name="api_call_budget"
    )
    monthly_calls = models.PositiveIntegerField(_("calls per month"))
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("API call budget")
        verbose_name_plural = _("API call budgets")

    def __str__(self) -> str:
        return f"{self.account_id}: {self.monthly_calls}/month"
