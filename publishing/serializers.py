"""API shapes for posts, their variants and outcomes, and the media library.

Serializers describe and validate input; the services decide. Account and
image ids are checked against what the caller may use (``context["membership"]``):
an id outside that set is a 400 naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.selectors import channel_accounts_for_membership
from governance.api.representation import DirectReadMixin
from governance.models import Membership
from publishing.forms import MAX_THREAD_PARTS, composed_from_variant
from publishing.languages import normalise_language_tag
from publishing.models import (
    Campaign,
    JobStatus,
    MediaAsset,
    Post,
    PostSeries,
    PostStatus,
    PublishJob,
    Variant,
    VideoCopyJob,
    VideoCopyKind,
    VideoCopyStatus,
    Visibility,
)
from publishing.network_options import clean_options
from publishing.selectors import (
    ApprovalState,
    PostTarget,
    StageState,
    media_assets_for_membership,
)
from publishing.services.media import MAX_ALT_TEXT
from publishing.services.recurrence import series_summary
from publishing.validation import publishing_rules


def _membership(context: Mapping[str, Any]) -> Membership:
    membership = context.get("membership")
    assert isinstance(membership, Membership), "serializer needs context['membership']"
    return membership


class PostPersonSerializer(DirectReadMixin, serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    email = serializers.EmailField(read_only=True)
    full_name = serializers.CharField(read_only=True)


class CampaignSerializer(DirectReadMixin, serializers.ModelSerializer[Campaign]):
    class Meta:
        model = Campaign
        fields = ["id", "name"]
        read_only_fields = fields


# --- reading ------------------------------------------------------------------------------


class VariantMediaSerializer(serializers.Serializer[Any]):
    asset = serializers.IntegerField(source="asset_id", help_text="Media library image id.")
    thread_index = serializers.IntegerField(help_text="0: the first post; 1: the next, and so on.")
    position = serializers.IntegerField()
    alt_text = serializers.SerializerMethodField(
        help_text="The image's alt text in the variant's language (empty when missing)."
    )

    @extend_schema_field(serializers.CharField())
    def get_alt_text(self, slot: Any) -> str:
        return str(slot.asset.alt_text_for(slot.variant.language))


class TextCountSerializer(serializers.Serializer[Any]):
    length = serializers.IntegerField(help_text="As the network counts it.")
    limit = serializers.IntegerField()


class VariantSerializer(serializers.ModelSerializer[Variant]):
    channel_account = serializers.IntegerField(source="channel_account_id", read_only=True)
    handle = serializers.CharField(source="channel_account.handle", read_only=True)
    network = serializers.CharField(source="channel_account.network", read_only=True)
    thread = serializers.SerializerMethodField(help_text="Texts of the later posts of a thread.")
    media = serializers.SerializerMethodField()
    counts = serializers.SerializerMethodField(
        help_text="Each post's length as its network counts it, and the network's limit."
    )
    problems = serializers.SerializerMethodField(
        help_text="Every reason the network (or the organization's alt-text rule) would "
        "refuse this variant now; empty when it is ready."
    )

    class Meta:
        model = Variant
        fields = [
            "id",
            "channel_account",
            "handle",
            "network",
            "language",
            "text",
            "thread",
            "content_warning",
            "visibility",
            "network_options",
            "media",
            "counts",
            "problems",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_thread(self, variant: Variant) -> list[str]:
        return [part.text for part in variant.parts.all()]

    @extend_schema_field(VariantMediaSerializer(many=True))
    def get_media(self, variant: Variant) -> Any:
        return VariantMediaSerializer(list(variant.media.all()), many=True).data

    @extend_schema_field(TextCountSerializer(many=True))
    def get_counts(self, variant: Variant) -> list[dict[str, int]]:
        return [
            {"length": count.length, "limit": count.limit}
            for count in composed_from_variant(variant).counts()
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_problems(self, variant: Variant) -> list[str]:
        require_alt_text = self.context.get("require_alt_text")
        if require_alt_text is None:
            require_alt_text = publishing_rules(variant.post.organization_id).require_alt_text
        return composed_from_variant(variant).problems(require_alt_text=bool(require_alt_text))


class PostTargetSerializer(serializers.Serializer[Any]):
    """One account a post goes to, in one language (the schema of ``targets``)."""

    channel_account = serializers.IntegerField()
    handle = serializers.CharField()
    language = serializers.CharField()


class PostSerializer(DirectReadMixin, serializers.ModelSerializer[Post]):
    """A post as lists show it: its state, time and targets."""

    status = serializers.ChoiceField(choices=PostStatus.choices, read_only=True)
    campaign = CampaignSerializer(read_only=True, allow_null=True)
    created_by = PostPersonSerializer(read_only=True, allow_null=True)
    targets = serializers.SerializerMethodField(
        help_text="The (channel account id, language) pairs the post goes to."
    )

    class Meta:
        model = Post
        fields = [
            "id",
            "title",
            "status",
            "campaign",
            "scheduled_at",
            "published_at",
            "created_by",
            "created_at",
            "updated_at",
            "version",
            "review_round",
            "targets",
        ]
        read_only_fields = fields

    @extend_schema_field(PostTargetSerializer(many=True))
    def get_targets(self, post: Post) -> list[dict[str, Any]]:
        # A list passes its page's targets (post_list_targets); otherwise the post's
        # variants are loaded with their accounts.
        page_targets: dict[int, list[PostTarget]] | None = self.context.get("targets")
        if page_targets is not None:
            targets = page_targets.get(post.pk, [])
        else:
            targets = [
                PostTarget(
                    variant.channel_account_id, variant.channel_account.handle, variant.language
                )
                for variant in post.variants.all()
            ]
        return [
            {
                "channel_account": target.channel_account_id,
                "handle": target.handle,
                "language": target.language,
            }
            for target in targets
        ]


class JobSerializer(serializers.ModelSerializer[PublishJob]):
    """One target's publishing outcome."""

    variant = serializers.IntegerField(source="variant_id", read_only=True)
    channel_account = serializers.IntegerField(source="channel_account_id", read_only=True)
    handle = serializers.CharField(source="channel_account.handle", read_only=True)
    language = serializers.CharField(source="variant.language", read_only=True)
    status = serializers.ChoiceField(choices=JobStatus.choices, read_only=True)
    error = serializers.SerializerMethodField(
        help_text="Why it failed or is held, in words (empty otherwise)."
    )

    class Meta:
        model = PublishJob
        fields = [
            "id",
            "variant",
            "channel_account",
            "handle",
            "language",
            "status",
            "due_at",
            "attempts",
            "published_at",
            "remote_id",
            "remote_url",
            "deleted_at",
            "last_error_kind",
            "error",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_error(self, job: PublishJob) -> str:
        if job.status in (JobStatus.FAILED, JobStatus.HELD, JobStatus.CANCELLED):
            return job.last_error_message
        return ""


class LanguageApprovalSerializer(serializers.Serializer[Any]):
    language = serializers.CharField(help_text="BCP 47 tag.")
    approved = serializers.BooleanField()
    approved_by = serializers.ListField(child=serializers.IntegerField(), help_text="User ids.")
    eligible = serializers.ListField(child=serializers.IntegerField(), help_text="User ids.")


class StageStateSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    policy = serializers.CharField(source="policy_name")
    require_all = serializers.BooleanField()
    is_open = serializers.BooleanField(help_text="Earlier stages are passed: reviewers may decide.")
    satisfied = serializers.BooleanField()
    eligible = serializers.ListField(
        child=serializers.IntegerField(), source="eligible_user_ids", help_text="User ids."
    )
    approved_by = serializers.ListField(
        child=serializers.IntegerField(), source="approved_user_ids", help_text="User ids."
    )
    waiting_for = serializers.ListField(
        child=serializers.IntegerField(), source="waiting_for_user_ids", help_text="User ids."
    )
    outside_reviewer = serializers.CharField(
        source="outside_email",
        help_text="The e-mail address of the outside reviewer who decides this stage through "
        "an e-mailed link (empty when members decide it).",
    )
    languages = serializers.SerializerMethodField(
        help_text="Under a policy that approves each language version separately: each "
        "language's state (empty otherwise)."
    )

    @extend_schema_field(LanguageApprovalSerializer(many=True))
    def get_languages(self, stage: StageState) -> Any:
        rows = [
            {
                "language": language,
                "approved": stage.language_satisfied(language),
                "approved_by": sorted(stage.approved_by_language.get(language, ())),
                "eligible": sorted(stage.eligible_for(language)),
            }
            for language in stage.languages
        ]
        return LanguageApprovalSerializer(rows, many=True).data


class ApprovalStateSerializer(serializers.Serializer[Any]):
    approved = serializers.BooleanField()
    stages = StageStateSerializer(many=True)


class RecurrenceSerializer(serializers.Serializer[Any]):
    """How a recurring post repeats (the schema of a post's ``recurrence``)."""

    series = serializers.IntegerField(help_text="The series' id.")
    first_post = serializers.IntegerField(help_text="The post whose text the series copies.")
    rule = serializers.CharField(help_text="RFC 5545 RRULE, without DTSTART.")
    starts_on = serializers.DateField(help_text="The first occurrence's date (local).")
    time_of_day = serializers.TimeField(
        help_text="The wall-clock time in time_zone; kept across summer time."
    )
    time_zone = serializers.CharField()
    summary = serializers.CharField(help_text="The rule in words, in the caller's language.")
    approved = serializers.BooleanField(
        help_text="The first post's text is approved, so occurrences are being scheduled."
    )
    ended_at = serializers.DateTimeField(allow_null=True)
    occurrence_start = serializers.DateTimeField(
        allow_null=True, help_text="This post's start as the rule gave it."
    )
    edited_on_its_own = serializers.BooleanField(
        help_text="This occurrence was edited apart from its series."
    )


class RecurrenceInputSerializer(serializers.Serializer[Any]):
    """How the post is to repeat; its planned time (or scheduled time) is the first
    occurrence."""

    frequency = serializers.ChoiceField(choices=["daily", "weekly", "monthly"])
    interval = serializers.IntegerField(min_value=1, max_value=99, default=1)
    weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6),
        default=list,
        max_length=7,
        help_text="Weekly: the days, 0 = Monday … 6 = Sunday (none: the first day's).",
    )
    monthly_by = serializers.ChoiceField(
        choices=["day", "weekday"],
        default="day",
        help_text="Monthly: the same day of the month, or the same weekday "
        "of the same week (the second Tuesday).",
    )
    until = serializers.DateField(required=False, allow_null=True, default=None)
    count = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=2, max_value=500
    )


