"""The media library: upload images with their alt text, describe them in each
language, serve them to the organization's own pages, remove them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from governance.models import Membership
from governance.selectors.access import has_perm, request_membership, require_perm
from publishing.forms import (
    AltTextForm,
    CaptionUploadForm,
    MediaUploadForm,
    VideoCopyForm,
    VideoUploadForm,
    language_name,
)
from publishing.languages import organization_language_codes
from publishing.models import MediaAsset, VideoCopyKind, VideoCopyStatus
from publishing.selectors import (
    media_asset_get_for_user,
    media_assets_for_membership,
    video_copy_job_get_for_user,
    video_copy_jobs_for_asset,
)
from publishing.services import media as media_services
from publishing.services import video as video_services
from publishing.services import video_copies
from publishing.validation import organization_publishing_rules, publishing_rules
from publishing.video_fit import video_fits
from publishing.views.posts import render_page

IMAGES_PER_PAGE = 48


def _codes(membership: Membership, asset: MediaAsset | None = None) -> list[str]:
    """The languages the organization posts in (its own list, not only the interface's),
    and those ``asset`` already has alt text or captions in."""
    codes = organization_language_codes(organization_publishing_rules(membership.organization))
    if asset is not None:
        had = [alt.language for alt in asset.alt_texts.all()]
        had += [caption.language for caption in asset.captions.all()]
        codes += [code for code in dict.fromkeys(had) if code not in codes]
    return codes


def _languages(codes: list[str]) -> list[tuple[str, str]]:
    return [(code, language_name(code)) for code in codes]


def _alt_rows(asset: MediaAsset, codes: list[str]) -> list[tuple[str, str, str]]:
    """``(code, language, alt text)`` for every language, "" where there is none."""
    return [(code, name, asset.alt_text_for(code)) for code, name in _languages(codes)]


@login_required
@require_http_methods(["GET", "POST"])
def media_library_view(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    require_perm(membership, "posts.view")
    can_write = has_perm(membership, "posts.write")
    codes = _codes(membership)
    form = MediaUploadForm(languages=codes)
    video_form = VideoUploadForm(languages=codes)
    status = 200
    if request.method == "POST" and request.POST.get("upload") == "video":
        require_perm(membership, "posts.write")
        video_form = VideoUploadForm(request.POST, request.FILES, languages=codes)
        if video_form.is_valid():
            try:
                asset = video_services.media_video_upload(
                    membership=membership,
                    file=video_form.cleaned_data["file"],
                    alt_texts=video_form.alt_texts(),
                    request=request,
                )
            except ValidationError as error:
                for message in error.messages:
                    video_form.add_error(
                        "file" if error.code != "alt_text_length" else None, message
                    )
            else:
                messages.success(request, _("%(name)s is in the library.") % {"name": str(asset)})
                if request.headers.get("X-Requested-With") == "XMLHttpRequest":
                    # A script that sent the form is told where the video went.
                    return JsonResponse(
                        {"location": reverse("publishing:media_detail", args=[asset.pk])}
                    )
                return redirect("publishing:media_detail", pk=asset.pk)
        status = 400
    elif request.method == "POST":
        require_perm(membership, "posts.write")
        form = MediaUploadForm(request.POST, request.FILES, languages=codes)
        if form.is_valid():
            try:
                asset = media_services.media_asset_upload(
                    membership=membership,
                    file=form.cleaned_data["file"],
                    alt_texts=form.alt_texts(),
                    request=request,
                )
            except ValidationError as error:
                # Type, size and damage are checked by the service; say so next to the file.
                for message in error.messages:
                    form.add_error("file" if error.code != "alt_text_length" else None, message)
            else:
                messages.success(request, _("%(name)s is in the library.") % {"name": str(asset)})
                return redirect("publishing:media")
        status = 400
    assets = media_assets_for_membership(membership).order_by("-created_at", "-pk")
    page = Paginator(assets, IMAGES_PER_PAGE).get_page(request.GET.get("page"))
    return render_page(
        request,
        "publishing/media/library.html",
        {
            "form": form,
            "video_form": video_form,
            "page": page,
            "rows": [(asset, _alt_rows(asset, codes)) for asset in page.object_list],
            "can_write": can_write,
            "require_alt_text": publishing_rules(membership.organization_id).require_alt_text,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def media_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request_membership(request)
    require_perm(membership, "posts.view")
    asset = media_asset_get_for_user(membership, pk)
    codes = _codes(membership, asset)
    form = AltTextForm(asset=asset, languages=codes)
    status = 200
    if request.method == "POST":
        require_perm(membership, "posts.write")
        form = AltTextForm(request.POST, asset=asset, languages=codes)
        if form.is_valid():
            try:
                for language, text in form.changed_texts().items():
                    media_services.media_alt_text_set(
                        asset=asset,
                        membership=membership,
                        language=language,
                        text=text,
                        request=request,
                    )
            except ValidationError as error:
                for message in error.messages:
                    form.add_error(None, message)
            else:
                messages.success(request, _("Alt text saved."))
                return redirect("publishing:media_detail", pk=asset.pk)
        status = 400
    caption_form = CaptionUploadForm(languages=codes)
    return _render_detail(request, membership, asset, form, caption_form, status)


@login_required
@require_http_methods(["POST"])
def media_captions_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload a video's captions in one language (SRT or WebVTT, checked and kept as WebVTT)."""
    membership = request_membership(request)
    require_perm(membership, "posts.view")
    asset = media_asset_get_for_user(membership, pk)
    require_perm(membership, "posts.write")
    codes = _codes(membership, asset)
    caption_form = CaptionUploadForm(request.POST, request.FILES, languages=codes)
    if caption_form.is_valid():
        try:
            video_services.media_caption_set(
                asset=asset,
                membership=membership,
                language=caption_form.cleaned_data["language"],
                file=caption_form.cleaned_data["file"],
                request=request,
            )
        except ValidationError as error:
            for message in error.messages:
                caption_form.add_error("file", message)
        else:
            messages.success(
                request,
                _("Captions in %(language)s saved.")
                % {"language": language_name(caption_form.cleaned_data["language"])},
            )
            return redirect("publishing:media_detail", pk=asset.pk)
    alt_form = AltTextForm(asset=asset, languages=codes)
    return _render_detail(request, membership, asset, alt_form, caption_form, 400)


def _render_detail(
    request: HttpRequest,
    membership: Membership,
    asset: MediaAsset,
    form: AltTextForm,
    caption_form: CaptionUploadForm,
    status: int,
    copy_forms: dict[str, VideoCopyForm] | None = None,
) -> HttpResponse:
    copy_forms = copy_forms or {}
    uses = (
        asset.uses.select_related("variant__post", "variant__channel_account")
        .filter(variant__post__organization_id=membership.organization_id)
        .order_by("-variant__post__created_at")
    )
    captions = {caption.language: caption for caption in asset.captions.all()}
    codes = form.alt_languages
    fits = video_fits(asset) if asset.is_video else []
    caption_languages = [code for code in codes if code in captions]
    return render_page(
        request,
        "publishing/media/detail.html",
        {
            "asset": asset,
            "form": form,
            "caption_form": caption_form,
            "caption_rows": [(code, name, captions.get(code)) for code, name in _languages(codes)],
            "alt_rows": _alt_rows(asset, codes),
            # The picture on this page is described in the reader's language where possible.
            "display_alt": asset.alt_text_for(translation.get_language() or "")
            or next((alt for _code, _name, alt in _alt_rows(asset, codes) if alt), ""),
            "uses": list(uses),
            "fits": fits,
            "needs_copy": any(not fit.fits for fit in fits),
            "copy_form": copy_forms.get("copy") or VideoCopyForm(kind=VideoCopyKind.TRANSCODE),
            "burn_form": copy_forms.get("burn")
            or VideoCopyForm(kind=VideoCopyKind.BURN_CAPTIONS, caption_languages=caption_languages),
            "copy_jobs": video_copy_jobs_for_asset(asset) if asset.is_video else [],
            "made_from": next(iter(asset.made_by_jobs.select_related("source")), None),
            "can_write": has_perm(membership, "posts.write"),
            "require_alt_text": publishing_rules(membership.organization_id).require_alt_text,
        },
        status=status,
    )


@login_required
@require_http_methods(["POST"])
def media_copy_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask a worker for a compatible copy of a video (H.264/AAC MP4, optionally cropped to
    9:16, or with one language's captions burned in)."""
    membership = request_membership(request)
    require_perm(membership, "posts.view")
    asset = media_asset_get_for_user(membership, pk)
    require_perm(membership, "posts.write")
    kind = request.POST.get("kind", "")
    if kind not in VideoCopyKind.values:
        kind = VideoCopyKind.TRANSCODE
    captions = [caption.language for caption in asset.captions.all()]
    form = VideoCopyForm(request.POST, kind=kind, caption_languages=captions)
    if form.is_valid():
        try:
            video_copies.video_copy_request(
                asset=asset,
                membership=membership,
                kind=kind,
                crop=form.cleaned_data["crop"] or "",
                language=form.cleaned_data.get("language") or "",
                request=request,
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(
                request,
                _("The copy is being made. You can leave this page: it goes on without you."),
            )
            return redirect(reverse("publishing:media_detail", args=[asset.pk]) + "#copies")
    codes = _codes(membership, asset)
    return _render_detail(
        request,
        membership,
        asset,
        AltTextForm(asset=asset, languages=codes),
        CaptionUploadForm(languages=codes),
        400,
        copy_forms={form.prefix or "copy": form},
    )


@login_required
@require_GET
def media_copy_progress_view(request: HttpRequest, pk: int, job_pk: int) -> HttpResponse:
    """The copy's progress bar (htmx polls it); once done or failed, the page reloads."""
    membership = request_membership(request)
    require_perm(membership, "posts.view")
    job = video_copy_job_get_for_user(membership, pk, job_pk)
    if not job.is_open:
        # Said once on the reloaded page (the messages are a live region there).
        if job.status == VideoCopyStatus.DONE and job.result is not None:
            messages.success(request, _("The copy is ready: %(name)s.") % {"name": str(job.result)})
        elif job.status == VideoCopyStatus.FAILED:
            messages.error(request, _("The copy failed: %(error)s") % {"error": job.error})
        # A reload, not a redirect: the address may end in #copies, and going to the same
        # page's anchor would not load it again.
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "publishing/media/_copy_progress.html", {"job": job, "asset_pk": pk})


@login_required
@require_GET
def media_file_view(request: HttpRequest, pk: int) -> FileResponse:
    """The image itself, for the organization's own pages (the media folder is not public)."""
    membership = request_membership(request)
    require_perm(membership, "posts.view")
    asset = media_asset_get_for_user(membership, pk)
    try:
        handle = asset.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=asset.mime_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Disposition"] = "inline"
    return response


@login_required
@require_GET
def media_poster_view(request: HttpRequest, pk: int) -> FileResponse:
    """A video's poster frame (JPEG), for the organization's own pages."""
    membership = request_membership(request)
    require_perm(membership, "posts.view")
    asset = media_asset_get_for_user(membership, pk)
    if not asset.poster:
        raise Http404
    try:
        handle = asset.poster.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Disposition"] = "inline"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def media_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request_membership(request)
    require_perm(membership, "posts.view")
    asset = media_asset_get_for_user(membership, pk)
    require_perm(membership, "posts.write")
    if request.method == "POST":
        name = str(asset)
        try:
            media_services.media_asset_delete(asset=asset, membership=membership, request=request)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return redirect("publishing:media_detail", pk=asset.pk)
        messages.success(request, _("%(name)s was removed from the library.") % {"name": name})
        return redirect("publishing:media")
    return render_page(request, "publishing/media/delete.html", {"asset": asset})


@require_GET
def media_public_view(request: HttpRequest, token: str) -> FileResponse:
    """An image at its signed, expiring public address (for networks that fetch media by
    URL, such as Threads). No login: the signature is the permission."""
    asset = media_services.media_public_asset(token)
    if asset is None:
        raise Http404
    try:
        handle = asset.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=asset.mime_type)
    response["Cache-Control"] = "public, max-age=3600"
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    return response
