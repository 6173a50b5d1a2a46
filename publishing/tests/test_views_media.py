"""The media library: uploads checked by type and size, alt text in every language, and
images served only to the organization's own members."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from publishing.models import MediaAsset, PublishingSettings
from publishing.services.media import media_public_url
from publishing.tests.fixtures import draft, make_image, png_bytes

pytestmark = pytest.mark.django_db

LIBRARY = "/publishing/media/"


def test_upload_an_image_with_alt_text(client, personas, login, media_root):
    login(client, personas.bob)
    upload = SimpleUploadedFile("door.png", png_bytes(), content_type="image/png")
    response = client.post(
        LIBRARY, {"file": upload, "alt_fi": "Kirjaston ovi", "alt_sv": "Bibliotekets dörr"}
    )
    assert response.status_code == 302
    asset = MediaAsset.objects.get()
    assert asset.mime_type == "image/png"
    assert asset.alt_text_for("fi") == "Kirjaston ovi"
    assert asset.alt_text_for("sv") == "Bibliotekets dörr"
    page = client.get(LIBRARY).content.decode()
    assert "door.png is in the library." in page
    assert "Bibliotekets dörr" in page


def test_a_file_that_is_not_an_image_gets_a_clear_error_next_to_the_field(
    client, personas, login, media_root
):
    login(client, personas.bob)
    upload = SimpleUploadedFile("notes.png", b"not really a picture", content_type="image/png")
    response = client.post(LIBRARY, {"file": upload})
    assert response.status_code == 400
    page = response.content.decode()
    assert (
        '<ul class="errorlist" id="id_file_error"><li>This file is not an image we can read.'
        in page
    )
    assert 'aria-describedby="id_file_helptext id_file_error"' in page
    assert MediaAsset.objects.count() == 0


def test_an_auditor_cannot_upload(client, personas, login, media_root):
    login(client, personas.carol)
    assert client.get(LIBRARY).status_code == 200
    upload = SimpleUploadedFile("door.png", png_bytes(), content_type="image/png")
    assert client.post(LIBRARY, {"file": upload}).status_code == 403


def test_alt_text_is_written_per_language(client, personas, login, team, media_root):
    asset = make_image(team.alice, alt={"fi": "Ovi"})
    login(client, personas.alice)
    page = client.get(f"{LIBRARY}{asset.pk}/").content.decode()
    assert "Alt text in Swedish" in page
    client.post(f"{LIBRARY}{asset.pk}/", {"alt_fi": "Ovi", "alt_sv": "Dörr", "alt_en": ""})
    asset.refresh_from_db()
    assert asset.alt_text_for("sv") == "Dörr"
    assert asset.alt_text_for("fi") == "Ovi"


def test_members_get_the_image_and_outsiders_get_404(client, personas, login, team, media_root):
    asset = make_image(team.alice)
    login(client, personas.carol)
    response = client.get(f"{LIBRARY}{asset.pk}/file/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == png_bytes()
    login(client, personas.charlie)
    assert client.get(f"{LIBRARY}{asset.pk}/file/").status_code == 404
    assert client.get(f"{LIBRARY}{asset.pk}/").status_code == 404
    assert client.post(f"{LIBRARY}{asset.pk}/delete/").status_code == 404


def test_an_image_in_use_is_not_removed(client, personas, login, team, media_root):
    from publishing.services.posts import MediaSlot

    asset = make_image(team.alice)
    draft(team.alice, team.account, "Kuva.", media=[MediaSlot(asset=asset)])
    login(client, personas.alice)
    response = client.post(f"{LIBRARY}{asset.pk}/delete/", follow=True)
    assert "A post uses this image." in response.content.decode()
    assert MediaAsset.objects.filter(pk=asset.pk).exists()


def test_an_unused_image_is_removed(client, personas, login, team, media_root):
    asset = make_image(team.alice)
    login(client, personas.alice)
    assert client.get(f"{LIBRARY}{asset.pk}/delete/").status_code == 200
    client.post(f"{LIBRARY}{asset.pk}/delete/")
    assert not MediaAsset.objects.filter(pk=asset.pk).exists()


def test_a_signed_public_address_serves_the_image_without_login_until_it_expires(
    client, personas, media_root, settings
):
    """Instagram fetches images by address: a signed one works without login for 48 hours."""
    settings.SITE_URL = "https://govsocial.example"
    asset = make_image(personas.membership(personas.bob))
    url = media_public_url(asset)
    assert url.startswith("https://govsocial.example/publishing/media/public/")
    path = url.removeprefix("https://govsocial.example")
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == asset.file.open("rb").read()
    assert client.get(path[:-3] + "xx/").status_code == 404
    assert client.get("/publishing/media/public/forged/").status_code == 404
    with time_machine.travel(timezone.now() + timedelta(hours=49)):
        assert client.get(path).status_code == 404


def test_alt_text_is_in_the_organizations_post_languages(client, personas, login, team, media_root):
    """The library offers alt text in the languages the organization posts in (Northern
    Sámi and Arabic here), not only the interface's; a language it already has text in
    stays on the page after the organization drops it."""
    PublishingSettings.objects.create(organization=personas.org, languages=["fi", "se", "ar"])
    login(client, personas.bob)
    page = client.get(LIBRARY).content.decode()
    assert 'name="alt_se"' in page and 'name="alt_ar"' in page
    assert 'name="alt_sv"' not in page
    upload = SimpleUploadedFile("door.png", png_bytes(), content_type="image/png")
    response = client.post(
        LIBRARY, {"file": upload, "alt_fi": "Kirjaston ovi", "alt_se": "Girjerádjo uksa"}
    )
    assert response.status_code == 302
    asset = MediaAsset.objects.get()
    assert asset.alt_text_for("se") == "Girjerádjo uksa"
    detail = f"{LIBRARY}{asset.pk}/"
    page = client.get(detail).content.decode()
    assert "Alt text in Northern Sami" in page and "Alt text in Arabic" in page
    client.post(detail, {"alt_fi": "Kirjaston ovi", "alt_se": "Girjerádjo uksa", "alt_ar": "باب"})
    asset.refresh_from_db()
    assert asset.alt_text_for("ar") == "باب"
    PublishingSettings.objects.filter(organization=personas.org).update(languages=["fi"])
    page = client.get(detail).content.decode()
    assert "Alt text in Northern Sami" in page and "Girjerádjo uksa" in page
