"""Per-network choices of a variant (``Variant.network_options``), as the connectors read
them from ``PublishRequest.options``.

YouTube (accounts/connectors/youtube.py): ``title``, ``privacy_status``, ``publish_at``
(an ISO 8601 time in UTC; only with ``privacy_status`` "private": the video goes public
then), ``category_id``, ``tags`` (a list), ``made_for_kids``. TikTok
(accounts/connectors/tiktok.py): ``privacy_level`` (one of the creator's options from
creator_info, never preselected), ``disable_comment``, ``disable_duet``, ``disable_stitch``,
``brand_content_toggle``, ``brand_organic_toggle``.

Shapes and limits are refused when saved (composer and API alike); a choice left to make
(a title, made for kids, TikTok's privacy level) is a problem when the post is submitted,
like any other reason the network would refuse it. Who can watch a YouTube video is such a
choice: never defaulted, so nothing goes public (or stays hidden) by accident.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.connectors import tiktok
from accounts.connectors.base import ConnectorError
from accounts.connectors.registry import get_connector
from accounts.models import ChannelAccount

logger = logging.getLogger(__name__)

NETWORKS = ("youtube", "tiktok")

# https://developers.google.com/youtube/v3/docs/videos#snippet.title: at most 100
# characters, no < or >; snippet.tags: at most 500 characters in all.
YOUTUBE_TITLE_MAX = 100
YOUTUBE_TAGS_MAX = 500
YOUTUBE_PRIVACY = (
    ("public", gettext_lazy("Public")),
    ("unlisted", gettext_lazy("Unlisted (anyone with the link)")),
    ("private", gettext_lazy("Private")),
)
# In the composer: private until a chosen time, then public. Sent as privacyStatus
# "private" with status.publishAt, which YouTube allows only on private videos
# (https://developers.google.com/youtube/v3/docs/videos#status.publishAt).
YOUTUBE_SCHEDULED = "scheduled"
# A short list of YouTube's video categories (videoCategories.list, region FI), the ones a
# public body posts in: https://developers.google.com/youtube/v3/docs/videoCategories/list
YOUTUBE_CATEGORIES = (
    ("22", gettext_lazy("People & Blogs")),
    ("25", gettext_lazy("News & Politics")),
    ("27", gettext_lazy("Education")),
    ("29", gettext_lazy("Nonprofits & Activism")),
)
DEFAULT_YOUTUBE_CATEGORY = "25"

TIKTOK_TOGGLES = ("disable_comment", "disable_duet", "disable_stitch")
TIKTOK_BRAND = ("brand_content_toggle", "brand_organic_toggle")
CREATOR_CACHE_SECONDS = 120


def youtube_tags(text: str) -> list[str]:
    """Comma separated tags as a list, empty ones dropped."""
    return [tag.strip() for tag in text.split(",") if tag.strip()]


def youtube_tags_length(tags: list[str]) -> int:
    """The tags' length as YouTube counts it: the commas between them, a tag with a space
    in quotes."""
    return sum(len(tag) + (2 if " " in tag else 0) for tag in tags) + max(0, len(tags) - 1)


def youtube_title_error(title: str) -> str:
    if len(title) > YOUTUBE_TITLE_MAX or "<" in title or ">" in title:
        return _("A YouTube title has at most 100 characters and no < or >.")
    return ""


def youtube_tags_error(tags: list[str]) -> str:
    length = youtube_tags_length(tags)
    if length > YOUTUBE_TAGS_MAX:
        return _("The tags are %(length)d characters long; YouTube takes at most %(limit)d.") % {
            "length": length,
            "limit": YOUTUBE_TAGS_MAX,
        }
    return ""


def _aware_time(value: Any) -> datetime | None:
    """An ISO 8601 time with its offset (or Z), else None."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo is not None else None


def youtube_privacy_label(options: Mapping[str, Any]) -> str:
    """Who can watch the video, in words, for the post's page ("" when not chosen)."""
    privacy = str(options.get("privacy_status") or "")
    if privacy == "private" and options.get("publish_at"):
        moment = _aware_time(options["publish_at"])
        if moment is not None:
            return _("Private until %(time)s, then public") % {
                "time": date_format(timezone.localtime(moment), "DATETIME_FORMAT")
            }
    return str(dict(YOUTUBE_PRIVACY).get(privacy, ""))


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    return None


