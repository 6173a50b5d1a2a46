"""Images in the composer: uploaded where the post is written (refused files say why),
taken from the library, described in each language of the post right there."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from governance.models import AuditEvent
from publishing.models import MediaAsset, Post, Variant
from publishing.services.media import MAX_UPLOAD_BYTES
from publishing.tests.fixtures import make_image, png_bytes

pytestmark = pytest.mark.django_db

COMPOSE = "/publishing/posts/new/"
UPLOAD = "/publishing/posts/images/"


def upload(client, content: bytes, name: str = "door.png", languages=("fi", "sv")):
    file = SimpleUploadedFile(name, content, content_type="image/png")
    return client.post(UPLOAD, {"file": file, "languages": list(languages)})


def test_it_puts_an_uploaded_image_in_the_library_and_answers_with_its_row(
    client, personas, login, media_root
):
    login(client, personas.bob)
    response = upload(client, png_bytes())
    assert response.status_code == 201
    asset = MediaAsset.objects.get()
    assert asset.organization == personas.org
    assert asset.uploaded_by == personas.bob
    page = response.content.decode()
    assert f'<input type="hidden" name="images" value="{asset.pk}">' in page
    assert f'name="alt-{asset.pk}-fi"' in page and f'name="alt-{asset.pk}-sv"' in page
    assert f'name="alt-{asset.pk}-en"' not in page  # only the post's languages
    assert "Alt text in Swedish" in page
    assert response["HX-Trigger-After-Settle"] == "images-changed"
    assert AuditEvent.objects.filter(action="media.uploaded").count() == 1


def test_it_refuses_a_file_that_is_not_an_image(client, personas, login, media_root):
    login(client, personas.bob)
    response = upload(client, b"%PDF-1.4 not an image", name="minutes.pdf")
    assert response.status_code == 400
    page = response.content.decode()
    assert "minutes.pdf: This file is not an image we can read." in page
    assert MediaAsset.objects.count() == 0


def test_it_refuses_a_file_that_is_too_big(client, personas, login, media_root):
    login(client, personas.bob)
    response = upload(client, png_bytes() + b"\0" * MAX_UPLOAD_BYTES, name="huge.png")
    assert response.status_code == 400
    assert "huge.png: The file is 16.0 MB; images can be at most 16 MB." in (
        response.content.decode()
    )
    assert MediaAsset.objects.count() == 0


def test_it_asks_for_a_file_when_none_came(client, personas, login, media_root):
    login(client, personas.bob)
    response = client.post(UPLOAD, {"languages": ["fi"]})
    assert response.status_code == 400
    assert "Choose an image file to upload." in response.content.decode()


def test_an_auditor_cannot_upload(client, personas, login, media_root):
    login(client, personas.carol)
    assert upload(client, png_bytes()).status_code == 403
    assert MediaAsset.objects.count() == 0


def test_a_library_image_comes_with_its_saved_alt_texts(client, personas, login, team, media_root):
    image = make_image(team.alice, alt={"fi": "Kirjaston ovi"})
    login(client, personas.bob)
    response = client.get(f"{UPLOAD}{image.pk}/", {"languages": ["fi", "sv"]})
    assert response.status_code == 200
    page = response.content.decode()
    assert re.search(rf'name="alt-{image.pk}-fi"[^>]*>Kirjaston ovi</textarea>', page)
    assert re.search(rf'name="alt-{image.pk}-sv"[^>]*></textarea>', page)


def test_another_organizations_image_is_404(client, personas, login, team, media_root):
    theirs = make_image(team.charlie)
    login(client, personas.bob)
    assert client.get(f"{UPLOAD}{theirs.pk}/", {"languages": ["fi"]}).status_code == 404
    # Nor can its id be slipped into a post's image list.
    data = {
        "action": "save",
        "accounts": [personas.bob_account.pk],
        "languages": ["fi"],
        "images_present": "1",
        "images": [str(theirs.pk)],
        f"v-{personas.bob_account.pk}-fi-present": "1",
        f"v-{personas.bob_account.pk}-fi-parts": "0",
        f"v-{personas.bob_account.pk}-fi-text": "Kuva.",
    }
    response = client.post(COMPOSE, data)
    assert response.status_code == 400
    assert "That image is not in your organization" in response.content.decode()
    assert Post.objects.count() == 0


def compose_with_image(account, image, **extra):
    data = {
        "action": "save",
        "title": "Door",
        "accounts": [account.pk],
        "languages": ["fi", "sv"],
        "images_present": "1",
        "images": [str(image.pk)],
    }
    for language, text in (("fi", "Ovi."), ("sv", "Dörr.")):
        prefix = f"v-{account.pk}-{language}"
        data.update({f"{prefix}-present": "1", f"{prefix}-parts": "0", f"{prefix}-text": text})
    data.update(extra)
    return data


def test_typed_alt_text_shows_in_the_preview_before_it_is_saved(
    client, personas, login, team, media_root
):
    image = make_image(team.alice)
    login(client, personas.bob)
    data = compose_with_image(
        personas.bob_account, image, action="refresh", **{f"alt-{image.pk}-sv": "Dörren"}
    )
    page = client.post(COMPOSE, data).content.decode()
    assert f'src="/publishing/media/{image.pk}/file/" alt="Dörren"' in page
    assert "No alt text in Finnish." in page
    assert image.alt_texts.count() == 0  # nothing saved by a refresh


def test_the_images_go_with_every_version_and_their_alt_texts_are_saved(
    client, personas, login, team, media_root
):
    image = make_image(team.alice, alt={"fi": "Vanha"})
    login(client, personas.bob)
    data = compose_with_image(
        personas.bob_account,
        image,
        **{f"alt-{image.pk}-fi": "Kirjaston ovi", f"alt-{image.pk}-sv": "Bibliotekets dörr"},
    )
    assert client.post(COMPOSE, data).status_code == 302
    assert [list(v.media.values_list("asset_id", flat=True)) for v in Variant.objects.all()] == [
        [image.pk],
        [image.pk],
    ]
    saved = MediaAsset.objects.prefetch_related("alt_texts").get(pk=image.pk)
    assert saved.alt_text_for("fi") == "Kirjaston ovi"
    assert saved.alt_text_for("sv") == "Bibliotekets dörr"


def test_without_javascript_the_file_button_uploads_with_the_form(
    client, personas, login, team, media_root
):
    login(client, personas.bob)
    data = compose_with_image(personas.bob_account, make_image(team.alice), action="refresh")
    data["upload"] = SimpleUploadedFile("late.png", png_bytes(), content_type="image/png")
    page = client.post(COMPOSE, data).content.decode()
    late = MediaAsset.objects.get(original_name="late.png")
    assert f'name="images" value="{late.pk}"' in page
    # A refused file says why, and what was typed stays.
    data["upload"] = SimpleUploadedFile("notes.txt", b"hello", content_type="text/plain")
    response = client.post(COMPOSE, data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "notes.txt: This file is not an image we can read." in page
    assert "Dörr.</textarea>" in page
