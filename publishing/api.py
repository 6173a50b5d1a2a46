"""Posts and the media library through the REST API (/api/v1/posts/, /api/v1/media/).

The same access layer and services as the pages: another organization's post
(or one a limited member cannot see) is a 404; a visible post with an action the
caller may not take is a 403 that says why; a service's refusal (a network rule,
a state that does not allow the move) is a 400 with the reasons in words.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import channel_accounts_for_membership
from governance.api.organization import READ_ERRORS, WRITE_ERRORS, service_errors
from governance.api.parsers import JSONParser
from governance.models import Membership
from governance.selectors.access import request_membership, require_perm
from governance.selectors.access import request_membership_with_perm as _membership
from publishing.forms import ComposedVariant, composed_from_variant
from publishing.models import Post, PostSeries, Variant
from publishing.selectors import (
    PostFilters,
    media_asset_get_for_user,
    media_assets_for_membership,
    post_approval_state,
    post_get_for_user,
    post_list_targets,
    post_targets,
    posts_for_membership,
    posts_in_range,
    video_copy_job_get_by_id,
    video_copy_jobs_for_asset,
)
from publishing.serializers import (
    ApproveSerializer,
    CancelSerializer,
    CommentSerializer,
    MediaAssetSerializer,
    MediaUploadSerializer,
    PostCreateSerializer,
    PostDetailSerializer,
    PostRangeSerializer,
    PostSerializer,
    PostUpdateSerializer,
    RecurrenceInputSerializer,
    ScheduleSerializer,
    VideoCopyJobSerializer,
    VideoCopyRequestSerializer,
)
from publishing.services import approval as approval_services
from publishing.services import media as media_services
from publishing.services import posts as post_services
from publishing.services import recurrence as recurrence_services
from publishing.services import video_copies as video_copy_services
from publishing.validation import publishing_rules, variants_with_content

TAGS = ["posts"]
# A service's error codes and the input field each one is about.
FIELDS_BY_CODE = {
    "no_targets": "variants",
    "naive_time": "at",
    "comment_required": "comment",
    "not_an_image": "file",
    "damaged": "file",
    "format": "file",
    "too_large": "file",
    "too_many_pixels": "file",
    "empty": "file",
    "repeat_interval": "interval",
    "repeat_until": "until",
    "repeat_count": "count",
    "repeat_end": "count",
    "repeat_weekdays": "weekdays",
    "repeat_no_time": "frequency",
    "repeat_occurrence": "frequency",
    "not_video": "non_field_errors",
    "kind": "kind",
    "crop": "crop",
    "no_captions": "language",
}


def _post(request: Request, pk: int, perm: str) -> tuple[Membership, Post]:
    # Visibility first (404 for a post the caller cannot see), then the permission (403).
    membership = _membership(request, "posts.view")
    post = post_get_for_user(membership, pk)
    require_perm(membership, perm)
    return membership, post


@contextmanager
def _refusals() -> Iterator[None]:
    """A service's refusal as the API's error: 400 naming the field, or 403 saying why."""
    try:
        with service_errors(**FIELDS_BY_CODE):
            yield
    except PermissionDenied as exc:
        raise exceptions.PermissionDenied(str(exc) or None) from exc


def _detail(membership: Membership, post: Post) -> Response:
    post = post_get_for_user(membership, post.pk)
    context = {
        "membership": membership,
        "require_alt_text": publishing_rules(membership.organization_id).require_alt_text,
        "approval_state": post_approval_state(post),
        "variants": variants_with_content(post),
        "jobs": post_targets(post),
        "series": PostSeries.objects.filter(pk=post.series_id).first() if post.series_id else None,
    }
    return Response(PostDetailSerializer(post, context=context).data)


def _composed(item: dict[str, Any]) -> ComposedVariant:
    texts = [item["text"], *item["thread"]]
    media: list[list[Any]] = [[] for _text in texts]
    for slot in item["media"]:
        index = slot["thread_index"]
        if index >= len(media):
            raise exceptions.ValidationError(
                {"variants": ["An image is attached to a post the thread does not have."]}
            )
        media[index].append(slot["asset"])
    return ComposedVariant(
        account=item["channel_account"],
        language=item["language"],
        texts=texts,
        media=media,
        content_warning=item["content_warning"],
        visibility=item["visibility"],
        network_options=item.get("network_options") or {},
    )


def _save_variants(
    request: Request,
    membership: Membership,
    post: Post,
    items: list[dict[str, Any]],
    *,
    replace: bool,
) -> None:
    """Save each given variant that differs from what is stored; with ``replace``, remove
    the caller's own variants that are not given."""
    usable = set(channel_accounts_for_membership(membership).values_list("pk", flat=True))
    stored: dict[str, Variant] = {}
    for variant in variants_with_content(post):
        stored[f"{variant.channel_account_id}-{variant.language}"] = variant
    given: set[str] = set()
    for item in items:
        composed = _composed(item)
        given.add(composed.key)
        old = stored.get(composed.key)
        if old is not None and composed_from_variant(old).signature() == composed.signature():
            continue
        post_services.variant_save(
            post=post,
            membership=membership,
            channel_account=composed.account,
            language=composed.language,
            text=composed.texts[0],
            content_warning=composed.content_warning,
            visibility=composed.visibility,
            thread_parts=composed.texts[1:],
            media=composed.media_slots(),
            network_options=composed.network_options,
            request=request._request,
        )
    if replace:
        for key, variant in stored.items():
            if key not in given and variant.channel_account_id in usable:
                post_services.variant_delete(
                    variant=variant, membership=membership, request=request._request
                )


