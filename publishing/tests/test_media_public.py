"""The signed public address of an image, for networks that fetch media by URL."""

from __future__ import annotations

import pytest
from django.core import signing
from django.test import Client

from publishing.services.media import PUBLIC_MEDIA_SALT, media_public_url
from publishing.tests.fixtures import make_image, png_bytes

pytestmark = pytest.mark.django_db


def test_anyone_with_the_address_gets_the_image(team, media_root, settings):
    settings.SITE_URL = "https://govsocial.example"
    asset = make_image(team.eddie)
    url = media_public_url(asset)
    assert url.startswith("https://govsocial.example/publishing/media/public/")
    response = Client().get(url.removeprefix("https://govsocial.example"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.getvalue() == png_bytes()


def test_a_forged_or_stale_address_is_not_found(team, media_root, settings):
    asset = make_image(team.eddie)
    forged = signing.dumps({"a": asset.pk, "h": asset.sha256[:16]}, salt="another-salt")
    stale = signing.dumps({"a": asset.pk, "h": "0" * 16}, salt=PUBLIC_MEDIA_SALT)
    for token in (forged, stale, "nonsense"):
        assert Client().get(f"/publishing/media/public/{token}/").status_code == 404