class PostDetailSerializer(PostSerializer):
    """A post with its variants, its review's progress and each target's outcome."""

    variants = serializers.SerializerMethodField()
    jobs = serializers.SerializerMethodField(help_text="The latest job of each target.")
    approval = serializers.SerializerMethodField(
        help_text="The review's progress while the post is in review (null otherwise)."
    )

    recurrence = serializers.SerializerMethodField(
        help_text="How the post repeats, when it is part of a recurring series (null otherwise)."
    )

    class Meta(PostSerializer.Meta):
        fields = [*PostSerializer.Meta.fields, "variants", "jobs", "approval", "recurrence"]
        read_only_fields = fields

    # The view loads variants and jobs once with everything they show (no query per row).
    @extend_schema_field(VariantSerializer(many=True))
    def get_variants(self, post: Post) -> Any:
        return VariantSerializer(self.context["variants"], many=True, context=self.context).data

    @extend_schema_field(JobSerializer(many=True))
    def get_jobs(self, post: Post) -> Any:
        return JobSerializer(self.context["jobs"], many=True).data

    @extend_schema_field(ApprovalStateSerializer(allow_null=True))
    def get_approval(self, post: Post) -> Any:
        state: ApprovalState | None = self.context.get("approval_state")
        if state is None or post.status != PostStatus.IN_REVIEW:
            return None
        return ApprovalStateSerializer(state).data

    @extend_schema_field(RecurrenceSerializer(allow_null=True))
    def get_recurrence(self, post: Post) -> Any:
        series: PostSeries | None = self.context.get("series")
        if series is None:
            return None
        return RecurrenceSerializer(
            {
                "series": series.pk,
                "first_post": series.head_id,
                "rule": series.rule,
                "starts_on": series.starts_on,
                "time_of_day": series.time_of_day,
                "time_zone": series.time_zone,
                "summary": series_summary(series),
                "approved": series.approved_version is not None,
                "ended_at": series.ended_at,
                "occurrence_start": post.occurrence_start,
                "edited_on_its_own": post.series_detached,
            }
        ).data