POST_LIST_FIELDS = (
    "title",
    "status",
    "campaign__name",
    "scheduled_at",
    "published_at",
    "created_by__email",
    "created_by__full_name",
    "created_at",
    "updated_at",
    "version",
    "review_round",
)


class PostListView(generics.GenericAPIView[Post]):
    serializer_class = PostSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "membership": request_membership(self.request)}

    def get_queryset(self) -> QuerySet[Post]:
        membership = _membership(self.request, "posts.view")
        # The columns PostSerializer writes, not the author's password hash; the targets
        # come for the page alone (post_list_targets).
        return (
            posts_for_membership(membership)
            .select_related("campaign", "created_by")
            .only(*POST_LIST_FIELDS)
            .order_by("-created_at", "-pk")
        )

    @extend_schema(
        summary="Posts",
        description="The posts the caller may see, newest first; with start and end, the "
        "posts due (or published) in [start, end), earliest first.",
        parameters=[PostRangeSerializer],
        responses={200: PostSerializer(many=True), **READ_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        membership = _membership(request, "posts.view")
        params = PostRangeSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        posts: Any
        if "start" in data:
            filters = PostFilters(statuses=[data["status"]] if data.get("status") else [])
            posts = posts_in_range(membership, data["start"], data["end"], filters)
        else:
            posts = self.get_queryset()
            if data.get("status"):
                posts = posts.filter(status=data["status"])
        page = self.paginate_queryset(posts)
        # Posts in a range come with their variants; the list reads its page's targets.
        context = {}
        if "start" not in data:
            context["targets"] = post_list_targets([post.pk for post in page or []])
        serializer = PostSerializer(page, many=True, context=context)
        return self.get_paginated_response(serializer.data)

    @extend_schema(
        summary="Write a post",
        description="A draft with one variant per account and language. Network rules are "
        "checked when it is submitted for review (see each variant's problems).",
        request=PostCreateSerializer,
        responses={201: PostDetailSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        membership = _membership(request, "posts.write")
        serializer = PostCreateSerializer(data=request.data, context={"membership": membership})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with _refusals(), transaction.atomic():
            post = post_services.post_create(
                membership=membership,
                title=data["title"],
                campaign=data["campaign"],
                request=request._request,
            )
            _save_variants(request, membership, post, data["variants"], replace=False)
        response = _detail(membership, post)
        response.status_code = status.HTTP_201_CREATED
        return response


class PostDetailView(APIView):
    @extend_schema(
        summary="One post",
        description="With its variants (and each one's counts and problems), its review's "
        "progress while in review, and each target's publishing outcome.",
        responses={200: PostDetailSerializer, **READ_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        membership, post = _post(request, pk, "posts.view")
        return _detail(membership, post)

    @extend_schema(
        summary="Edit a post",
        description="Give only what changes. A changed variant of a post that is in review, "
        "approved or scheduled sends it back to review (and off the schedule).",
        request=PostUpdateSerializer,
        responses={200: PostDetailSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def patch(self, request: Request, pk: int) -> Response:
        membership, post = _post(request, pk, "posts.write")
        # Not ``partial``: that would make each given variant's own fields optional too.
        serializer = PostUpdateSerializer(data=request.data, context={"membership": membership})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with _refusals(), transaction.atomic():
            if "title" in data or "campaign" in data:
                post = post_services.post_update(
                    post=post,
                    membership=membership,
                    title=data.get("title"),
                    **({"campaign": data["campaign"]} if "campaign" in data else {}),
                    request=request._request,
                )
            if "variants" in data:
                _save_variants(request, membership, post, data["variants"], replace=True)
        return _detail(membership, post)


class PostSubmitView(APIView):
    @extend_schema(
        summary="Submit for review",
        description="Refused (400, with every reason) while a variant breaks its network's "
        "rules. A policy with no stages approves at once.",
        request=None,
        responses={200: PostDetailSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        membership, post = _post(request, pk, "posts.write")
        with _refusals():
            post = post_services.post_submit_for_review(
                post=post, membership=membership, request=request._request
            )
        return _detail(membership, post)


class PostApproveView(APIView):
    @extend_schema(
        summary="Approve",
        description="Approves at every stage the caller may decide on now. 403 with the "
        "reason for one's own post (unless the policy allows it) or a post not waiting "
        "for the caller. Under a policy that approves each language version separately, "
        "`language` approves that version alone.",
        request=ApproveSerializer,
        responses={200: PostDetailSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        membership, post = _post(request, pk, "posts.view")
        serializer = ApproveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with _refusals():
            post = approval_services.post_approve(
                post=post,
                membership=membership,
                comment=serializer.validated_data["comment"],
                language=serializer.validated_data["language"],
                request=request._request,
            )
        return _detail(membership, post)


class PostRequestChangesView(APIView):
    @extend_schema(
        summary="Request changes",
        description="Sends the post back to its author; the comment says what to change.",
        request=CommentSerializer,
        responses={200: PostDetailSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        membership, post = _post(request, pk, "posts.view")
        serializer = CommentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with _refusals():
            post = approval_services.post_request_changes(
                post=post,
                membership=membership,
                comment=serializer.validated_data["comment"],
                request=request._request,
            )
        return _detail(membership, post)


class PostScheduleView(APIView):
    @extend_schema(
        summary="Schedule",
        description="Schedules an approved post (or moves a scheduled one) to the given "
        "time. Every variant is checked against its network's rules and the "
        "organization's alt-text rule first.",
        request=ScheduleSerializer,
        responses={200: PostDetailSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        membership, post = _post(request, pk, "posts.write")
        serializer = ScheduleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        at = serializer.validated_data["at"]
        with _refusals():
            if post.status == "scheduled":
                post = post_services.post_reschedule(
                    post=post,
                    membership=membership,
                    at=at,
                    confirm_quiet_day=serializer.validated_data["confirm_quiet_day"],
                    request=request._request,
                )
            else:
                post = post_services.post_schedule(
                    post=post,
                    membership=membership,
                    at=at,
                    confirm_quiet_day=serializer.validated_data["confirm_quiet_day"],
                    request=request._request,
                )
        return _detail(membership, post)


class PostCancelView(APIView):
    @extend_schema(
        summary="Cancel",
        description="Cancels a post that has not started publishing, with its jobs.",
        request=CancelSerializer,
        responses={200: PostDetailSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        membership, post = _post(request, pk, "posts.write")
        serializer = CancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with _refusals():
            post = post_services.post_cancel(
                post=post,
                membership=membership,
                reason=serializer.validated_data["reason"],
                request=request._request,
            )
        return _detail(membership, post)


class PostRecurrenceView(APIView):
    @extend_schema(
        summary="Make a post repeat",
        description="Makes the post the first occurrence of a recurring series, or changes "
        "its series' rule. The post's planned time is the first occurrence, as a wall-clock "
        "time in the organization's time zone (kept across summer time). Once the post is "
        "approved and scheduled, each occurrence within the next 60 days is scheduled as a "
        "post of its own; a change of the post's text needs approval again.",
        request=RecurrenceInputSerializer,
        responses={200: PostDetailSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def put(self, request: Request, pk: int) -> Response:
        membership, post = _post(request, pk, "posts.write")
        serializer = RecurrenceInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with _refusals():
            recurrence_services.series_set(
                post=post,
                membership=membership,
                spec=recurrence_services.RepeatSpec(
                    frequency=data["frequency"],
                    interval=data["interval"],
                    weekdays=tuple(data["weekdays"]),
                    monthly_by=data["monthly_by"],
                    until=data["until"],
                    count=data["count"],
                ),
                request=request._request,
            )
        return _detail(membership, post)

    @extend_schema(
        summary="End a recurring series",
        description="Ends the series of which this post is the first occurrence: no more "
        "occurrences are scheduled, and the future ones that are plain copies are withdrawn.",
        request=None,
        responses={200: PostDetailSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def delete(self, request: Request, pk: int) -> Response:
        membership, post = _post(request, pk, "posts.write")
        series = PostSeries.objects.filter(head=post).first()
        if series is None:
            raise exceptions.NotFound(_("This post does not start a recurring series."))
        with _refusals():
            recurrence_services.series_end(
                series=series, membership=membership, request=request._request
            )
        return _detail(membership, post)


class PostSkipView(APIView):
    @extend_schema(
        summary="Skip one occurrence",
        description="Cancels one occurrence of a recurring post (with its jobs); it is never "
        "scheduled again by the series.",
        request=None,
        responses={200: PostDetailSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        membership, post = _post(request, pk, "posts.write")
        with _refusals():
            post = recurrence_services.occurrence_skip(
                post=post, membership=membership, request=request._request
            )
        return _detail(membership, post)


class MediaListView(generics.GenericAPIView[Any]):
    serializer_class = MediaAssetSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_queryset(self) -> Any:
        membership = _membership(self.request, "posts.view")
        return (
            media_assets_for_membership(membership)
            .prefetch_related("captions")
            .order_by("-created_at", "-pk")
        )

    @extend_schema(
        summary="Media library",
        description="The organization's images and videos, newest first, with their alt "
        "text; a video also with its length, poster frame and caption languages.",
        responses={200: MediaAssetSerializer(many=True), **READ_ERRORS},
        tags=["media"],
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(MediaAssetSerializer(page, many=True).data)

    @extend_schema(
        summary="Upload an image",
        description="Multipart: the file and its alt text per language (alt_fi, alt_sv …). "
        "The type and size are checked; a file that is not an image we take is a 400 "
        "saying why.",
        request={"multipart/form-data": MediaUploadSerializer},
        responses={201: MediaAssetSerializer, **WRITE_ERRORS},
        tags=["media"],
    )
    def post(self, request: Request) -> Response:
        membership = _membership(request, "posts.write")
        serializer = MediaUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with _refusals():
            asset = media_services.media_asset_upload(
                membership=membership,
                file=serializer.validated_data["file"],
                alt_texts=serializer.alt_texts(),
                request=request._request,
            )
        asset = media_assets_for_membership(membership).get(pk=asset.pk)
        return Response(MediaAssetSerializer(asset).data, status=status.HTTP_201_CREATED)


COPY_TAGS = ["media"]


class VideoCopyListView(APIView):
    @extend_schema(
        operation_id="media_copies_list",
        summary="A video's compatible copies",
        description="The copies asked for of this library video, newest first (at most 20), "
        "each with its status and progress; a done one names its copy in the library.",
        responses={200: VideoCopyJobSerializer(many=True), **READ_ERRORS},
        tags=COPY_TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        membership = _membership(request, "posts.view")
        asset = media_asset_get_for_user(membership, pk)
        jobs = video_copy_jobs_for_asset(asset) if asset.is_video else []
        return Response(VideoCopyJobSerializer(jobs, many=True).data)

    @extend_schema(
        operation_id="media_copies_create",
        summary="Make a compatible copy",
        description="Asks a worker for an H.264/AAC MP4 copy of the video, optionally cropped "
        "to 9:16, or with one language's captions burned in. Answers 202 with the job to "
        "poll (its url); the same copy asked for again while it is being made is the same "
        "job. The original stays as it is.",
        request=VideoCopyRequestSerializer,
        responses={202: VideoCopyJobSerializer, **WRITE_ERRORS},
        tags=COPY_TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        # Visibility first (404 for another organization's video), then the permission.
        membership = _membership(request, "posts.view")
        asset = media_asset_get_for_user(membership, pk)
        require_perm(membership, "posts.write")
        serializer = VideoCopyRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with _refusals():
            job = video_copy_services.video_copy_request(
                asset=asset,
                membership=membership,
                kind=data["kind"],
                crop=data["crop"],
                language=data["language"],
                request=request._request,
            )
        job = video_copy_job_get_by_id(membership, job.pk)
        body = VideoCopyJobSerializer(job).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})


class VideoCopyDetailView(APIView):
    @extend_schema(
        operation_id="video_copies_retrieve",
        summary="One copy job",
        description="A compatible copy's job: queued, running (with its progress), done "
        "(with the copy's id) or failed (with the reason).",
        responses={200: VideoCopyJobSerializer, **READ_ERRORS},
        tags=COPY_TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        membership = _membership(request, "posts.view")
        job = video_copy_job_get_by_id(membership, pk)
        return Response(VideoCopyJobSerializer(job).data)
