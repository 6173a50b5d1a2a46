"""A variant as the network will receive it, and every reason it would be refused.

Rules come from the variant's connector (``validate``, ``text_length``,
``limits_for``), so text length is counted the way each network counts it;
the organization's own rule (alt text required) is added here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from django.db.models import Prefetch, prefetch_related_objects
from django.utils.translation import gettext as _

from accounts.connectors.base import (
    CaptionTrack,
    Connector,
    MediaItem,
    PublishRequest,
    RemoteRef,
    Visibility,
)
from accounts.connectors.registry import UnknownNetwork, get_connector
from accounts.models import ChannelAccount
from governance.models import Organization
from publishing.languages import is_language_tag, language_name, organization_language_codes
from publishing.models import MediaAsset, Post, PublishingSettings, Variant, VariantMedia
from publishing.network_options import missing_choices
from publishing.services.media import media_public_url


def _content() -> tuple[Any, ...]:
    return (
        "parts",
        Prefetch(
            "media",
            queryset=VariantMedia.objects.select_related("asset").prefetch_related(
                "asset__alt_texts", "asset__captions"
            ),
        ),
    )


def variants_with_content(post: Post, *, variant_id: int | None = None) -> list[Variant]:
    """The post's variants (or the one ``variant_id``) with everything publishing needs,
    in four queries."""
    variants = post.variants.all() if variant_id is None else post.variants.filter(pk=variant_id)
    return list(
        variants.select_related("channel_account")
        .prefetch_related(*_content())
        .order_by("channel_account__handle", "language", "pk")
    )


def variant_with_content(variant: Variant, account: ChannelAccount) -> Variant:
    """``variant`` (of ``account``, both loaded already) with its thread parts and media,
    as ``variants_with_content`` gives them, in two queries."""
    if variant.channel_account_id == account.pk:
        variant.channel_account = account
    prefetch_related_objects([variant], *_content())
    return variant


def variant_thread_texts(variant: Variant) -> list[str]:
    """The texts of the variant's posts in order: its own, then each thread part."""
    return [variant.text] + [part.text for part in variant.parts.all()]


def _video_item(asset: MediaAsset, language: str, *, load: bool) -> MediaItem:
    """A video as connectors take it: the file's path (streamed by the connector, never
    read here), its captions in the variant's language and its poster frame."""
    poster = b""
    if load and asset.poster:
        with asset.poster.open("rb") as handle:
            poster = handle.read()
    return MediaItem(
        content=b"",
        mime_type=asset.mime_type,
        alt_text=asset.alt_text_for(language),
        filename=asset.original_name,
        public_url=media_public_url(asset) if load else "",
        kind="video",
        path=asset.file.path if load else "",
        size_bytes=asset.size_bytes,
        duration_ms=asset.duration_ms or 0,
        width=asset.width,
        height=asset.height,
        # Every language's captions go where the network takes several (a Finnish post's
        # video is watched by Swedish speakers too), the post's own language first for
        # the networks that take one file.
        captions=tuple(
            CaptionTrack(language=caption.language, vtt=caption.vtt, name=f"{caption.language}.vtt")
            for caption in sorted(
                asset.captions.all(),
                key=lambda caption: (caption.language != language, caption.language),
            )
        ),
        poster=poster,
    )


def _media_item(asset: MediaAsset, language: str, *, load: bool) -> MediaItem:
    if asset.is_video:
        return _video_item(asset, language, load=load)
    content = b""
    if load:
        with asset.file.open("rb") as handle:
            content = handle.read()
    else:
        # Validation needs the size only; a stand-in of the right length costs no disk read.
        content = bytes(asset.size_bytes)
    return MediaItem(
        content=content,
        mime_type=asset.mime_type,
        alt_text=asset.alt_text_for(language),
        filename=asset.original_name,
        public_url=media_public_url(asset) if load else "",
    )


def variant_request(
    variant: Variant,
    thread_index: int,
    *,
    idempotency_key: str = "",
    reply_to: RemoteRef | None = None,
    thread_root: RemoteRef | None = None,
    load_media: bool = True,
) -> PublishRequest:
    """Post ``thread_index`` of the variant as a connector request."""
    texts = variant_thread_texts(variant)
    media = [
        _media_item(slot.asset, variant.language, load=load_media)
        for slot in variant.media.all()
        if slot.thread_index == thread_index
    ]
    visibility: Visibility = variant.visibility  # type: ignore[assignment]
    return PublishRequest(
        text=texts[thread_index],
        media=media,
        reply_to=reply_to,
        thread_root=thread_root,
        language=variant.language,
        content_warning=variant.content_warning,
        idempotency_key=idempotency_key,
        visibility=visibility,
        options=dict(getattr(variant, "network_options", None) or {}),
    )


@dataclass(frozen=True)
class Problem:
    """One reason a variant cannot go out, and what fixes it: ``where`` is "text" (post
    ``thread_index`` of the thread), "images", "alt" (the description of ``asset_id``),
    "accounts" or "languages". The composer links each problem to that field."""

    message: str
    where: str
    thread_index: int = 0
    asset_id: int | None = None
    # With ``where`` "options": the ``network_options`` key the choice is made in.
    option: str = ""


# A stand-in image, to tell a network's image rules from its text rules.
_PROBE_IMAGE = MediaItem(content=b"", mime_type="image/jpeg", alt_text="-")


