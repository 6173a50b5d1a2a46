"""The media library: Pillow checks every upload; the alt-text rule blocks scheduling."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from publishing.models import MediaAltText, PostStatus, PublishingSettings
from publishing.services.approval import post_approve
from publishing.services.media import media_alt_text_set, media_asset_delete, media_asset_upload
from publishing.services.org_settings import publishing_settings_update
from publishing.services.posts import (
    MediaSlot,
    post_create,
    post_schedule,
    post_submit_for_review,
    variant_save,
)
from publishing.tests.fixtures import make_image, png_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


def test_an_image_is_stored_with_its_type_size_and_alt_text(team):
    asset = make_image(team.eddie, alt={"fi": "Kirjaston ovi", "sv": "Bibliotekets dörr"})
    assert (asset.mime_type, asset.width, asset.height) == ("image/png", 8, 6)
    assert asset.size_bytes == len(png_bytes())
    assert asset.alt_text_for("sv") == "Bibliotekets dörr"
    assert str(asset.file.name).endswith(".png")


def test_a_file_that_is_not_an_image_is_refused_with_a_clear_error(team):
    with pytest.raises(ValidationError, match="not an image we can read"):
        media_asset_upload(
            membership=team.eddie, file=ContentFile(b"%PDF-1.4 hello", name="leaflet.pdf")
        )


def test_a_damaged_image_is_refused(team):
    truncated = png_bytes((200, 200))[:60]
    with pytest.raises(ValidationError):
        media_asset_upload(membership=team.eddie, file=ContentFile(truncated, name="x.png"))


def test_an_image_type_networks_do_not_take_is_refused(team):
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="BMP")
    with pytest.raises(ValidationError, match="BMP images are not accepted"):
        media_asset_upload(membership=team.eddie, file=ContentFile(buffer.getvalue(), name="a.bmp"))


def test_a_too_large_file_is_refused(team, monkeypatch):
    monkeypatch.setattr("publishing.services.media.MAX_UPLOAD_BYTES", 100)
    with pytest.raises(ValidationError, match="at most"):
        media_asset_upload(
            membership=team.eddie, file=ContentFile(png_bytes((64, 64), "blue") * 3, name="b.png")
        )


def test_an_auditor_cannot_upload(team):
    with pytest.raises(PermissionDenied):
        make_image(team.carol)


def test_alt_text_is_set_and_cleared_per_language(team):
    asset = make_image(team.eddie)
    media_alt_text_set(asset=asset, membership=team.eddie, language="fi", text="Ovi")
    assert MediaAltText.objects.get(asset=asset, language="fi").text == "Ovi"
    media_alt_text_set(asset=asset, membership=team.eddie, language="fi", text="")
    assert not MediaAltText.objects.filter(asset=asset).exists()


def test_an_image_in_use_cannot_be_deleted(team):
    asset = make_image(team.eddie, alt={"fi": "Ovi"})
    post = post_create(membership=team.eddie)
    variant_save(
        post=post, membership=team.eddie, channel_account=team.account, language="fi",
        text="Kuva", media=[MediaSlot(asset)],
    )  # fmt: skip
    with pytest.raises(ValidationError, match="uses this image"):
        media_asset_delete(asset=asset, membership=team.eddie)


def _approved_with_image(team, alt):
    asset = make_image(team.eddie, alt=alt)
    post = post_create(membership=team.eddie, title="Photo")
    variant_save(
        post=post, membership=team.eddie, channel_account=team.account, language="fi",
        text="Uusi kirjasto", media=[MediaSlot(asset)],
    )  # fmt: skip
    post_submit_for_review(post=post, membership=team.eddie)
    post_approve(post=post, membership=team.rita)
    return post, asset


def test_an_image_without_alt_text_in_the_posts_language_cannot_go_to_review(team):
    asset = make_image(team.eddie, alt={"sv": "Nytt bibliotek"})
    post = post_create(membership=team.eddie, title="Photo")
    variant_save(
        post=post, membership=team.eddie, channel_account=team.account, language="fi",
        text="Uusi kirjasto", media=[MediaSlot(asset)],
    )  # fmt: skip
    with pytest.raises(ValidationError, match="has no alt text in Finnish"):
        post_submit_for_review(post=post, membership=team.eddie)
    post.refresh_from_db()
    assert post.status == PostStatus.DRAFT


def test_an_image_without_alt_text_in_the_posts_language_blocks_scheduling(team):
    post, asset = _approved_with_image(team, alt={"fi": "Kirjasto", "sv": "Nytt bibliotek"})
    # The Finnish description is removed after the approval.
    media_alt_text_set(asset=asset, membership=team.eddie, language="fi", text="")
    with pytest.raises(ValidationError, match="has no alt text in Finnish"):
        post_schedule(post=post, membership=team.eddie, at=timezone.now() + timedelta(hours=1))
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED
    media_alt_text_set(asset=asset, membership=team.eddie, language="fi", text="Uusi kirjasto")
    post_schedule(post=post, membership=team.eddie, at=timezone.now() + timedelta(hours=1))
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED


def test_the_alt_text_rule_is_on_by_default_and_can_be_turned_off(team):
    assert PublishingSettings(organization=team.alice.organization).require_alt_text
    publishing_settings_update(membership=team.alice, require_alt_text=False)
    post, _asset = _approved_with_image(team, alt={})  # the rule is off at review too
    post_schedule(post=post, membership=team.eddie, at=timezone.now() + timedelta(hours=1))
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED


def test_only_admins_change_publishing_settings(team):
    with pytest.raises(PermissionDenied):
        publishing_settings_update(membership=team.manny, late_cutoff_minutes=5)
