"""What the listening API reads and writes."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from listening.matching import MAX_TERM_LENGTH, MAX_TERMS
from listening.models import (
    CaseStatus,
    ListeningPost,
    MisinformationCase,
    Watch,
    WatchAlert,
)
from listening.selectors import STREAM_MAX_PAGE, STREAM_PAGE_SIZE

PERIOD_CHOICES = [1, 24, 168]


class WatchSerializer(serializers.ModelSerializer[Watch]):
    terms = serializers.ListField(child=serializers.CharField())
    excluded_terms = serializers.ListField(child=serializers.CharField())
    channel_accounts = serializers.SerializerMethodField()
    followers = serializers.SerializerMethodField()

    class Meta:
        model = Watch
        fields = [
            "id",
            "name",
            "terms",
            "excluded_terms",
            "prefix_match",
            "channel_accounts",
            "followers",
            "alert_factor",
            "alert_min_count",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_channel_accounts(self, watch: Watch) -> list[int]:
        return sorted(account.pk for account in watch.channel_accounts.all())

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_followers(self, watch: Watch) -> list[int]:
        return sorted(user.pk for user in watch.followers.all())


def _terms_field(*, required: bool) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=MAX_TERM_LENGTH, allow_blank=False),
        max_length=MAX_TERMS,
        required=required,
        help_text=_("Words, phrases, #hashtags or @handles, in any language."),
    )


class WatchWriteSerializer(serializers.Serializer[Any]):
    """A new watch (name, terms and channel_accounts required) or a change to one
    (PATCH: only the fields given change)."""

    name = serializers.CharField(max_length=120)
    terms = _terms_field(required=True)
    excluded_terms = _terms_field(required=False)
    prefix_match = serializers.BooleanField(
        required=False,
        help_text=_("Also match longer words that begin with a term (Finnish, Turkish)."),
    )
    channel_accounts = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1),
        min_length=1,
        max_length=100,
        help_text=_("Ids of the channel accounts to search through."),
    )
    followers = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1),
        max_length=500,
        required=False,
        help_text=_("User ids of members who get the watch's alerts."),
    )
    alert_factor = serializers.IntegerField(min_value=2, max_value=100, required=False)
    alert_min_count = serializers.IntegerField(min_value=1, max_value=100000, required=False)
    is_active = serializers.BooleanField(required=False)


class StreamFilterSerializer(serializers.Serializer[Any]):
    network = serializers.CharField(max_length=32, required=False, allow_blank=True)
    language = serializers.CharField(max_length=16, required=False, allow_blank=True)
    misinformation = serializers.BooleanField(
        required=False, default=False, help_text=_("Only posts marked as misinformation.")
    )
    period_hours = serializers.ChoiceField(
        choices=PERIOD_CHOICES, required=False, help_text=_("Only posts of the last N hours.")
    )
    limit = serializers.IntegerField(
        min_value=1, max_value=STREAM_MAX_PAGE, required=False, default=STREAM_PAGE_SIZE
    )
    before = serializers.CharField(
        max_length=80,
        required=False,
        allow_blank=True,
        help_text=_("Where the page starts: take it from the previous page's next link."),
    )


class ListeningPostSerializer(serializers.ModelSerializer[ListeningPost]):
    found_through = serializers.IntegerField(source="channel_account_id", allow_null=True)
    case = serializers.IntegerField(source="case_id", allow_null=True)
    inbox_item = serializers.IntegerField(source="inbox_item_id", allow_null=True)
    matched_terms = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = ListeningPost
        fields = [
            "id",
            "watch",
            "network",
            "found_through",
            "remote_id",
            "canonical_key",
            "url",
            "author_handle",
            "author_name",
            "text",
            "language",
            "posted_at",
            "found_at",
            "likes",
            "shares",
            "replies",
            "quotes",
            "matched_terms",
            "misinformation_at",
            "case",
            "correction_url",
            "inbox_item",
        ]
        read_only_fields = fields


class StreamPageSerializer(serializers.Serializer[Any]):
    results = ListeningPostSerializer(many=True)
    next = serializers.CharField(allow_null=True)


class MarkMisinformationSerializer(serializers.Serializer[Any]):
    case = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        required=False,
        allow_null=True,
        help_text=_("An open misinformation case to add the post to."),
    )


class CorrectionSerializer(serializers.Serializer[Any]):
    url = serializers.URLField(max_length=500, help_text=_("The address of our correcting post."))


class CaseSerializer(serializers.ModelSerializer[MisinformationCase]):
    status = serializers.ChoiceField(choices=CaseStatus.choices)
    watch = serializers.IntegerField(source="watch_id", allow_null=True)
    post_count = serializers.SerializerMethodField()

    class Meta:
        model = MisinformationCase
        fields = [
            "id",
            "claim",
            "watch",
            "correction_url",
            "status",
            "closing_note",
            "opened_at",
            "closed_at",
            "post_count",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField())
    def get_post_count(self, case: MisinformationCase) -> int:
        return int(getattr(case, "post_count", 0) or 0)


class CaseCreateSerializer(serializers.Serializer[Any]):
    claim = serializers.CharField(max_length=300)
    correction_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    watch = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, required=False, allow_null=True
    )
    posts = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        max_length=200,
        required=False,
        help_text=_("Found posts to put in the case (each is marked as misinformation)."),
    )


class CasePostsSerializer(serializers.Serializer[Any]):
    posts = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        min_length=1,
        max_length=200,
    )


class CaseCloseSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(max_length=5000)


class AlertSerializer(serializers.ModelSerializer[WatchAlert]):
    watch_name = serializers.CharField(source="watch.name")
    baseline = serializers.FloatField(help_text=_("The usual count for that hour."))
    acknowledged = serializers.SerializerMethodField()

    class Meta:
        model = WatchAlert
        fields = [
            "id",
            "watch",
            "watch_name",
            "hour",
            "count",
            "baseline",
            "created_at",
            "acknowledged",
            "acknowledged_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField())
    def get_acknowledged(self, alert: WatchAlert) -> bool:
        return alert.acknowledged_at is not None
