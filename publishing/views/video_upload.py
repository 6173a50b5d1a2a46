"""The media library's chunked video upload, spoken to by the page's script
(``publishing/static/publishing/js/chunked_upload.js``); the plain form on the library
page stays the way without JavaScript.

- ``POST uploads/`` (the video form's fields with ``video-name`` and ``video-size``
  instead of the file) opens a session: 201 with its address and ``offset`` 0.
- ``PUT uploads/<id>/`` with ``Content-Range: bytes START-END/TOTAL`` and the chunk as
  the body: 200 with the new ``offset``; when the last chunk is in, the video's page
  as ``location``. A chunk that does not start at the offset is a 409 that says the
  offset to go on from.
- ``GET uploads/<id>/``: where the upload stands (to resume after a reload).
- ``DELETE uploads/<id>/``: cancel; the received bytes are removed.

Every answer is JSON with ``error`` beside the status when something is wrong.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from governance.selectors.access import request_membership, require_perm
from publishing.forms import VideoUploadStartForm
from publishing.models import UploadStatus, VideoUploadSession
from publishing.services import video_upload as uploads
from publishing.views.media import _codes

# How each refusal is answered: 409 a chunk in the wrong place, 410 an upload that is
# over, 413 a file too large, 422 a file that is no video; anything else 400.
ERROR_STATUS = {
    "offset": 409,
    "total_mismatch": 409,
    "too_large": 413,
    "not_a_video": 422,
    "damaged": 422,
    UploadStatus.CANCELLED.value: 410,
    UploadStatus.EXPIRED.value: 410,
    UploadStatus.FAILED.value: 410,
    UploadStatus.COMPLETE.value: 410,
    "expired": 410,
    "not_open": 410,
}


def _state(session: VideoUploadSession) -> dict[str, Any]:
    state: dict[str, Any] = {
        "id": str(session.pk),
        "url": reverse("publishing:video_upload", args=[session.pk]),
        "name": session.original_name,
        "size": session.size_bytes,
        "offset": session.received_bytes,
        "status": session.status,
        "chunk_bytes": int(settings.VIDEO_UPLOAD_CHUNK_BYTES),
    }
    asset = uploads.upload_session_asset(session)
    if asset is not None:
        state["location"] = reverse("publishing:media_detail", args=[asset.pk])
    if session.error:
        state["error"] = session.error
    return state


def _refusal(error: ValidationError, session: VideoUploadSession | None = None) -> JsonResponse:
    body: dict[str, Any] = {"error": " ".join(error.messages), "code": error.code or "invalid"}
    if session is not None:
        session.refresh_from_db()
        body.update(offset=session.received_bytes, status=session.status)
    return JsonResponse(body, status=ERROR_STATUS.get(error.code or "", 400))


@login_required
@require_POST
def video_upload_start_view(request: HttpRequest) -> JsonResponse:
    membership = request_membership(request)
    require_perm(membership, "posts.write")
    form = VideoUploadStartForm(request.POST, languages=_codes(membership))
    if not form.is_valid():
        problems = [str(m) for errors in form.errors.values() for m in errors]
        return JsonResponse({"error": " ".join(problems), "code": "invalid"}, status=400)
    try:
        session = uploads.upload_session_start(
            membership=membership,
            name=form.cleaned_data["name"],
            size=form.cleaned_data["size"],
            alt_texts=form.alt_texts(),
        )
    except ValidationError as error:
        return _refusal(error)
    return JsonResponse(_state(session), status=201)


@login_required
@require_http_methods(["GET", "PUT", "DELETE"])
def video_upload_view(request: HttpRequest, pk: str) -> JsonResponse:
    membership = request_membership(request)
    require_perm(membership, "posts.write")
    session = uploads.upload_session_get_for_user(membership, pk)
    if request.method == "GET":
        return JsonResponse(_state(session))
    if request.method == "DELETE":
        try:
            uploads.upload_session_cancel(membership=membership, session=session)
        except ValidationError as error:
            return _refusal(error, session)
        return JsonResponse(_state(session))
    try:
        chunk = uploads.parse_content_range(request.headers.get("Content-Range", ""))
        length = int(request.headers.get("Content-Length") or -1)
        if length != chunk.length:
            raise ValidationError(
                _("The chunk's Content-Length (%(length)d) differs from its Content-Range.")
                % {"length": length},
                code="length",
            )
        # The request itself is the stream: Django never reads a PUT body unless asked.
        session = uploads.upload_session_append(
            membership=membership, session=session, chunk=chunk, body=request, request=request
        )
    except ValidationError as error:
        return _refusal(error, session)
    except ValueError:
        return _refusal(ValidationError(_("The Content-Length header is not a number.")))
    if session.asset_id is not None:
        # Shown on the video's page, where the script goes next.
        messages.success(request, _("%(name)s is in the library.") % {"name": str(session.asset)})
    return JsonResponse(_state(session))
