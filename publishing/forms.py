"""Forms of the publishing pages: compose, review, schedule, media library, approval policies.

Forms parse and check what a person typed. The rules live in the services
(``publishing.services``) and, for what a network refuses, in each network's
connector through ``publishing.validation``; a service's ``ValidationError`` is
attached back to a field by the view.

The compose page is one form per post (:class:`PostForm`) plus one
:class:`VariantForm` per target: a channel account in a language. Field names of
a variant start with ``v-<account id>-<language>-``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.connectors.base import Connector, Limits
from accounts.connectors.registry import UnknownNetwork, get_connector
from accounts.models import AccountStatus, ChannelAccount
from accounts.selectors import channel_account_publishing_quota
from governance.models import Membership, Role
from publishing import languages as languages_mod
from publishing import network_options as netopts
from publishing.models import (
    Campaign,
    MediaAsset,
    PublishingSettings,
    Variant,
    VideoCopyKind,
    Visibility,
)
from publishing.selectors import finished_video_copies
from publishing.services.approval import StageInput
from publishing.services.media import MAX_ALT_TEXT
from publishing.services.posts import TIME_GRACE, MediaSlot
from publishing.validation import default_post_languages, variant_problems
from publishing.video_fit import VIDEO_LIMITS, VideoFit, video_fit

# The composer warns when this share of a network's publishing allowance is used.
QUOTA_NEAR = 0.8
# A thread longer than this is better written as a blog post and linked.
MAX_THREAD_PARTS = 20
# How many of the library's newest images each variant offers to attach.
PICKER_SIZE = 24

# How each network counts text, in words (the connector's ``Limits.text_counting``).
TEXT_COUNTING: dict[str, Any] = {
    "chars": _("Counted in characters."),
    "graphemes": _("Counted in characters as people see them: an emoji counts as one."),
    "chars_url23": _("Every web address counts as 23 characters."),
    "weighted": _("Some characters, such as Chinese or emoji, count double."),
    "emoji_bytes": _("Counted in characters, but an emoji counts as 4."),
}


def language_name(code: str) -> str:
    return languages_mod.language_name(code)


def network_connector(account: ChannelAccount) -> Connector | None:
    try:
        return get_connector(account.network)
    except UnknownNetwork:
        return None


def network_label(account: ChannelAccount) -> str:
    connector = network_connector(account)
    return str(connector.label) if connector else account.network


def account_label(account: ChannelAccount) -> str:
    label = f"{account.handle} · {network_label(account)}"
    if account.status != AccountStatus.ACTIVE:
        label += f" ({AccountStatus(account.status).label})"
    return label


# --- a variant as typed ----------------------------------------------------------------


@dataclass
class TextCount:
    number: int  # 1 for the first post of the thread
    length: int
    limit: int

    @property
    def over(self) -> int:
        return max(0, self.length - self.limit)

    @property
    def left(self) -> int:
        return max(0, self.limit - self.length)


@dataclass
class PreviewPost:
    number: int
    text: str
    images: list[tuple[MediaAsset, str]]
    count: TextCount | None

    @property
    def more_images(self) -> int:
        """Images beyond the four a grid shows."""
        return max(0, len(self.images) - 4)


@dataclass
class ComposedVariant:
    """One target's content as the compose page holds it, saved or not."""

    account: ChannelAccount
    language: str
    texts: list[str]  # the first post, then each later post of the thread
    media: list[list[MediaAsset]]  # images of each post of the thread
    content_warning: str = ""
    visibility: str = Visibility.PUBLIC
    # YouTube's and TikTok's own choices (``publishing.network_options``).
    network_options: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return target_key(self.account.pk, self.language)

    @property
    def language_name(self) -> str:
        return language_name(self.language)

    @property
    def direction(self) -> str:
        return languages_mod.language_direction(self.language)

    @property
    def network_label(self) -> str:
        return network_label(self.account)

    @property
    def is_sandbox(self) -> bool:
        connector = network_connector(self.account)
        return bool(connector and connector.is_sandbox)

    @property
    def posts(self) -> list[tuple[int, str, list[tuple[MediaAsset, str]]]]:
        """``(number, text, [(image, its alt text in this language)])`` of each post of
        the thread, numbered from 1."""
        return [
            (
                index + 1,
                text,
                [
                    (asset, asset.alt_text_for(self.language))
                    for asset in (self.media[index] if index < len(self.media) else [])
                ],
            )
            for index, text in enumerate(self.texts)
        ]

    @property
    def network(self) -> str:
        return self.account.network

    @property
    def initials(self) -> str:
        """Up to two letters standing in for the account's picture in the preview."""
        name = self.account.display_name or self.account.handle.lstrip("@")
        words = [word for word in re.split(r"[\s._@-]+", name) if word]
        return "".join(word[0] for word in words[:2]).upper() or "?"

    @property
    def takes_images(self) -> bool:
        connector = network_connector(self.account)
        return bool(connector and connector.capabilities.images)

    @property
    def preview_posts(self) -> list[PreviewPost]:
        """Each post of the thread as the preview shows it: text, images with their alt
        text in this language, and how many characters are left."""
        counts = self.counts()
        return [
            PreviewPost(
                number=number,
                text=text,
                images=images,
                count=counts[number - 1] if number - 1 < len(counts) else None,
            )
            for number, text, images in self.posts
        ]

    def signature(self) -> tuple[object, ...]:
        """What a save would change: equal signatures need no save."""
        return (
            tuple(text.replace("\r\n", "\n") for text in self.texts),
            tuple(tuple(asset.pk for asset in images) for images in self.media),
            self.content_warning.strip(),
            self.visibility,
            tuple(sorted((key, str(value)) for key, value in self.network_options.items())),
        )

    def media_slots(self) -> list[MediaSlot]:
        return [
            MediaSlot(asset=asset, thread_index=index)
            for index, images in enumerate(self.media)
            for asset in images
        ]

    def limits(self) -> Limits | None:
        connector = network_connector(self.account)
        return connector.limits_for(self.account) if connector else None

    def counts(self) -> list[TextCount]:
        """Each post's length as its network counts it, against the network's limit."""
        connector = network_connector(self.account)
        if connector is None:
            return []
        limit = connector.limits_for(self.account).max_text
        return [
            TextCount(
                number=index + 1,
                length=connector.text_length(text, account=self.account),
                limit=limit,
            )
            for index, text in enumerate(self.texts)
        ]

    def quota_notice(self) -> str:
        """Said when the account has used most of its publishing allowance (Threads: 250
        posts a day); empty otherwise or where the network has no allowance."""
        quota = channel_account_publishing_quota(self.account)
        if quota is None or quota.posts_used < quota.posts_total * QUOTA_NEAR:
            return ""
        hours = max(1, quota.window_seconds // 3600)
        if quota.posts_left == 0:
            return ngettext(
                "%(network)s lets this account publish %(total)d post in %(hours)d hours, "
                "and it is used: a post due now waits until it falls out of that window.",
                "%(network)s lets this account publish %(total)d posts in %(hours)d hours, "
                "and all of them are used: a post due now waits until the oldest falls out "
                "of that window.",
                quota.posts_total,
            ) % {"network": self.network_label, "total": quota.posts_total, "hours": hours}
        return ngettext(
            "%(network)s lets this account publish %(total)d posts in %(hours)d hours; "
            "%(left)d is left.",
            "%(network)s lets this account publish %(total)d posts in %(hours)d hours; "
            "%(left)d are left.",
            quota.posts_left,
        ) % {
            "network": self.network_label,
            "total": quota.posts_total,
            "hours": hours,
            "left": quota.posts_left,
        }

    def counting_label(self) -> str:
        limits = self.limits()
        return str(TEXT_COUNTING.get(limits.text_counting, "")) if limits else ""

    def as_variant(self) -> Variant:
        """This content read like a saved variant, for ``publishing.validation``."""
        return cast(Variant, _UnsavedVariant(self))

    def problems(self, *, require_alt_text: bool) -> list[str]:
        """Every reason the network (and, with ``require_alt_text``, the organization's
        alt-text rule) would refuse this content; the same check the services make."""
        return variant_problems(self.as_variant(), require_alt_text=require_alt_text)


def composed_from_variant(variant: Variant) -> ComposedVariant:
    """A saved variant (loaded with ``validation.variants_with_content``) as the page holds it."""
    parts = list(variant.parts.all())
    texts = [variant.text] + [part.text for part in parts]
    media: list[list[MediaAsset]] = [[] for _text in texts]
    for slot in variant.media.all():
        if slot.thread_index < len(media):
            media[slot.thread_index].append(slot.asset)
    return ComposedVariant(
        account=variant.channel_account,
        language=variant.language,
        texts=texts,
        media=media,
        content_warning=variant.content_warning,
        visibility=variant.visibility,
        network_options=dict(variant.network_options or {}),
    )


class _Rows:
    def __init__(self, rows: list[Any]) -> None:
        self._rows = rows

    def all(self) -> list[Any]:
        return self._rows


@dataclass
class _Part:
    thread_index: int
    text: str


@dataclass
class _Slot:
    thread_index: int
    asset: MediaAsset


class _UnsavedVariant:
    """A typed variant that reads like a saved ``Variant`` with its parts and media
    loaded, so ``publishing.validation`` checks it with the very rules it applies at
    review and scheduling time (nothing is written to check it)."""

    def __init__(self, composed: ComposedVariant) -> None:
        self.channel_account = composed.account
        self.language = composed.language
        self.text = composed.texts[0] if composed.texts else ""
        self.content_warning = composed.content_warning
        self.visibility = composed.visibility
        self.network_options = composed.network_options
        self.parts = _Rows(
            [_Part(index, text) for index, text in enumerate(composed.texts[1:], start=1)]
        )
        self.media = _Rows(
            [_Slot(index, asset) for index, images in enumerate(composed.media) for asset in images]
        )


def target_key(account_id: int, language: str) -> str:
    return f"{account_id}-{language}"


def parse_target_key(key: str) -> tuple[int, str] | None:
    account, _sep, language = key.partition("-")
    if not account.isdigit() or not languages_mod.is_language_tag(language):
        return None
    return int(account), language


# --- compose -------------------------------------------------------------------------


class AccountChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return account_label(obj)


class LocalTimeField(forms.DateTimeField):
    """A date and time typed in the person's time zone (a ``datetime-local`` input),
    cleaned to an aware instant; a time already passed is refused."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    # A time already saved may stay after it has passed (the rest of the post is edited).
    kept: datetime | None = None

    def clean(self, value: Any) -> datetime | None:
        at: datetime | None = super().clean(value)
        if at is not None and at != self.kept and at < timezone.now() - TIME_GRACE:
            raise forms.ValidationError(
                _("That time has already passed. Choose a time from now on."), code="past_time"
            )
        return at


def local_time_help() -> str:
    """Names the zone a :class:`LocalTimeField` is read in (worked out per request)."""
    return _("In your time zone (%(zone)s). Change your time zone in your profile.") % {
        "zone": timezone.get_current_timezone_name()
    }


class PostForm(forms.Form):
    """The post as a whole: its internal title, campaign, accounts and languages."""

    title = forms.CharField(
        label=_("Internal title"),
        max_length=200,
        required=False,
        help_text=_("For lists and the calendar. It is not published."),
    )
    campaign = forms.ModelChoiceField(
        label=_("Campaign"),
        queryset=Campaign.objects.none(),
        required=False,
        empty_label=_("No campaign"),
    )
    new_campaign = forms.CharField(
        label=_("Or start a new campaign"),
        max_length=200,
        required=False,
        help_text=_("Type a name to make a new campaign and put this post in it."),
    )
    accounts = AccountChoiceField(
        label=_("Publish to"),
        queryset=ChannelAccount.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        error_messages={
            "invalid_choice": _("You cannot write posts for one of the chosen accounts."),
        },
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages"),
        choices=settings.LANGUAGES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Each language gets its own text on every account."),
    )
    planned_at = LocalTimeField(label=_("Planned publication time"), required=False)

    def __init__(
        self,
        *args: Any,
        accounts: Iterable[ChannelAccount],
        campaigns: Iterable[Campaign],
        planned_was: datetime | None = None,
        plannable: bool = True,
        languages: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if languages is not None:
            cast(
                forms.MultipleChoiceField, self.fields["languages"]
            ).choices = languages_mod.language_choices(list(languages))
        # A scheduled post's time is changed on its page (rescheduling moves its jobs).
        if not plannable:
            del self.fields["planned_at"]
        else:
            planned = cast(LocalTimeField, self.fields["planned_at"])
            planned.help_text = gettext(
                "Optional; the calendar shows it then. Your time zone: %(zone)s."
            ) % {"zone": timezone.get_current_timezone_name()}
            if planned_was is not None:
                planned.kept = planned_was.replace(second=0, microsecond=0)
        accounts_field = cast(AccountChoiceField, self.fields["accounts"])
        account_ids = [account.pk for account in accounts]
        accounts_field.queryset = ChannelAccount.objects.filter(pk__in=account_ids).order_by(
            "network", "handle", "pk"
        )
        campaign_field = cast(forms.ModelChoiceField, self.fields["campaign"])
        campaign_field.queryset = Campaign.objects.filter(
            pk__in=[campaign.pk for campaign in campaigns]
        ).order_by("name")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "accounts" in data and not data["accounts"] and not self.has_error("accounts"):
            self.add_error("accounts", gettext("Choose at least one account to publish to."))
        if "languages" in data and not data["languages"]:
            self.add_error("languages", gettext("Choose at least one language."))
        return data


@dataclass
class Picker:
    """The library images offered for one post of a thread, ticked where attached."""

    number: int
    field: forms.BoundField
    options: list[tuple[MediaAsset, bool, str, str]]
    attached: int


@dataclass
class VideoOption:
    """One library video in a version's video picker: ``fit`` is the network's verdict on
    it (the media library's fit table, for this network), None where we know no limits."""

    asset: MediaAsset
    checked: bool
    input_id: str
    fit: VideoFit | None
    # When it does not fit: a finished compatible copy of it that does, and that copy's
    # radio button in this picker (empty when the picker does not hold it).
    copy: MediaAsset | None = None
    copy_input_id: str = ""


class VariantForm(forms.Form):
    """One target's text, thread, images and options.

    ``parts`` (hidden) says how many later posts the thread has; ``part_<n>`` holds
    post ``n + 1`` and ``media_<n>`` the images of post ``n + 1`` (``media_0``: the first).
    """

    text = forms.CharField(required=False, strip=False)
    parts = forms.IntegerField(
        widget=forms.HiddenInput, min_value=0, max_value=MAX_THREAD_PARTS, initial=0
    )
    present = forms.CharField(widget=forms.HiddenInput, initial="1")

    def __init__(
        self,
        *args: Any,
        account: ChannelAccount,
        language: str,
        part_count: int,
        picker: Sequence[MediaAsset],
        **kwargs: Any,
    ) -> None:
        self.account = account
        self.language = language
        self.part_count = max(0, min(part_count, MAX_THREAD_PARTS))
        self.picker = list(picker)
        self.assets = {str(asset.pk): asset for asset in self.picker}
        kwargs.setdefault("prefix", f"v-{target_key(account.pk, language)}")
        super().__init__(*args, **kwargs)
        connector = network_connector(account)
        self.capabilities = connector.capabilities if connector else None
        where = {"language": language_name(language), "account": account.handle}
        text_field = self.fields["text"]
        text_field.label = _("Text in %(language)s for %(account)s") % where
        # The text's own language and direction (WCAG 3.1.2): Arabic is typed right to left.
        text_attrs = {"lang": language, "dir": languages_mod.language_direction(language)}
        text_field.widget = forms.Textarea(attrs={"rows": 3, "cols": 40, **text_attrs})
        for number in range(1, self.part_count + 1):
            self.fields[f"part_{number}"] = forms.CharField(
                label=_("Post %(number)d of the thread in %(language)s for %(account)s")
                % {"number": number + 1, **where},
                required=False,
                strip=False,
                widget=forms.Textarea(attrs={"rows": 3, "cols": 40, **text_attrs}),
            )
        choices = [(key, str(asset)) for key, asset in self.assets.items() if not asset.is_video]
        images = bool(self.capabilities and self.capabilities.images)
        if self.capabilities and self.capabilities.videos:
            # One video per version, with the first post (networks that take videos).
            self.fields["video"] = forms.ChoiceField(
                label=_("Video (%(language)s, %(account)s)") % where,
                choices=[("", _("No video"))]
                + [(key, str(asset)) for key, asset in self.assets.items() if asset.is_video],
                required=False,
                widget=forms.RadioSelect,
                error_messages={
                    "invalid_choice": _("That video is not in your organization's library.")
                },
            )
        for index in range(self.part_count + 1):
            if images:
                self.fields[f"media_{index}"] = forms.MultipleChoiceField(
                    label=_("Images for post %(number)d") % {"number": index + 1},
                    choices=choices,
                    required=False,
                    widget=forms.CheckboxSelectMultiple,
                    error_messages={
                        "invalid_choice": _("That image is not in your organization's library.")
                    },
                )
        if self.capabilities and self.capabilities.content_warning:
            self.fields["content_warning"] = forms.CharField(
                label=_("Content warning in %(language)s for %(account)s") % where,
                widget=forms.TextInput(attrs=text_attrs),
                max_length=500,
                required=False,
                help_text=_("Shown before the text; readers open the post to see it."),
            )
        if self.capabilities and self.capabilities.visibility:
            self.fields["visibility"] = forms.ChoiceField(
                label=_("Who can see it (%(language)s, %(account)s)") % where,
                choices=Visibility.choices,
                initial=Visibility.PUBLIC,
                required=False,
            )
        self.creator: netopts.CreatorChoices | None = None
        if account.network == "youtube":
            self._youtube_fields(where)
        elif account.network == "tiktok":
            self._tiktok_fields(where)

    # --- the network's own choices (publishing.network_options) -----------------------

    def _youtube_fields(self, where: dict[str, str]) -> None:
        self.fields["yt_title"] = forms.CharField(
            label=_("Video title (%(language)s, %(account)s)") % where,
            required=False,
            max_length=netopts.YOUTUBE_TITLE_MAX,
            help_text=_("At most 100 characters, no < or >. The text above is the description."),
            validators=[_youtube_title],
        )
        # No preselected answer: who can watch is a choice the person makes every time.
        self.fields["yt_privacy"] = forms.ChoiceField(
            label=_("Who can watch it on YouTube (%(language)s, %(account)s)") % where,
            choices=[
                ("", _("Choose…")),
                *netopts.YOUTUBE_PRIVACY,
                (netopts.YOUTUBE_SCHEDULED, _("Private until a time I choose, then public")),
            ],
            initial="",
            required=False,
        )
        self.fields["yt_publish_at"] = LocalTimeField(
            label=_("Goes public on YouTube at (%(language)s, %(account)s)") % where,
            required=False,
            help_text=_("Only when it is private until a time you choose. %(zone)s")
            % {"zone": local_time_help()},
        )
        self.fields["yt_category"] = forms.ChoiceField(
            label=_("YouTube category (%(language)s, %(account)s)") % where,
            choices=netopts.YOUTUBE_CATEGORIES,
            initial=netopts.DEFAULT_YOUTUBE_CATEGORY,
            required=False,
        )
        self.fields["yt_tags"] = forms.CharField(
            label=_("Tags (%(language)s, %(account)s)") % where,
            required=False,
            help_text=_("Separate tags with commas; at most 500 characters in all."),
            validators=[_youtube_tags],
        )
        self.fields["yt_kids"] = forms.ChoiceField(
            label=_("Is the video made for kids? (%(language)s, %(account)s)") % where,
            choices=[("yes", _("Yes, it is made for kids")), ("no", _("No, it is not"))],
            required=False,
            widget=forms.RadioSelect,
            help_text=_("YouTube requires an answer (children's privacy law, COPPA)."),
        )

    def _tiktok_fields(self, where: dict[str, str]) -> None:
        self.creator = creator = netopts.tiktok_creator_choices(self.account)
        self.fields["tt_privacy"] = forms.ChoiceField(
            label=_("Who can see it on TikTok (%(language)s, %(account)s)") % where,
            choices=[("", _("Choose…"))]
            + [(level, tiktok_labels.get(level, level)) for level in creator.privacy_levels],
            required=False,
            error_messages={"invalid_choice": _("This account may not use that privacy level.")},
        )
        for name, label, off, help_off in (
            (
                "tt_comment",
                _("Allow comments"),
                creator.comment_disabled,
                _("The creator has turned off comments in TikTok's settings."),
            ),
            (
                "tt_duet",
                _("Allow duets"),
                creator.duet_disabled,
                _("The creator has turned off duets in TikTok's settings."),
            ),
            (
                "tt_stitch",
                _("Allow stitches"),
                creator.stitch_disabled,
                _("The creator has turned off stitches in TikTok's settings."),
            ),
        ):
            self.fields[name] = forms.BooleanField(
                label=f"{label} ({where['language']}, {where['account']})",
                required=False,
                disabled=off,
                help_text=help_off if off else "",
            )
        self.fields["tt_brand_organic"] = forms.BooleanField(
            label=_("Promotes our own brand (%(language)s, %(account)s)") % where,
            required=False,
            help_text=_("The video is labelled “Promotional content”."),
        )
        self.fields["tt_brand_content"] = forms.BooleanField(
            label=_("Paid partnership with a third party (%(language)s, %(account)s)") % where,
            required=False,
            help_text=_(
                "The video is labelled “Paid partnership”; it cannot be private. By posting, "
                "you agree to TikTok's Branded Content Policy."
            ),
        )

    def network_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name[:3] in ("yt_", "tt_")]

    def network_options(self) -> dict[str, Any]:
        """The network's choices as typed, valid or not (invalid ones are left out; the
        form's own errors say why)."""
        options: dict[str, Any] = {}
        if self.account.network == "youtube":
            title = self.raw("yt_title").strip()
            if title and not netopts.youtube_title_error(title):
                options["title"] = title
            privacy = self.raw("yt_privacy")
            if privacy in dict(netopts.YOUTUBE_PRIVACY):
                options["privacy_status"] = privacy
            elif privacy == netopts.YOUTUBE_SCHEDULED:
                at = self._publish_at()
                if at is not None:
                    options["privacy_status"] = "private"
                    options["publish_at"] = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            category = self.raw("yt_category") or netopts.DEFAULT_YOUTUBE_CATEGORY
            if category in dict(netopts.YOUTUBE_CATEGORIES):
                options["category_id"] = category
            tags = netopts.youtube_tags(self.raw("yt_tags"))
            if tags and not netopts.youtube_tags_error(tags):
                options["tags"] = tags
            kids = self.raw("yt_kids")
            if kids in ("yes", "no"):
                options["made_for_kids"] = kids == "yes"
        elif self.account.network == "tiktok" and self.creator is not None:
            level = self.raw("tt_privacy")
            if level in self.creator.privacy_levels:
                options["privacy_level"] = level
            for name, key, off in (
                ("tt_comment", "disable_comment", self.creator.comment_disabled),
                ("tt_duet", "disable_duet", self.creator.duet_disabled),
                ("tt_stitch", "disable_stitch", self.creator.stitch_disabled),
            ):
                options[key] = off or not self._checked(name)
            options["brand_organic_toggle"] = self._checked("tt_brand_organic")
            options["brand_content_toggle"] = self._checked("tt_brand_content")
        return options

    def _publish_at(self) -> datetime | None:
        """The time typed for a scheduled YouTube video, if it is one in the future."""
        field = self.fields.get("yt_publish_at")
        if not isinstance(field, LocalTimeField):
            return None
        try:
            at = field.clean(self.raw("yt_publish_at"))
        except forms.ValidationError:
            return None
        return at if at is not None and at > timezone.now() else None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (
            self.account.network == "youtube"
            and cleaned.get("yt_privacy") == netopts.YOUTUBE_SCHEDULED
            and not cleaned.get("yt_publish_at")
            and "yt_publish_at" not in self.errors
        ):
            self.add_error("yt_publish_at", _("Choose when the video goes public."))
        return cleaned

    def _checked(self, name: str) -> bool:
        return name in self.fields and bool(self[name].value())

    def option_field(self, key: str) -> str:
        """The form field in which the ``network_options`` key ``key`` is chosen."""
        return {
            "title": "yt_title",
            "made_for_kids": "yt_kids",
            "privacy_status": "yt_privacy",
            "publish_at": "yt_publish_at",
            "category_id": "yt_category",
            "tags": "yt_tags",
            "privacy_level": "tt_privacy",
        }.get(key, "text")

    @property
    def key(self) -> str:
        return target_key(self.account.pk, self.language)

    @property
    def threads(self) -> bool:
        return bool(self.capabilities and self.capabilities.threads)

    def part_fields(self) -> list[tuple[int, forms.BoundField, Picker | None]]:
        """``(post number, text field, image picker)`` of each later post of the thread."""
        return [
            (number + 1, self[f"part_{number}"], self.picker_for(number))
            for number in range(1, self.part_count + 1)
        ]

    def first_picker(self) -> Picker | None:
        return self.picker_for(0)

    def picker_for(self, index: int) -> Picker | None:
        name = f"media_{index}"
        if name not in self.fields:
            return None
        options = self.media_options(index)
        return Picker(
            number=index + 1,
            field=self[name],
            options=options,
            attached=sum(1 for option in options if option[1]),
        )

    def media_options(self, index: int) -> list[tuple[MediaAsset, bool, str, str]]:
        """``(image, checked, input id, alt text in this language)`` for the image picker
        of post ``index + 1``."""
        name = f"media_{index}"
        if name not in self.fields:
            return []
        chosen = {str(value) for value in (self[name].value() or [])}
        auto_id = self[name].auto_id
        images = [(key, asset) for key, asset in self.assets.items() if not asset.is_video]
        return [
            (asset, key in chosen, f"{auto_id}_{position}", asset.alt_text_for(self.language))
            for position, (key, asset) in enumerate(images)
        ]

    def video_options(self) -> list[VideoOption]:
        """The library's videos for the video field (empty: none offered), each with
        whether it is chosen and whether it fits this version's network as it is."""
        if "video" not in self.fields:
            return []
        chosen = self.raw("video")
        auto_id = self["video"].auto_id
        limits = next((lim for lim in VIDEO_LIMITS if lim.network == self.account.network), None)
        videos = [(key, asset) for key, asset in self.assets.items() if asset.is_video]
        input_ids = {
            asset.pk: f"{auto_id}_{position}" for position, (_key, asset) in enumerate(videos, 1)
        }
        options = [
            VideoOption(
                asset=asset,
                checked=key == chosen,
                input_id=input_ids[asset.pk],
                fit=video_fit(limits, asset) if limits is not None else None,
            )
            for key, asset in videos
        ]
        unfit = [option for option in options if option.fit is not None and not option.fit.fits]
        if limits is not None and unfit:
            copies = finished_video_copies([option.asset for option in unfit])
            for option in unfit:
                for copy in copies.get(option.asset.pk, []):
                    if video_fit(limits, copy).fits:
                        option.copy = copy
                        option.copy_input_id = input_ids.get(copy.pk, "")
                        break
        return options

    def focus(self, auto_id: str) -> None:
        """Put the keyboard focus on the field with this id when the page loads."""
        for name in self.fields:
            if self[name].auto_id == auto_id:
                self.fields[name].widget.attrs["autofocus"] = True

    def raw(self, name: str, default: str = "") -> str:
        """The value as typed (bound) or as it was (unbound), valid or not."""
        value = self[name].value() if name in self.fields else None
        return default if value is None else str(value)

    def composed(self) -> ComposedVariant:
        """The variant as typed, valid or not (the live count shows even bad input)."""
        texts = [self.raw("text")] + [
            self.raw(f"part_{number}") for number in range(1, self.part_count + 1)
        ]
        media: list[list[MediaAsset]] = []
        for index in range(self.part_count + 1):
            name = f"media_{index}"
            values = (self[name].value() or []) if name in self.fields else []
            media.append(
                [
                    self.assets[str(v)]
                    for v in values
                    if str(v) in self.assets and not self.assets[str(v)].is_video
                ]
            )
        video = self.assets.get(self.raw("video")) if "video" in self.fields else None
        if video is not None and video.is_video:
            if not media:
                media.append([])
            media[0].insert(0, video)
        visibility = self.raw("visibility", Visibility.PUBLIC)
        if visibility not in Visibility.values:
            visibility = Visibility.PUBLIC
        return ComposedVariant(
            account=self.account,
            language=self.language,
            texts=[text.replace("\r\n", "\n") for text in texts],
            media=media,
            content_warning=self.raw("content_warning"),
            visibility=visibility,
            network_options=self.network_options(),
        )


def _youtube_title(value: str) -> None:
    if error := netopts.youtube_title_error(value.strip()):
        raise forms.ValidationError(error)


def _youtube_tags(value: str) -> None:
    if error := netopts.youtube_tags_error(netopts.youtube_tags(value)):
        raise forms.ValidationError(error)


tiktok_labels: dict[str, Any] = dict(netopts.tiktok.PRIVACY_LABELS)


def _local_minutes(value: Any) -> datetime | None:
    """A saved ISO time (UTC) in the person's time zone, for a datetime-local input."""
    if not value:
        return None
    try:
        at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return timezone.localtime(at) if at.tzinfo else None


def network_initial(network: str, options: dict[str, Any]) -> dict[str, Any]:
    """Initial values of a variant form's network fields showing saved ``options``."""
    if network == "youtube":
        kids = options.get("made_for_kids")
        return {
            "yt_title": options.get("title", ""),
            "yt_privacy": netopts.YOUTUBE_SCHEDULED
            if options.get("publish_at")
            else options.get("privacy_status", ""),
            "yt_publish_at": _local_minutes(options.get("publish_at")),
            "yt_category": options.get("category_id", netopts.DEFAULT_YOUTUBE_CATEGORY),
            "yt_tags": ", ".join(options.get("tags") or []),
            "yt_kids": "" if kids is None else ("yes" if kids else "no"),
        }
    if network == "tiktok":
        return {
            "tt_privacy": options.get("privacy_level", ""),
            "tt_comment": options.get("disable_comment") is False,
            "tt_duet": options.get("disable_duet") is False,
            "tt_stitch": options.get("disable_stitch") is False,
            "tt_brand_organic": bool(options.get("brand_organic_toggle")),
            "tt_brand_content": bool(options.get("brand_content_toggle")),
        }
    return {}


def initial_for(composed: ComposedVariant) -> dict[str, Any]:
    """Unbound initial values of a variant form showing ``composed``."""
    initial: dict[str, Any] = {
        "text": composed.texts[0] if composed.texts else "",
        "parts": max(0, len(composed.texts) - 1),
        "present": "1",
        "content_warning": composed.content_warning,
        "visibility": composed.visibility,
        **network_initial(composed.account.network, composed.network_options),
    }
    for number, text in enumerate(composed.texts[1:], start=1):
        initial[f"part_{number}"] = text
    for index, images in enumerate(composed.media):
        initial[f"media_{index}"] = [str(asset.pk) for asset in images if not asset.is_video]
        videos = [str(asset.pk) for asset in images if asset.is_video]
        if index == 0 and videos:
            initial["video"] = videos[0]
    return initial


# --- review, schedule, cancel ------------------------------------------------------------


class ReviewForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 40}),
        help_text=_("Needed when you ask for changes: say what should change."),
    )