# --- writing -------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class _AccountField(serializers.PrimaryKeyRelatedField[Any]):
    default_error_messages = {
        "does_not_exist": gettext_lazy("You cannot write posts for account {pk_value}."),
        "incorrect_type": gettext_lazy("Give the account's id."),
    }

    def get_queryset(self) -> Any:
        return channel_accounts_for_membership(_membership(self.context))


@extend_schema_field(OpenApiTypes.INT)
class _AssetField(serializers.PrimaryKeyRelatedField[Any]):
    default_error_messages = {
        "does_not_exist": gettext_lazy(
            "Image or video {pk_value} is not in your organization's media library."
        ),
        "incorrect_type": gettext_lazy("Give the image's or video's id."),
    }

    def get_queryset(self) -> Any:
        return media_assets_for_membership(_membership(self.context)).filter(
            kind__in=("image", "video")
        )


@extend_schema_field(OpenApiTypes.INT)
class _CampaignField(serializers.PrimaryKeyRelatedField[Any]):
    def get_queryset(self) -> Any:
        return Campaign.objects.filter(organization_id=_membership(self.context).organization_id)


class MediaSlotInputSerializer(serializers.Serializer[Any]):
    asset = _AssetField(
        help_text="Media library image or video id (a video goes with the first post, alone "
        "where the network says so)."
    )
    thread_index = serializers.IntegerField(
        min_value=0,
        max_value=MAX_THREAD_PARTS,
        default=0,
        help_text="Which post of the thread the image belongs to (0: the first).",
    )


