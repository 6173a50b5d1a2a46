"""Images in the composer: upload one (dropped or chosen with the file button) into the
organization's library, or take one from the library, and get back its row for the
composer's image list with an alt text field for each language of the post.

The upload goes through the library's own service (type, size and damage checked with
Pillow); a refused file is answered with the reason, for the composer to show beside
its file button while everything typed stays where it is.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from governance.selectors.access import request_membership, require_perm
from publishing.languages import is_language_tag
from publishing.models import MediaAsset
from publishing.selectors import media_asset_get_for_user
from publishing.services import media as media_services
from publishing.views.posts import AltField, ComposeImage


def _languages(query: QueryDict) -> list[str]:
    wanted = query.getlist("languages")
    return [code for code in dict.fromkeys(wanted) if is_language_tag(code)][:20]


def _row(
    request: HttpRequest, asset: MediaAsset, languages: Sequence[str], status: int
) -> HttpResponse:
    alts = [
        AltField(
            asset=asset,
            language=language,
            value=asset.alt_text_for(language),
            saved=asset.alt_text_for(language),
        )
        for language in languages
    ]
    response = render(
        request,
        "publishing/posts/_compose_image.html",
        {"image": ComposeImage(asset=asset, alts=alts)},
        status=status,
    )
    # The composer refreshes its previews and checks when its images change.
    response["HX-Trigger-After-Settle"] = "images-changed"
    return response


@login_required
@require_POST
def compose_image_upload_view(request: HttpRequest) -> HttpResponse:
    """Upload one image into the library; 201 with its row, or 400 with the reason."""
    membership = request_membership(request)
    require_perm(membership, "posts.write")
    upload = request.FILES.get("file")
    name = getattr(upload, "name", "") or ""
    try:
        if upload is None:
            raise ValidationError(_("Choose an image file to upload."), code="required")
        asset = media_services.media_asset_upload(
            membership=membership, file=upload, alt_texts={}, request=request
        )
    except ValidationError as error:
        return render(
            request,
            "publishing/posts/_compose_upload_error.html",
            {"name": name, "problems": [str(message) for message in error.messages]},
            status=400,
        )
    return _row(request, asset, _languages(request.POST), 201)


@login_required
@require_GET
def compose_image_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The row of a library image the composer adds to the post (another organization's
    image is a 404)."""
    membership = request_membership(request)
    require_perm(membership, "posts.write")
    asset = media_asset_get_for_user(membership, pk)
    return _row(request, asset, _languages(request.GET), 200)