def quiet_day_confirm_field() -> forms.BooleanField:
    """The box a manager or an admin ticks to publish on a quiet day."""
    return forms.BooleanField(
        label=_("I confirm publishing on a quiet day"),
        required=False,
        help_text=_(
            "Only needed when the time is on a day the organization marked quiet. "
            "The confirmation is recorded in the audit log."
        ),
    )


class ScheduleForm(forms.Form):
    at = LocalTimeField(label=_("Publish at"))
    confirm_quiet_day = quiet_day_confirm_field()

    # A mistyped date should not publish at once: only a moment ago counts as "now".
    GRACE = TIME_GRACE

    def __init__(self, *args: Any, may_confirm_quiet_day: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["at"].help_text = local_time_help()
        if not may_confirm_quiet_day:
            del self.fields["confirm_quiet_day"]

    @staticmethod
    def default_time() -> datetime:
        """The next full hour, in the person's time zone."""
        now = timezone.localtime()
        return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs={"size": 40}),
    )


# --- media library ------------------------------------------------------------------------


def _alt_text_field(language: str) -> forms.CharField:
    return forms.CharField(
        label=_("Alt text in %(language)s") % {"language": language_name(language)},
        required=False,
        max_length=MAX_ALT_TEXT,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 40, "lang": language}),
    )


