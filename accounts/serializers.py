"""API shapes for channel accounts. Credentials never leave the server: no serializer
here has a field for them. Serializers describe and validate; services decide."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import AccountStatus, ChannelAccount
from accounts.selectors import channel_account_limits, network_summary


class CapabilitiesSerializer(serializers.Serializer[Any]):
    """What the network lets GovSocial do with the account."""

    publish = serializers.BooleanField()
    images = serializers.BooleanField()
    alt_text = serializers.BooleanField()
    replies = serializers.BooleanField()
    threads = serializers.BooleanField()
    direct_messages = serializers.BooleanField()
    delete = serializers.BooleanField()
    inbox = serializers.BooleanField()
    metrics = serializers.BooleanField()
    impressions = serializers.BooleanField()
    content_warning = serializers.BooleanField()
    visibility = serializers.BooleanField()
    language = serializers.BooleanField()
    refresh_credentials = serializers.BooleanField(
        help_text="The app renews the account's sign-in by itself before it ends."
    )


class LimitsSerializer(serializers.Serializer[Any]):
    max_text = serializers.IntegerField(help_text="Longest post, counted as text_counting says.")
    text_counting = serializers.ChoiceField(
        choices=["chars", "graphemes", "chars_url23", "weighted", "emoji_bytes"]
    )
    max_media = serializers.IntegerField(help_text="Images per post.")
    max_image_bytes = serializers.IntegerField()
    alt_text_max = serializers.IntegerField()
    image_mime_types = serializers.ListField(child=serializers.CharField())


CAPABILITY_FIELDS = list(CapabilitiesSerializer._declared_fields)
LIMIT_FIELDS = list(LimitsSerializer._declared_fields)


class ConnectedBySerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    email = serializers.EmailField(read_only=True)
    full_name = serializers.CharField(read_only=True)


class ChannelAccountSerializer(serializers.ModelSerializer[ChannelAccount]):
    status = serializers.ChoiceField(choices=AccountStatus.choices, read_only=True)
    network_label = serializers.SerializerMethodField()
    is_sandbox = serializers.SerializerMethodField()
    capabilities = serializers.SerializerMethodField()
    limits = serializers.SerializerMethodField()
    connected_by = ConnectedBySerializer(read_only=True, allow_null=True)

    class Meta:
        model = ChannelAccount
        fields = [
            "id",
            "network",
            "network_label",
            "is_sandbox",
            "handle",
            "display_name",
            "server_url",
            "status",
            "last_health_check_at",
            "last_error",
            "last_error_kind",
            "last_error_at",
            "credentials_expire_at",
            "scopes",
            "capabilities",
            "limits",
            "connected_by",
            "connected_at",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_network_label(self, account: ChannelAccount) -> str:
        return network_summary(account.network).label

    @extend_schema_field(serializers.BooleanField())
    def get_is_sandbox(self, account: ChannelAccount) -> bool:
        return network_summary(account.network).is_sandbox

    @extend_schema_field(CapabilitiesSerializer)
    def get_capabilities(self, account: ChannelAccount) -> dict[str, Any]:
        capabilities = asdict(network_summary(account.network).capabilities)
        return {name: capabilities[name] for name in CAPABILITY_FIELDS}

    @extend_schema_field(LimitsSerializer(allow_null=True))
    def get_limits(self, account: ChannelAccount) -> dict[str, Any] | None:
        limits = channel_account_limits(account)
        if limits is None:
            return None
        values = asdict(limits)
        return {name: values[name] for name in LIMIT_FIELDS}


class BlueskyConnectSerializer(serializers.Serializer[Any]):
    handle = serializers.CharField(max_length=253, help_text="Like cityofexample.bsky.social.")
    app_password = serializers.CharField(
        max_length=100,
        write_only=True,
        help_text="An app password made for GovSocial (Settings → Privacy and security → "
        "App passwords), never the account's main password.",
    )
    server_url = serializers.CharField(
        max_length=255,
        required=False,
        allow_blank=True,
        default="",
        help_text="Only for a self-hosted server (PDS); empty for Bluesky's own servers.",
    )

    def validate_handle(self, value: str) -> str:
        return value.strip().lstrip("@")


class MastodonConnectSerializer(serializers.Serializer[Any]):
    instance = serializers.CharField(
        max_length=255, help_text="The Mastodon server's address, like mastodon.social."
    )


class MastodonConnectStartedSerializer(serializers.Serializer[Any]):
    authorization_url = serializers.URLField(
        help_text="Open this in a browser where you are logged in to GovSocial, sign in to "
        "the server and allow access; the server sends you back to GovSocial, which "
        "finishes connecting."
    )
    server_url = serializers.CharField()
    callback_url = serializers.URLField()
    expires_in = serializers.IntegerField(help_text="Seconds the sign-in address stays usable.")


class SandboxConnectSerializer(serializers.Serializer[Any]):
    handle = serializers.SlugField(
        max_length=60,
        required=False,
        allow_blank=True,
        default="",
        help_text="Name of the practice account; a free name is chosen when empty.",
    )

    def validate_handle(self, value: str) -> str:
        return value.strip()


class HealthCheckResultSerializer(serializers.Serializer[Any]):
    ok = serializers.BooleanField(help_text="Whether the network accepted the sign-in.")
    detail = serializers.CharField()
    account = ChannelAccountSerializer()
