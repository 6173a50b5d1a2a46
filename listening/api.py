"""Listening through the REST API (/api/v1/listening/…).

The same access layer and services as the pages: reading watches, streams, cases and
alerts needs ``listening.view``; keeping watches and cases, marking posts and
acknowledging alerts ``listening.manage``; sending a found post to the inbox
``inbox.reply``. Another organization's watch, post, case or alert is a 404.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ChannelAccount
from governance.api.organization import READ_ERRORS, WRITE_ERRORS, service_errors
from governance.api.pagination import query_choice
from governance.models import Membership, User
from governance.selectors.access import request_membership_with_perm as _membership
from governance.selectors.access import require_perm
from inbox.forms import format_before, parse_before
from listening import services
from listening.matching import clean_terms
from listening.models import (
    CaseStatus,
    ListeningPost,
    MisinformationCase,
    Watch,
    WatchAlert,
)
from listening.selectors import (
    StreamFilters,
    alert_get_for_membership,
    alerts_for_membership,
    case_get_for_membership,
    cases_for_membership,
    listening_post_get_for_membership,
    open_cases_for_membership,
    searchable_accounts_for_membership,
    stream_after,
    watch_get_for_membership,
    watches_for_membership,
)
from listening.serializers import (
    AlertSerializer,
    CaseCloseSerializer,
    CaseCreateSerializer,
    CasePostsSerializer,
    CaseSerializer,
    CorrectionSerializer,
    ListeningPostSerializer,
    MarkMisinformationSerializer,
    StreamFilterSerializer,
    StreamPageSerializer,
    WatchSerializer,
    WatchWriteSerializer,
)

TAGS = ["listening"]
WATCH_ERRORS = {"watch_has_evidence": "non_field_errors"}


def _watch_data(watch: Watch) -> dict[str, Any]:
    fresh = Watch.objects.prefetch_related("channel_accounts", "followers").get(pk=watch.pk)
    return dict(WatchSerializer(fresh).data)


def _accounts(membership: Membership, ids: list[int], watch: Watch | None) -> list[ChannelAccount]:
    """The accounts asked for, each one this member may search through (or already one
    of the watch's); any other id is a 400 naming it."""
    allowed = {account.pk: account for account in searchable_accounts_for_membership(membership)}
    if watch is not None:
        allowed.update({account.pk: account for account in watch.channel_accounts.all()})
    unknown = [pk for pk in ids if pk not in allowed]
    if unknown:
        raise exceptions.ValidationError(
            {
                "channel_accounts": [
                    _(
                        "Choose accounts of your organization that you may see, on a "
                        "network whose search we can use. Not usable: %(ids)s."
                    )
                    % {"ids": ", ".join(str(pk) for pk in unknown)}
                ]
            }
        )
    return [allowed[pk] for pk in dict.fromkeys(ids)]


def _followers(membership: Membership, ids: list[int]) -> list[User]:
    people = {
        user.pk: user
        for user in User.objects.filter(
            pk__in=ids,
            is_active=True,
            memberships__organization_id=membership.organization_id,
            memberships__is_active=True,
        )
    }
    unknown = [pk for pk in ids if pk not in people]
    if unknown:
        raise exceptions.ValidationError(
            {"followers": [_("Choose active members of your organization.")]}
        )
    return list(people.values())


def _save_watch(request: Request, membership: Membership, watch: Watch | None) -> Watch:
    partial = watch is not None and request.method == "PATCH"
    serializer = WatchWriteSerializer(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data

    def value(name: str, current: Any, default: Any) -> Any:
        if name in data:
            return data[name]
        return current if watch is not None else default

    account_ids = data.get("channel_accounts")
    accounts = (
        _accounts(membership, account_ids, watch)
        if account_ids is not None
        else list(watch.channel_accounts.all())
        if watch is not None
        else []
    )
    followers = _followers(membership, data.get("followers") or [])
    with service_errors():
        return services.watch_save(
            membership=membership,
            watch=watch,
            name=value("name", watch.name if watch else "", ""),
            terms=clean_terms(value("terms", watch.terms if watch else [], [])),
            excluded_terms=clean_terms(
                value("excluded_terms", watch.excluded_terms if watch else [], [])
            ),
            prefix_match=value("prefix_match", watch.prefix_match if watch else False, False),
            channel_accounts=accounts,
            followers=followers,
            alert_factor=value("alert_factor", watch.alert_factor if watch else 3, 3),
            alert_min_count=value("alert_min_count", watch.alert_min_count if watch else 10, 10),
            is_active=value("is_active", watch.is_active if watch else True, True),
            request=request._request,
        )


# --- watches -------------------------------------------------------------------------------------


class WatchListView(generics.ListAPIView[Watch]):
    serializer_class = WatchSerializer

    def get_queryset(self) -> QuerySet[Watch]:
        membership = _membership(self.request, "listening.view")
        return watches_for_membership(membership).prefetch_related("channel_accounts", "followers")

    @extend_schema(
        operation_id="listening_watches_list",
        summary="Listening watches",
        description="What the organization listens for: terms, excluded terms, the "
        "accounts whose networks are searched, and when an alert is raised.",
        responses={200: WatchSerializer(many=True), **READ_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="listening_watches_create",
        summary="Start a watch",
        description="Matching posts appear in its stream within minutes. The caller "
        "follows it (its alerts come to them). Audited.",
        request=WatchWriteSerializer,
        responses={201: WatchSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        membership = _membership(request, "listening.view")
        require_perm(membership, "listening.manage")
        watch = _save_watch(request, membership, None)
        return Response(_watch_data(watch), status=status.HTTP_201_CREATED)


class WatchDetailView(APIView):
    @extend_schema(
        operation_id="listening_watches_retrieve",
        summary="One watch",
        responses={200: WatchSerializer, **READ_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        watch = watch_get_for_membership(_membership(request, "listening.view"), pk)
        return Response(_watch_data(watch))

    @extend_schema(
        operation_id="listening_watches_update",
        summary="Change a watch",
        description="Only the fields given change. Audited with the old and new values.",
        request=WatchWriteSerializer(partial=True),
        responses={200: WatchSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def patch(self, request: Request, pk: int) -> Response:
        membership = _membership(request, "listening.view")
        watch = watch_get_for_membership(membership, pk)
        require_perm(membership, "listening.manage")
        return Response(_watch_data(_save_watch(request, membership, watch)))

    @extend_schema(
        operation_id="listening_watches_destroy",
        summary="Delete a watch and the posts it found",
        description="Refused (400) while any of its posts is marked as misinformation or "
        "belongs to a case: make the watch inactive instead. Audited.",
        responses={204: None, **WRITE_ERRORS},
        tags=TAGS,
    )
    def delete(self, request: Request, pk: int) -> Response:
        membership = _membership(request, "listening.view")
        watch = watch_get_for_membership(membership, pk)
        with service_errors(**WATCH_ERRORS):
            services.watch_delete(membership=membership, watch=watch, request=request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WatchStreamView(APIView):
    @extend_schema(
        operation_id="listening_watches_posts_list",
        summary="A watch's stream: the posts it found",
        description="Newest first. Page with the ``next`` link (keyset paging: stable "
        "while new posts arrive).",
        parameters=[StreamFilterSerializer],
        responses={200: StreamPageSerializer, **READ_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        membership = _membership(request, "listening.view")
        # The query is checked before the watch is looked up: a page out of range is a
        # 400 whichever watch it names (and says nothing about whether it exists).
        params = StreamFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        raw_before = data.get("before") or ""
        before = parse_before(raw_before)
        if raw_before and before is None:
            raise exceptions.ValidationError({"before": [_("Use the next link of a page.")]})
        watch = watch_get_for_membership(membership, pk)
        filters = StreamFilters(
            network=data.get("network") or "",
            language=data.get("language") or "",
            misinformation=bool(data.get("misinformation")),
            period_hours=int(data.get("period_hours") or 0),
        )
        posts, following = stream_after(watch, filters, before=before, limit=data["limit"])
        next_link = None
        if following is not None:
            query = request.query_params.copy()
            query["before"] = format_before(following)
            next_link = (
                request.build_absolute_uri(request.path)
                + "?"
                + urlencode(list(query.lists()), doseq=True)
            )
        return Response(
            {"results": ListeningPostSerializer(posts, many=True).data, "next": next_link}
        )


# --- actions on a found post ---------------------------------------------------------------------


def _post(request: Request, pk: int) -> tuple[Membership, ListeningPost]:
    membership = _membership(request, "listening.view")
    return membership, listening_post_get_for_membership(membership, pk)


def _post_data(post: ListeningPost) -> dict[str, Any]:
    post.refresh_from_db()
    return dict(ListeningPostSerializer(post).data)


class PostToInboxView(APIView):
    @extend_schema(
        operation_id="listening_posts_send_to_inbox",
        summary="Send a found post to the inbox",
        description="It becomes an inbox item to answer, on the account that found it "
        "(sending it again gives the same item). Audited.",
        request=None,
        responses={200: ListeningPostSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        membership, post = _post(request, pk)
        with service_errors():
            services.listening_post_to_inbox(
                membership=membership, post=post, request=request._request
            )
        return Response(_post_data(post))


class PostMisinformationView(APIView):
    @extend_schema(
        operation_id="listening_posts_mark_misinformation",
        summary="Mark a found post as misinformation",
        description="Optionally into an open misinformation case. Audited.",
        request=MarkMisinformationSerializer,
        responses={200: ListeningPostSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        membership, post = _post(request, pk)
        require_perm(membership, "listening.manage")
        serializer = MarkMisinformationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        case = None
        case_id = serializer.validated_data.get("case")
        if case_id is not None:
            case = open_cases_for_membership(membership).filter(pk=case_id).first()
            if case is None:
                raise exceptions.ValidationError({"case": [_("Choose an open case.")]})
        with service_errors():
            services.listening_post_mark_misinformation(
                membership=membership, post=post, case=case, request=request._request
            )
        return Response(_post_data(post))


class PostCorrectionView(APIView):
    @extend_schema(
        operation_id="listening_posts_link_correction",
        summary="Link our correcting post to a found post",
        request=CorrectionSerializer,
        responses={200: ListeningPostSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        membership, post = _post(request, pk)
        require_perm(membership, "listening.manage")
        serializer = CorrectionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors(url="url"):
            services.listening_post_link_correction(
                membership=membership,
                post=post,
                url=serializer.validated_data["url"],
                request=request._request,
            )
        return Response(_post_data(post))


# --- misinformation cases ------------------------------------------------------------------------


def _with_counts(cases: QuerySet[MisinformationCase]) -> QuerySet[MisinformationCase]:
    return cases.annotate(post_count=Count("posts"))


def _case_data(membership: Membership, case: MisinformationCase) -> dict[str, Any]:
    fresh = _with_counts(cases_for_membership(membership)).get(pk=case.pk)
    return dict(CaseSerializer(fresh).data)


def _posts_of_org(membership: Membership, ids: list[int]) -> list[ListeningPost]:
    posts = {
        post.pk: post
        for post in ListeningPost.objects.filter(
            organization_id=membership.organization_id, pk__in=ids
        )
    }
    unknown = [pk for pk in ids if pk not in posts]
    if unknown:
        raise exceptions.ValidationError({"posts": [_("Choose posts your watches found.")]})
    return [posts[pk] for pk in dict.fromkeys(ids)]


class CaseListView(generics.ListAPIView[MisinformationCase]):
    serializer_class = CaseSerializer

    def get_queryset(self) -> QuerySet[MisinformationCase]:
        membership = _membership(self.request, "listening.view")
        wanted = query_choice(self.request, "status", choices=list(CaseStatus.values))
        cases = _with_counts(cases_for_membership(membership))
        if wanted:
            cases = cases.filter(status=wanted)
        return cases.order_by("-opened_at", "-pk")

    @extend_schema(
        operation_id="listening_cases_list",
        summary="Misinformation cases",
        description="Newest first; each groups the posts spreading one false claim.",
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=CaseStatus.values, required=False)
        ],
        responses={200: CaseSerializer(many=True), **READ_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="listening_cases_create",
        summary="Open a misinformation case",
        description="With the posts that spread the claim (each marked as misinformation) "
        "and our correcting post, when there is one. Audited.",
        request=CaseCreateSerializer,
        responses={201: CaseSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        membership = _membership(request, "listening.view")
        require_perm(membership, "listening.manage")
        serializer = CaseCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        watch = None
        if data.get("watch") is not None:
            watch = watches_for_membership(membership).filter(pk=data["watch"]).first()
            if watch is None:
                raise exceptions.ValidationError({"watch": [_("Choose one of your watches.")]})
        posts = _posts_of_org(membership, data.get("posts") or [])
        with service_errors():
            case = services.case_open_with_posts(
                membership=membership,
                claim=data["claim"],
                watch=watch,
                correction_url=data.get("correction_url") or "",
                posts=posts,
                request=request._request,
            )
        return Response(_case_data(membership, case), status=status.HTTP_201_CREATED)


def _case(request: Request, pk: int) -> tuple[Membership, MisinformationCase]:
    membership = _membership(request, "listening.view")
    return membership, case_get_for_membership(membership, pk)


class CaseDetailView(APIView):
    @extend_schema(
        operation_id="listening_cases_retrieve",
        summary="One misinformation case",
        responses={200: CaseSerializer, **READ_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        membership, case = _case(request, pk)
        return Response(_case_data(membership, case))


class CasePostsView(APIView):
    @extend_schema(
        operation_id="listening_cases_add_posts",
        summary="Put found posts in an open case",
        description="Each is marked as misinformation of the case's claim. Audited.",
        request=CasePostsSerializer,
        responses={200: CaseSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        membership, case = _case(request, pk)
        require_perm(membership, "listening.manage")
        serializer = CasePostsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        posts = _posts_of_org(membership, serializer.validated_data["posts"])
        with service_errors():
            services.case_add_posts(
                membership=membership, case=case, posts=posts, request=request._request
            )
        return Response(_case_data(membership, case))


class CaseCorrectionView(APIView):
    @extend_schema(
        operation_id="listening_cases_link_correction",
        summary="Link our correcting post to a case",
        request=CorrectionSerializer,
        responses={200: CaseSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        membership, case = _case(request, pk)
        require_perm(membership, "listening.manage")
        serializer = CorrectionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors(url="url"):
            services.case_set_correction(
                membership=membership,
                case=case,
                correction_url=serializer.validated_data["url"],
                request=request._request,
            )
        return Response(_case_data(membership, case))


class CaseCloseView(APIView):
    @extend_schema(
        operation_id="listening_cases_close",
        summary="Close a case with a note",
        description="The note says how it ended; the case's reach is recorded one last "
        "time. A closed case cannot be closed again (400). Audited.",
        request=CaseCloseSerializer,
        responses={200: CaseSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        membership, case = _case(request, pk)
        require_perm(membership, "listening.manage")
        serializer = CaseCloseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            services.case_close(
                membership=membership,
                case=case,
                note=serializer.validated_data["note"],
                request=request._request,
            )
        return Response(_case_data(membership, case))


# --- alerts --------------------------------------------------------------------------------------


class AlertListView(generics.ListAPIView[WatchAlert]):
    serializer_class = AlertSerializer

    def get_queryset(self) -> QuerySet[WatchAlert]:
        membership = _membership(self.request, "listening.view")
        alerts = alerts_for_membership(membership).select_related("watch")
        acknowledged = query_choice(self.request, "acknowledged", choices=["true", "false"])
        if acknowledged:
            alerts = alerts.filter(acknowledged_at__isnull=acknowledged == "false")
        return alerts.order_by("-hour", "-pk")

    @extend_schema(
        operation_id="listening_alerts_list",
        summary="Listening alerts",
        description="Hours whose count of matching posts passed the watch's usual "
        "volume, newest first.",
        parameters=[
            OpenApiParameter(
                "acknowledged", OpenApiTypes.STR, enum=["true", "false"], required=False
            )
        ],
        responses={200: AlertSerializer(many=True), **READ_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class AlertAcknowledgeView(APIView):
    @extend_schema(
        operation_id="listening_alerts_acknowledge",
        summary="Acknowledge an alert",
        description="Says it is seen and in hand; acknowledging again changes nothing. Audited.",
        request=None,
        responses={200: AlertSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        membership = _membership(request, "listening.view")
        alert = alert_get_for_membership(membership, pk)
        alert = services.alert_acknowledge(
            membership=membership, alert=alert, request=request._request
        )
        return Response(AlertSerializer(alert).data)
