"""The media library: uploading images, their alt text, removing them."""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Mapping

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from governance.models import Membership
from governance.selectors.access import require_perm
from governance.services.audit import audit_record
from publishing.languages import is_language_tag
from publishing.models import MediaAltText, MediaAsset

# The largest image any network we serve takes (Mastodon's default is 16 MB).
MAX_UPLOAD_BYTES = 16 * 1024 * 1024
# Pillow's format names → the type we store and networks are told.
ACCEPTED_FORMATS = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}
MAX_PIXELS = 50_000_000
MAX_ALT_TEXT = 1500


def _known_language(language: str) -> str:
    if not is_language_tag(language):
        raise ValidationError(
            _("%(language)s is not one of the organization's languages.") % {"language": language},
            code="language",
        )
    return language


def inspect_image(content: bytes) -> tuple[str, int, int]:
    """``(mime type, width, height)`` of an image we accept; a ValidationError that says
    what is wrong otherwise (not an image, a type we do not take, too large)."""
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValidationError(
            _("The file is %(size).1f MB; images can be at most %(max)d MB.")
            % {"size": len(content) / (1024 * 1024), "max": MAX_UPLOAD_BYTES // (1024 * 1024)},
            code="too_large",
        )
    if not content:
        raise ValidationError(_("The file is empty."), code="empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as image:
                image_format = image.format or ""
                width, height = image.size
                image.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(
            _("This file is not an image we can read. Upload a JPEG, PNG, GIF or WebP image."),
            code="not_an_image",
        ) from None
    except (OSError, SyntaxError, ValueError):
        raise ValidationError(
            _("This image file is damaged or incomplete. Save it again and upload it."),
            code="damaged",
        ) from None
    mime_type = ACCEPTED_FORMATS.get(image_format)
    if mime_type is None:
        raise ValidationError(
            _("%(format)s images are not accepted. Upload a JPEG, PNG, GIF or WebP image.")
            % {"format": image_format or _("This kind of")},
            code="format",
        )
    if width * height > MAX_PIXELS:
        raise ValidationError(
            _("The image is %(width)d by %(height)d pixels, which is too large to publish.")
            % {"width": width, "height": height},
            code="too_many_pixels",
        )
    return mime_type, width, height


def media_asset_upload(
    *,
    membership: Membership,
    file: File,
    alt_texts: Mapping[str, str] | None = None,
    request: HttpRequest | None = None,
) -> MediaAsset:
    """Add an image to the organization's library, checked with Pillow first.

    ``alt_texts`` maps a language code to its description. A file that is not
    an image we accept raises a ValidationError saying what is wrong.
    """
    require_perm(membership, "posts.write")
    file.seek(0)
    content = file.read(MAX_UPLOAD_BYTES + 1)
    mime_type, width, height = inspect_image(content)
    texts = {_known_language(lang): text.strip() for lang, text in (alt_texts or {}).items()}
    for text in texts.values():
        _check_alt_length(text)
    name = (getattr(file, "name", "") or "").rsplit("/", 1)[-1][:255]
    with transaction.atomic():
        asset = MediaAsset(
            organization=membership.organization,
            original_name=name,
            mime_type=mime_type,
            size_bytes=len(content),
            width=width,
            height=height,
            sha256=hashlib.sha256(content).hexdigest(),
            uploaded_by=membership.user,
        )
        asset.file.save(name or "image", ContentFile(content), save=False)
        asset.save()
        for language, text in texts.items():
            if text:
                MediaAltText.objects.create(
                    asset=asset, language=language, text=text, updated_by=membership.user
                )
        audit_record(
            action="media.uploaded",
            organization=membership.organization,
            actor=membership.user,
            target=asset,
            new={
                "mime_type": mime_type,
                "size_bytes": len(content),
                "width": width,
                "height": height,
                "sha256": asset.sha256,
                "alt_text_languages": sorted(lang for lang, text in texts.items() if text),
            },
            request=request,
        )
    return asset


def _check_alt_length(text: str) -> None:
    if len(text) > MAX_ALT_TEXT:
        raise ValidationError(
            _("Alt text can be at most %(max)d characters.") % {"max": MAX_ALT_TEXT},
            code="alt_text_length",
        )


def media_alt_text_set(
    *,
    asset: MediaAsset,
    membership: Membership,
    language: str,
    text: str,
    request: HttpRequest | None = None,
) -> MediaAltText | None:
    """Set (or, with empty ``text``, remove) the image's description in ``language``."""
    require_perm(membership, "posts.write")
    if asset.organization_id != membership.organization_id:
        raise ValidationError(_("This image is not in your library."), code="other_org")
    _known_language(language)
    text = text.strip()
    _check_alt_length(text)
    with transaction.atomic():
        existing = (
            MediaAltText.objects.select_for_update().filter(asset=asset, language=language).first()
        )
        old = {"text": existing.text} if existing else {}
        if not text:
            if existing is not None:
                existing.delete()
            result = None
        elif existing is None:
            result = MediaAltText.objects.create(
                asset=asset, language=language, text=text, updated_by=membership.user
            )
        else:
            existing.text = text
            existing.updated_by = membership.user
            existing.updated_at = timezone.now()
            existing.save(update_fields=["text", "updated_by", "updated_at"])
            result = existing
        audit_record(
            action="media.alt_text_set",
            organization=membership.organization,
            actor=membership.user,
            target=asset,
            old=old,
            new={"language": language, "text": text},
            request=request,
        )
    return result


def media_asset_delete(
    *, asset: MediaAsset, membership: Membership, request: HttpRequest | None = None
) -> None:
    """Remove an image from the library; refused while a post still uses it."""
    require_perm(membership, "posts.write")
    if asset.organization_id != membership.organization_id:
        raise ValidationError(_("This image is not in your library."), code="other_org")
    with transaction.atomic():
        if asset.uses.exists():
            raise ValidationError(
                _("A post uses this image. Remove it from the post first."), code="in_use"
            )
        audit_record(
            action="media.deleted",
            organization=membership.organization,
            actor=membership.user,
            target=asset,
            old={"sha256": asset.sha256, "original_name": asset.original_name},
            request=request,
        )
        storage, name, poster = asset.file.storage, asset.file.name, asset.poster.name
        asset.delete()

        # The files go only once the row is really gone.
        def remove_files() -> None:
            for stored in (name, poster):
                if stored:
                    storage.delete(stored)

        transaction.on_commit(remove_files)


# --- public addresses for networks that fetch media by URL (Threads, Instagram) -------

PUBLIC_MEDIA_SALT = "publishing.media.public"
# Long enough for a container that waits (Threads and Instagram keep one 24 hours).
PUBLIC_MEDIA_MAX_AGE_SECONDS = 2 * 24 * 3600


def media_public_path(asset: MediaAsset) -> str:
    """The path of the image's signed, expiring public address (see media_public_url)."""
    token = signing.dumps({"a": asset.pk, "h": asset.sha256[:16]}, salt=PUBLIC_MEDIA_SALT)
    return reverse("publishing:media_public", args=[token])


def media_public_url(asset: MediaAsset) -> str:
    """A signed, expiring address of the image that anyone can fetch (no login): the
    token names the asset and its content hash, so a replaced file is not served."""
    return settings.SITE_URL.rstrip("/") + media_public_path(asset)


def media_public_asset(token: str) -> MediaAsset | None:
    """The asset a public address points at, or None (bad, expired or stale token)."""
    try:
        data = signing.loads(token, salt=PUBLIC_MEDIA_SALT, max_age=PUBLIC_MEDIA_MAX_AGE_SECONDS)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("a"), int):
        return None
    asset = MediaAsset.objects.filter(pk=data["a"]).first()
    if asset is None or asset.sha256[:16] != data.get("h"):
        return None
    return asset