def clean_options(network: str, raw: Any) -> dict[str, Any]:
    """``raw`` checked and normalized for ``network``; raises ``ValidationError`` with a
    message per key. Only known keys are kept; other networks keep nothing."""
    if raw in (None, ""):
        return {}
    if not isinstance(raw, Mapping):
        raise ValidationError(_("Give the network's choices as an object."))
    if network not in NETWORKS:
        return {}
    errors: dict[str, str] = {}
    options: dict[str, Any] = {}
    unknown = sorted(
        str(key)
        for key in raw
        if key
        not in (
            ("title", "privacy_status", "publish_at", "category_id", "tags", "made_for_kids")
            if network == "youtube"
            else ("privacy_level", *TIKTOK_TOGGLES, *TIKTOK_BRAND)
        )
    )
    for key in unknown:
        errors[key] = _("%(network)s has no such choice.") % {"network": network}
    if network == "youtube":
        if "title" in raw:
            title = raw["title"]
            if not isinstance(title, str):
                errors["title"] = _("Give the title as text.")
            elif error := youtube_title_error(title.strip()):
                errors["title"] = error
            elif title.strip():
                options["title"] = title.strip()
        if raw.get("privacy_status") not in (None, ""):
            if str(raw["privacy_status"]) not in dict(YOUTUBE_PRIVACY):
                errors["privacy_status"] = _(
                    "Choose who can watch the video: private, unlisted or public."
                )
            else:
                options["privacy_status"] = str(raw["privacy_status"])
        if raw.get("publish_at") not in (None, ""):
            moment = _aware_time(raw["publish_at"])
            if moment is None:
                errors["publish_at"] = _(
                    "Give the time the video goes public as an ISO 8601 time with its offset."
                )
            elif moment <= timezone.now():
                errors["publish_at"] = _("The time the video goes public has to be in the future.")
            elif options.get("privacy_status", raw.get("privacy_status")) != "private":
                errors["publish_at"] = _(
                    "A video that goes public at a set time is uploaded as private: choose "
                    "private with it."
                )
            else:
                options["publish_at"] = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if raw.get("category_id") not in (None, ""):
            if str(raw["category_id"]) not in dict(YOUTUBE_CATEGORIES):
                errors["category_id"] = _("Choose one of the categories offered.")
            else:
                options["category_id"] = str(raw["category_id"])
        if raw.get("tags") not in (None, ""):
            tags = raw["tags"]
            if isinstance(tags, str):
                tags = youtube_tags(tags)
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                errors["tags"] = _("Give the tags as a list of texts.")
            else:
                tags = [t.strip() for t in tags if t.strip()]
                if error := youtube_tags_error(tags):
                    errors["tags"] = error
                elif tags:
                    options["tags"] = tags
        if raw.get("made_for_kids") is not None:
            flag = _flag(raw["made_for_kids"])
            if flag is None:
                errors["made_for_kids"] = _("Say yes (true) or no (false).")
            else:
                options["made_for_kids"] = flag
    else:
        if raw.get("privacy_level") not in (None, ""):
            if str(raw["privacy_level"]) not in tiktok.PRIVACY_LEVELS:
                errors["privacy_level"] = _("TikTok does not know that privacy level.")
            else:
                options["privacy_level"] = str(raw["privacy_level"])
        for key in (*TIKTOK_TOGGLES, *TIKTOK_BRAND):
            if raw.get(key) is not None:
                flag = _flag(raw[key])
                if flag is None:
                    errors[key] = _("Say yes (true) or no (false).")
                else:
                    options[key] = flag
    if errors:
        raise ValidationError({key: [message] for key, message in errors.items()})
    return options


def missing_choices(network: str, options: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(key, message)`` of each choice the person has yet to make explicitly."""
    missing: list[tuple[str, str]] = []
    if network == "youtube":
        if not str(options.get("title") or "").strip():
            missing.append(("title", _("Give the video a title.")))
        if str(options.get("privacy_status") or "") not in dict(YOUTUBE_PRIVACY):
            # The connector's own words (accounts/connectors/youtube.py), so it is said once.
            missing.append(("privacy_status", _("Choose who can watch the video on YouTube.")))
        if not isinstance(options.get("made_for_kids"), bool):
            missing.append(("made_for_kids", _("Say whether the video is made for kids.")))
    elif network == "tiktok" and not options.get("privacy_level"):
        missing.append(("privacy_level", _("Choose who can see the video on TikTok.")))
    return missing


@dataclass(frozen=True)
class CreatorChoices:
    """What the TikTok creator may choose for the next post, or why it is not known."""

    privacy_levels: tuple[str, ...]
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False
    error: str = ""


def tiktok_creator_choices(account: ChannelAccount) -> CreatorChoices:
    """The account's creator info from TikTok (kept for two minutes); when TikTok cannot
    be asked, the standard privacy levels and a message saying so."""
    key = f"publishing:tiktok-creator:{account.pk}"
    cached = cache.get(key)
    if isinstance(cached, CreatorChoices):
        return cached
    connector = get_connector("tiktok")
    try:
        info = connector.creator_info(account)  # type: ignore[attr-defined]
    except ConnectorError as exc:
        logger.info("TikTok creator info of account %s failed: %s", account.pk, exc)
        return CreatorChoices(
            privacy_levels=tiktok.PRIVACY_LEVELS,
            error=_(
                "TikTok did not tell which privacy levels this account may use (%(reason)s). "
                "All levels are offered; TikTok refuses the post if the account may not use "
                "the one you choose."
            )
            % {"reason": str(exc) or _("no answer")},
        )
    choices = CreatorChoices(
        privacy_levels=tuple(info.privacy_levels) or tiktok.PRIVACY_LEVELS,
        comment_disabled=info.comment_disabled,
        duet_disabled=info.duet_disabled,
        stitch_disabled=info.stitch_disabled,
    )
    cache.set(key, choices, CREATOR_CACHE_SECONDS)
    return choices