class LanguageTagField(serializers.CharField):
    """A BCP 47 language tag, returned in its standard form ('FI' → 'fi')."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("help_text", "A BCP 47 language tag, such as fi, sv, se, ar or sr-Latn.")
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        if not text:
            return text
        try:
            return normalise_language_tag(text)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None


class VariantInputSerializer(serializers.Serializer[Any]):
    channel_account = _AccountField(help_text="An account you may write posts for.")
    language = LanguageTagField()
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)
    thread = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        required=False,
        default=list,
        max_length=MAX_THREAD_PARTS,
        help_text="Texts of the later posts, where the network has threads.",
    )
    content_warning = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=500
    )
    visibility = serializers.ChoiceField(
        choices=Visibility.choices, required=False, default=Visibility.PUBLIC
    )
    media = MediaSlotInputSerializer(many=True, required=False, default=list)
    network_options = serializers.JSONField(
        required=False,
        default=dict,
        help_text="The network's own choices, passed to it when the post is published. "
        'YouTube: "title" (required to publish; at most 100 characters, no < or >), '
        '"privacy_status" (required to publish, never defaulted: "public", "unlisted" or '
        '"private"), "publish_at" (an ISO 8601 time with its offset, in the future, only with '
        '"private": the video goes public then), "category_id" ("22" People '
        '& Blogs, "25" News & Politics, "27" Education, "29" Nonprofits & Activism), '
        '"tags" (a list; at most 500 characters in all), "made_for_kids" (true or false; '
        'required to publish). TikTok: "privacy_level" (required to publish; one of the '
        "account's levels from TikTok's creator info: PUBLIC_TO_EVERYONE, "
        "MUTUAL_FOLLOW_FRIENDS, FOLLOWER_OF_CREATOR, SELF_ONLY), "
        '"disable_comment", "disable_duet", "disable_stitch", "brand_content_toggle", '
        '"brand_organic_toggle" (true or false). Other networks take none.',
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        account = attrs["channel_account"]
        try:
            attrs["network_options"] = clean_options(
                account.network, attrs.get("network_options") or {}
            )
        except DjangoValidationError as error:
            detail = error.message_dict if hasattr(error, "error_dict") else error.messages
            raise serializers.ValidationError({"network_options": detail}) from None
        return attrs


def _unique_targets(variants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[tuple[int, str]] = set()
    for item in variants:
        key = (item["channel_account"].pk, item["language"])
        if key in seen:
            raise serializers.ValidationError(
                _(
                    "Each account and language may appear once: account %(account)s in "
                    "%(language)s appears twice."
                )
                % {"account": key[0], "language": key[1]}
            )
        seen.add(key)
    return variants


class PostCreateSerializer(serializers.Serializer[Any]):
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    campaign = _CampaignField(required=False, allow_null=True, default=None)
    variants = VariantInputSerializer(
        many=True, help_text="One per account and language the post goes to."
    )

    def validate_variants(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not value:
            raise serializers.ValidationError(_("Give at least one variant."))
        return _unique_targets(value)


class PostUpdateSerializer(serializers.Serializer[Any]):
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)
    campaign = _CampaignField(required=False, allow_null=True)
    variants = VariantInputSerializer(
        many=True,
        required=False,
        help_text="When given, the post's complete set of variants: one that is missing "
        "here is removed (only on accounts you may write for). A changed variant of a "
        "post in review, approved or scheduled sends it back to review.",
    )

    def validate_variants(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return _unique_targets(value)


class CommentSerializer(serializers.Serializer[Any]):
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class ApproveSerializer(CommentSerializer):
    language = LanguageTagField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Under a policy that approves each language version separately: approve "
        "only this version (a BCP 47 tag). Empty: every version the caller may approve.",
    )


class ScheduleSerializer(serializers.Serializer[Any]):
    at = serializers.DateTimeField(
        help_text="When to publish, ISO 8601 with a time zone (a time already past means now)."
    )
    confirm_quiet_day = serializers.BooleanField(
        required=False,
        default=False,
        help_text="A manager's or an admin's confirmation of a time on a day the "
        "organization marked quiet; without it such a time is refused.",
    )


class CancelSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)


class PostRangeSerializer(serializers.Serializer[Any]):
    start = serializers.DateTimeField(
        required=False, help_text="Posts due at or after this time (ISO 8601)."
    )
    end = serializers.DateTimeField(required=False, help_text="Posts due before this time.")
    status = serializers.ChoiceField(choices=PostStatus.choices, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("start"), attrs.get("end")
        if (start is None) != (end is None):
            raise serializers.ValidationError(_("Give both start and end, or neither."))
        if start is not None and end is not None and end <= start:
            raise serializers.ValidationError({"end": [_("end must be after start.")]})
        return attrs


# --- media ---------------------------------------------------------------------------------


class MediaAssetSerializer(serializers.ModelSerializer[MediaAsset]):
    alt_texts = serializers.SerializerMethodField(help_text="Language code → alt text.")
    caption_languages = serializers.SerializerMethodField(
        help_text="Video only: the languages it has captions in."
    )
    poster_url = serializers.SerializerMethodField(
        help_text="Video only: the address of its poster frame (empty when none)."
    )

    class Meta:
        model = MediaAsset
        fields = [
            "id",
            "original_name",
            "mime_type",
            "size_bytes",
            "width",
            "height",
            "sha256",
            "created_at",
            "alt_texts",
            "kind",
            "duration_ms",
            "caption_languages",
            "poster_url",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_caption_languages(self, asset: MediaAsset) -> list[str]:
        if not asset.is_video:
            return []
        return sorted(caption.language for caption in asset.captions.all())

    @extend_schema_field(serializers.CharField())
    def get_poster_url(self, asset: MediaAsset) -> str:
        if not asset.is_video or not asset.poster:
            return ""
        return reverse("publishing:media_poster", args=[asset.pk])

    @extend_schema_field(serializers.DictField(child=serializers.CharField()))
    def get_alt_texts(self, asset: MediaAsset) -> dict[str, str]:
        return {alt.language: alt.text for alt in asset.alt_texts.all()}


class MediaUploadSerializer(serializers.Serializer[Any]):
    """A multipart upload: the file, and its alt text in each language as ``alt_<code>``."""

    file = serializers.FileField(help_text="JPEG, PNG, GIF or WebP, at most 16 MB.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code, name in settings.LANGUAGES:
            self.fields[f"alt_{code}"] = serializers.CharField(
                required=False,
                allow_blank=True,
                default="",
                max_length=MAX_ALT_TEXT,
                help_text=f"Alt text in {name}.",
            )

    def alt_texts(self) -> dict[str, str]:
        return {
            code: self.validated_data.get(f"alt_{code}", "") for code, _name in settings.LANGUAGES
        }


class VideoCopyJobSerializer(serializers.ModelSerializer[VideoCopyJob]):
    """A compatible copy of a library video, asked for or made: poll it until its status
    is done (``result`` is then the copy's media library id) or failed (``error`` says why)."""

    status = serializers.ChoiceField(choices=VideoCopyStatus.choices)
    progress_percent = serializers.IntegerField(help_text="0 to 100, as ffmpeg reports.")
    result_name = serializers.SerializerMethodField(help_text="The copy's file name once done.")
    url = serializers.SerializerMethodField(help_text="Where to poll this job.")

    class Meta:
        model = VideoCopyJob
        fields = [
            "id",
            "url",
            "source",
            "kind",
            "crop",
            "language",
            "status",
            "progress_percent",
            "error",
            "result",
            "result_name",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "source": {"help_text": "The original video's id."},
            "result": {
                "help_text": "Once done: the copy, a library video of its own (null until then)."
            },
        }

    @extend_schema_field(serializers.CharField())
    def get_result_name(self, job: VideoCopyJob) -> str:
        return job.result.original_name if job.result is not None else ""

    @extend_schema_field(serializers.CharField())
    def get_url(self, job: VideoCopyJob) -> str:
        return reverse("api-video-copy", args=[job.pk])


class VideoCopyRequestSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(
        choices=VideoCopyKind.choices,
        default=VideoCopyKind.TRANSCODE,
        help_text="transcode: H.264/AAC MP4; burn_captions: the same with one language's "
        "captions drawn into the picture.",
    )
    crop = serializers.ChoiceField(
        choices=[("", "Keep the shape"), ("9:16", "Crop the middle to 9:16")],
        default="",
        allow_blank=True,
        help_text="9:16 for Instagram Reels and TikTok; empty keeps the shape.",
    )
    language = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=10,
        help_text="burn_captions only: a language the video has captions in.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["kind"] == VideoCopyKind.BURN_CAPTIONS and not attrs["language"]:
            raise serializers.ValidationError(
                {"language": [_("Choose the language whose captions to burn in.")]}
            )
        return attrs