class AltTextFieldsMixin:
    """One alt-text field per language (``alt_<code>``): the organization's post
    languages when the view gives them, else the interface's."""

    fields: dict[str, forms.Field]
    alt_languages: list[str]

    def set_alt_languages(self, languages: Sequence[str] | None) -> None:
        self.alt_languages = (
            list(languages) if languages else [code for code, _name in settings.LANGUAGES]
        )

    def add_alt_text_fields(self) -> None:
        for code in self.alt_languages:
            self.fields[f"alt_{code}"] = _alt_text_field(code)

    def alt_field_names(self) -> list[str]:
        return [f"alt_{code}" for code in self.alt_languages]

    def alt_texts(self) -> dict[str, str]:
        cleaned: dict[str, Any] = getattr(self, "cleaned_data", {})
        return {code: cleaned.get(f"alt_{code}", "") for code in self.alt_languages}


class MediaUploadForm(AltTextFieldsMixin, forms.Form):
    file = forms.FileField(
        label=_("Image file"),
        help_text=_("JPEG, PNG, GIF or WebP, at most 16 MB."),
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/gif,image/webp"}),
    )

    def __init__(self, *args: Any, languages: Sequence[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_alt_languages(languages)
        self.add_alt_text_fields()
        for name in self.alt_field_names():
            self.fields[name].help_text = _(
                "Say what the image shows, for people who cannot see it."
            )


class VideoUploadForm(AltTextFieldsMixin, forms.Form):
    """A video for the library (its fields are prefixed ``video-``: the library page has
    the image form too)."""

    file = forms.FileField(
        label=_("Video file"),
        widget=forms.FileInput(attrs={"accept": "video/mp4,video/quicktime,video/webm"}),
    )

    def __init__(self, *args: Any, languages: Sequence[str] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "video")
        super().__init__(*args, **kwargs)
        self.set_alt_languages(languages)
        self.fields["file"].help_text = _("MP4, MOV or WebM, at most %(max)d MB.") % {
            "max": settings.VIDEO_MAX_UPLOAD_BYTES // (1024 * 1024)
        }
        self.add_alt_text_fields()
        for name in self.alt_field_names():
            self.fields[name].help_text = _(
                "Say briefly what the video shows, for people who cannot see it."
            )


class VideoUploadStartForm(VideoUploadForm):
    """The same fields as the video form, with the file's name and size instead of the
    file: the browser opens a chunked upload with them and sends the file afterwards."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["file"]
        self.fields["name"] = forms.CharField(label=_("File name"), max_length=1000)
        self.fields["size"] = forms.IntegerField(label=_("File size"), min_value=0)


class CaptionUploadForm(forms.Form):
    """Captions for a video in one language (SRT or WebVTT)."""

    language = forms.ChoiceField(label=_("Language"))
    file = forms.FileField(
        label=_("Caption file"),
        help_text=_("SRT or WebVTT, at most 1 MB. Replaces the captions in that language."),
        widget=forms.FileInput(attrs={"accept": ".srt,.vtt,text/vtt,application/x-subrip"}),
    )

    def __init__(self, *args: Any, languages: Sequence[str] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "captions")
        super().__init__(*args, **kwargs)
        codes = list(languages) if languages else [code for code, _name in settings.LANGUAGES]
        language_field = cast(forms.ChoiceField, self.fields["language"])
        language_field.choices = [(code, language_name(code)) for code in codes]


class AltTextForm(AltTextFieldsMixin, forms.Form):
    def __init__(
        self,
        *args: Any,
        asset: MediaAsset,
        languages: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        self.set_alt_languages(languages)
        kwargs.setdefault(
            "initial", {f"alt_{code}": asset.alt_text_for(code) for code in self.alt_languages}
        )
        super().__init__(*args, **kwargs)
        self.add_alt_text_fields()

    def changed_texts(self) -> dict[str, str]:
        return {
            name.removeprefix("alt_"): self.cleaned_data.get(name, "")
            for name in self.changed_data
            if name.startswith("alt_")
        }


class PublishingRulesForm(forms.Form):
    require_alt_text = forms.BooleanField(
        label=_("Every image needs alt text in the post's language before it can be scheduled"),
        required=False,
    )
    require_captions = forms.BooleanField(
        label=_("Every video needs captions in the post's language before it can be submitted"),
        required=False,
    )
    late_cutoff_minutes = forms.IntegerField(
        label=_("Late cut-off (minutes)"),
        min_value=1,
        max_value=24 * 60,
        help_text=_(
            "A post that cannot go out within this many minutes of its time is not "
            "published late: it fails and its author is told."
        ),
    )

    post_languages = forms.MultipleChoiceField(
        label=_("Languages a new post starts with"),
        choices=[],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_(
            "The composer opens with a text for each of these languages. With none ticked, "
            "it follows the organization's language (Finnish and Swedish for a Finnish one)."
        ),
    )

    @classmethod
    def for_settings(
        cls, rules: PublishingSettings, data: Any = None, *, organization_language: str = ""
    ) -> PublishingRulesForm:
        form = cls(
            data,
            initial={
                "require_alt_text": rules.require_alt_text,
                "require_captions": rules.require_captions,
                "late_cutoff_minutes": rules.late_cutoff_minutes,
                "post_languages": default_post_languages(rules, organization_language),
            },
        )
        cast(
            forms.MultipleChoiceField, form.fields["post_languages"]
        ).choices = languages_mod.language_choices(languages_mod.organization_language_codes(rules))
        return form


# --- approval policies -----------------------------------------------------------------

APPROVER_ROLES = [Role.ADMIN, Role.MANAGER, Role.EDITOR, Role.REVIEWER]


class PolicyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    channel_account = forms.ChoiceField(
        label=_("Applies to"),
        required=False,
        help_text=_(
            "The organization's default applies to every account without a policy of its own."
        ),
    )
    allow_self_approval = forms.BooleanField(
        label=_("Authors may approve their own posts"),
        required=False,
        help_text=_("Leave this off unless a second pair of eyes is truly not needed."),
    )
    per_language = forms.BooleanField(
        label=_("Each language version approved separately"),
        required=False,
        help_text=_(
            "Reviewers approve each language's text on its own (a Swedish translator the "
            "Swedish text); the post is approved when every language version is."
        ),
    )
    remind_after_hours = forms.IntegerField(
        label=_("Remind the approvers after (hours)"),
        required=False,
        min_value=1,
        max_value=24 * 365,
        help_text=_(
            "When a post has waited this long at a stage, its approvers get a reminder, "
            "once. Leave empty for no reminders."
        ),
    )
    escalate_after_hours = forms.IntegerField(
        label=_("Tell the managers after (hours)"),
        required=False,
        min_value=1,
        max_value=24 * 365,
        help_text=_(
            "When a post has waited this long at a stage, the organization's managers are "
            "told, once. Leave empty to never tell them."
        ),
    )

    def __init__(self, *args: Any, accounts: Iterable[ChannelAccount], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.accounts = {str(account.pk): account for account in accounts}
        choice_field = cast(forms.ChoiceField, self.fields["channel_account"])
        choice_field.choices = [("", gettext("The organization's default"))] + [
            (key, account_label(account)) for key, account in self.accounts.items()
        ]

    def account(self) -> ChannelAccount | None:
        return self.accounts.get(self.cleaned_data.get("channel_account") or "")


class StageForm(forms.Form):
    name = forms.CharField(label=_("Stage name"), max_length=200, required=False)
    role = forms.ChoiceField(
        label=_("Who approves"),
        required=False,
        help_text=_("Everyone with this role, unless you name people below."),
    )
    reviewers = forms.MultipleChoiceField(
        label=_("Named people"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    require_all = forms.BooleanField(
        label=_("All of them must approve (otherwise one is enough)"), required=False
    )
    outside_email = forms.EmailField(
        label=_("Or an outside reviewer's e-mail"),
        required=False,
        help_text=_(
            "Someone without a GovSocial account (a legal unit, a minister's office). They "
            "get a link by e-mail that shows the post and lets them approve it or ask for "
            "changes; the role and people above are then not asked."
        ),
    )
    outside_per_post = forms.BooleanField(
        label=_("The author names the outside reviewer for each post"),
        required=False,
        help_text=_(
            "When sending a post for review, its author gives the outside reviewer's "
            "address; the address above, if any, is suggested."
        ),
    )

    def __init__(self, *args: Any, members: Sequence[Membership] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        role_field = cast(forms.ChoiceField, self.fields["role"])
        role_field.choices = [("", gettext("Only the people named below"))] + [
            (role.value, role.label) for role in APPROVER_ROLES
        ]
        reviewers_field = cast(forms.MultipleChoiceField, self.fields["reviewers"])
        reviewers_field.choices = [
            (
                str(member.pk),
                f"{member.user.full_name or member.user.email} ({Role(member.role).label})",
            )
            for member in members
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        unnamed = not (
            data.get("role")
            or data.get("reviewers")
            or data.get("outside_email")
            or data.get("outside_per_post")
        )
        if not data.get("DELETE") and unnamed and (self.has_changed() or not self.empty_permitted):
            raise forms.ValidationError(
                _(
                    "Choose a role, name the people who approve at this stage, or give an "
                    "outside reviewer's e-mail."
                )
            )
        return data

    def stage_input(self) -> StageInput:
        data = self.cleaned_data
        return StageInput(
            name=data.get("name", ""),
            role=data.get("role", ""),
            reviewer_ids=[int(pk) for pk in data.get("reviewers", [])],
            require_all=bool(data.get("require_all")),
            outside_email=data.get("outside_email") or "",
            outside_per_post=bool(data.get("outside_per_post")),
        )


class BaseStageFormSet(forms.BaseFormSet):
    def __init__(self, *args: Any, members: Sequence[Membership] = (), **kwargs: Any) -> None:
        self.members = members
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {**super().get_form_kwargs(index), "members": self.members}

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = _("Remove this stage")


StageFormSet = cast(
    type[BaseStageFormSet],
    forms.formset_factory(
        StageForm, formset=BaseStageFormSet, extra=0, can_delete=True, max_num=10, absolute_max=10
    ),
)


class VideoCopyForm(forms.Form):
    """Ask for a compatible copy of a video: its shape, and for burned-in captions their
    language. Two on the media page: ``copy`` (transcode) and ``burn`` (captions)."""

    crop = forms.ChoiceField(
        label=_("Shape of the copy"),
        choices=[
            ("", _("Keep the shape")),
            ("9:16", _("Crop the middle to 9:16 (Instagram Reels, TikTok)")),
        ],
        widget=forms.RadioSelect,
        required=False,
        initial="",
    )
    language = forms.ChoiceField(label=_("Captions to burn in"), required=False)

    def __init__(
        self, *args: Any, kind: str, caption_languages: Sequence[str] = (), **kwargs: Any
    ) -> None:
        self.kind = kind
        kwargs.setdefault("prefix", "burn" if kind == VideoCopyKind.BURN_CAPTIONS else "copy")
        super().__init__(*args, **kwargs)
        language_field = cast(forms.ChoiceField, self.fields["language"])
        if kind == VideoCopyKind.BURN_CAPTIONS:
            language_field.required = True
            language_field.choices = [(code, language_name(code)) for code in caption_languages]
        else:
            del self.fields["language"]
