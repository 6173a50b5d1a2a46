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
from tests.factories import ChannelAccountFactory

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


def test_submitting_without_alt_text_links_the_summary_to_the_alt_field(
    client, personas, login, team, media_root
):
    image = make_image(team.alice)
    login(client, personas.bob)
    data = compose_with_image(
        personas.bob_account, image, action="submit", **{f"alt-{image.pk}-fi": "Kirjaston ovi"}
    )
    response = client.post(COMPOSE, data)
    assert response.status_code == 400
    page = response.content.decode()
    summary = page[page.index('class="form-errors error-summary"') :]
    assert 'tabindex="-1" data-focus-on-load' in summary[: summary.index(">")]
    assert (
        f'<a href="#id_alt-{image.pk}-sv" data-error-link>photo.png (Swedish): '
        "Image 1 (photo.png) has no alt text in Swedish.</a>"
    ) in page
    field = re.search(rf'<textarea name="alt-{image.pk}-sv"[^>]*>', page)
    assert field is not None
    assert 'aria-invalid="true"' in field.group(0)
    assert f'aria-describedby="id_alt-{image.pk}-sv-error"' in field.group(0)
    assert f'id="id_alt-{image.pk}-sv-error">Image 1 (photo.png) has no alt text' in page
    # What was typed is all there; nothing was saved.
    assert "Kirjaston ovi</textarea>" in page and "Dörr.</textarea>" in page
    assert Post.objects.count() == 0
    assert image.alt_texts.count() == 0


def test_instagram_without_an_image_is_refused_at_submit_with_a_link_to_the_file_button(
    client, personas, login
):
    instagram = ChannelAccountFactory.create(
        organization=personas.org, network="instagram", handle="city.gram"
    )
    login(client, personas.alice)
    data = {
        "action": "submit",
        "accounts": [instagram.pk],
        "languages": ["fi"],
        "images_present": "1",
        f"v-{instagram.pk}-fi-present": "1",
        f"v-{instagram.pk}-fi-parts": "0",
        f"v-{instagram.pk}-fi-text": "Kesä tulee.",
    }
    response = client.post(COMPOSE, data)
    assert response.status_code == 400
    page = response.content.decode()
    assert (
        '<a href="#compose-upload" data-error-link>city.gram (Finnish): '
        "Instagram posts need at least one image or a video.</a>"
    ) in page
    assert re.search(r'<input type="file" id="compose-upload"[^>]*aria-invalid="true"', page)


def test_a_text_too_long_and_a_planned_time_passed_are_all_named_at_once(
    client, personas, login, team
):
    post = Post.objects.create(organization=personas.org, title="Old plan")
    Post.objects.filter(pk=post.pk).update(scheduled_at="2020-01-01T08:00:00Z")
    key = f"{personas.bob_account.pk}-fi"
    login(client, personas.alice)
    data = {
        "action": "submit",
        "title": "Old plan",
        "accounts": [personas.bob_account.pk],
        "languages": ["fi"],
        "images_present": "1",
        "planned_at": "2020-01-01T10:00",
        f"v-{key}-present": "1",
        f"v-{key}-parts": "0",
        f"v-{key}-text": "x" * 501,
    }
    response = client.post(f"/publishing/posts/{post.pk}/edit/", data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "There are 2 problems to fix" in page
    text_link = f'<a href="#id_v-{key}-text" data-error-link>city-news (Finnish): The text is 501'
    assert text_link in page
    assert '<a href="#id_planned_at" data-error-link>Planned publication time: The planned' in page


def test_the_edit_page_shows_the_posts_images_with_their_alt_texts(
    client, personas, login, team, media_root
):
    image = make_image(team.alice, alt={"fi": "Kirjaston ovi"})
    login(client, personas.alice)
    client.post(COMPOSE, compose_with_image(personas.bob_account, image))
    post = Post.objects.get()
    page = client.get(f"/publishing/posts/{post.pk}/edit/").content.decode()
    assert f'<li class="compose-image" id="image-{image.pk}"' in page
    assert re.search(rf'name="alt-{image.pk}-fi"[^>]*>Kirjaston ovi</textarea>', page)


def test_the_composer_reads_in_finnish(client, personas, login, settings):
    login(client, personas.bob)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fi"
    page = client.get(COMPOSE).content.decode()
    assert "Lisää kuvia tietokoneeltasi" in page
    assert "Esikatselu ja tarkistukset" in page
    assert "Ladataan %(name)s: %(percent)s %" in page  # the upload's spoken progress