def _is_about_images(connector: Connector, request: PublishRequest, account: Any) -> set[str]:
    """The network's problems with ``request`` that its images cause or an image would fix
    (Instagram's "needs at least one image"); the rest are about the text."""
    problems = set(connector.validate(request, account=account))
    if request.media:
        bare = set(connector.validate(replace(request, media=()), account=account))
        return problems - bare
    with_image = set(connector.validate(replace(request, media=(_PROBE_IMAGE,)), account=account))
    with_text = set(connector.validate(replace(request, text=request.text or "-"), account=account))
    # Fixed by an image but not by text: only an image helps.
    return {problem for problem in problems if problem not in with_image and problem in with_text}


def variant_problem_items(variant: Variant, *, require_alt_text: bool) -> list[Problem]:
    """Every reason the variant cannot be published as it is, each with the field that
    fixes it; empty when fine."""
    account = variant.channel_account
    try:
        connector = get_connector(account.network)
    except UnknownNetwork:
        return [
            Problem(
                _("GovSocial cannot publish to %(network)s.") % {"network": account.network},
                "accounts",
            )
        ]
    problems: list[Problem] = []
    if not is_language_tag(variant.language):
        problems.append(
            Problem(
                _("%(language)s is not a language we publish in.") % {"language": variant.language},
                "languages",
            )
        )
    choices = missing_choices(account.network, getattr(variant, "network_options", None) or {})
    problems += [Problem(message, "options", option=key) for key, message in choices]
    said = {message for _key, message in choices}
    texts = variant_thread_texts(variant)
    if len(texts) > 1 and not connector.capabilities.threads:
        problems.append(
            Problem(_("This network does not take threads from us; write one post."), "text", 1)
        )
    for index in range(len(texts)):
        request = variant_request(variant, index, load_media=False)
        prefix = (
            _("Post %(number)d of the thread: ") % {"number": index + 1} if len(texts) > 1 else ""
        )
        about_images = _is_about_images(connector, request, account)
        for message in connector.validate(request, account=account):
            if message in said:
                continue
            where = "images" if message in about_images else "text"
            problems.append(Problem(prefix + message, where, index))
    if require_alt_text:
        # Images only: a video's own rule is captions (below).
        images = [slot for slot in variant.media.all() if not slot.asset.is_video]
        for number, slot in enumerate(images, start=1):
            if not slot.asset.alt_text_for(variant.language).strip():
                problems.append(
                    Problem(
                        _("Image %(number)d (%(name)s) has no alt text in %(language)s.")
                        % {
                            "number": number,
                            "name": str(slot.asset),
                            "language": _language_name(variant.language),
                        },
                        "alt",
                        slot.thread_index,
                        slot.asset.pk,
                    )
                )
    videos = [slot for slot in variant.media.all() if slot.asset.is_video]
    if videos and publishing_rules(account.organization_id).require_captions:
        for slot in videos:
            if not any(c.language == variant.language for c in slot.asset.captions.all()):
                problems.append(
                    Problem(
                        _("The video %(name)s has no captions in %(language)s.")
                        % {
                            "name": str(slot.asset),
                            "language": _language_name(variant.language),
                        },
                        "images",
                        slot.thread_index,
                        slot.asset.pk,
                    )
                )
    return problems


def variant_problems(variant: Variant, *, require_alt_text: bool) -> list[str]:
    """Every reason the variant cannot be published as it is, in words; empty when fine."""
    return [
        problem.message
        for problem in variant_problem_items(variant, require_alt_text=require_alt_text)
    ]


def _language_name(code: str) -> str:
    return language_name(code)


def post_problems(post: Post, *, require_alt_text: bool | None = None) -> dict[Variant, list[str]]:
    """Problems of every variant that has any (an empty dict: ready to publish).

    ``require_alt_text`` defaults to the organization's rule."""
    if require_alt_text is None:
        require_alt_text = publishing_rules(post.organization_id).require_alt_text
    result: dict[Variant, list[str]] = {}
    for variant in variants_with_content(post):
        problems = variant_problems(variant, require_alt_text=require_alt_text)
        if problems:
            result[variant] = problems
    return result


# Finland is bilingual: a Finnish-speaking body publishes in Swedish too, and the other way
# round. Other languages start alone.
_LANGUAGE_COMPANIONS = {"fi": ["fi", "sv"], "sv": ["sv", "fi"]}


def default_post_languages(rules: PublishingSettings, organization_language: str) -> list[str]:
    """The language versions a new post starts with: the organization's choice, else
    its default language (with Swedish beside Finnish, Finnish beside Swedish)."""
    codes = organization_language_codes(rules)
    chosen = [code for code in rules.post_languages or [] if code in codes]
    if chosen:
        return chosen
    derived = _LANGUAGE_COMPANIONS.get(organization_language, [organization_language])
    return [code for code in derived if code in codes] or codes[:1]


def publishing_rules(organization_id: int) -> PublishingSettings:
    """The organization's settings, or the defaults when it never changed them."""
    found = PublishingSettings.objects.filter(organization_id=organization_id).first()
    return found or PublishingSettings(organization_id=organization_id)


def organization_publishing_rules(organization: Organization) -> PublishingSettings:
    """As ``publishing_rules``, with no query when the organization was read with
    ``select_related("publishing_settings")``."""
    try:
        return organization.publishing_settings
    except PublishingSettings.DoesNotExist:
        return PublishingSettings(organization_id=organization.pk)
