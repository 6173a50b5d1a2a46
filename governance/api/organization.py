"""Governance REST API (/api/v1/): the caller, the organization, members, invitations,
the audit log and personal API tokens.

Views here parse input, check access through ``governance.selectors.access`` and
call the same services the HTML pages call; services' ``ValidationError`` becomes
a 400 in ``governance.api.errors``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from csp.decorators import csp_update
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework import exceptions, generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.api import schema  # noqa: F401  (registers the auth schemes)
from governance.api.pagination import NewestFirstCursorPagination, query_choice
from governance.models import ApiToken, AuditEvent, Invitation, Membership
from governance.models.org import LIMITABLE_ROLES
from governance.selectors.access import request_membership, require_perm
from governance.selectors.access import request_user as _actor
from governance.selectors.audit import AuditFilters, audit_events_for_user
from governance.selectors.members import (
    invitations_expired_for_org,
    invitations_pending_for_org,
    member_channel_account_ids,
    member_get_for_org,
    members_for_org,
)
from governance.selectors.tokens import api_token_get_for_membership, api_tokens_for_membership
from governance.serializers import (
    ApiTokenCreatedSerializer,
    ApiTokenCreateSerializer,
    ApiTokenSerializer,
    AuditEventFilterSerializer,
    AuditEventSerializer,
    InvitationCreateSerializer,
    InvitationSerializer,
    MemberDeactivateSerializer,
    MemberSerializer,
    MemberUpdateSerializer,
    MeSerializer,
    OrganizationSerializer,
    OrganizationUpdateSerializer,
)
from governance.services.members import (
    invitation_create,
    member_deactivate,
    member_update,
    organization_update_settings,
)
from governance.services.tokens import api_token_create, api_token_revoke

ERROR_RESPONSE = inline_serializer(
    name="Error",
    fields={
        "detail": serializers.CharField(),
        "code": serializers.CharField(),
    },
)
VALIDATION_ERROR_RESPONSE = inline_serializer(
    name="ValidationError",
    fields={
        "detail": serializers.CharField(),
        "code": serializers.CharField(),
        "errors": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
    },
)
READ_ERRORS: dict[int, Any] = {401: ERROR_RESPONSE, 403: ERROR_RESPONSE, 404: ERROR_RESPONSE}
WRITE_ERRORS: dict[int, Any] = {**READ_ERRORS, 400: VALIDATION_ERROR_RESPONSE}


@contextmanager
def service_errors(**field_by_code: str) -> Iterator[None]:
    """Turn a service's ValidationError into a 400 naming the field it is about.

    Services raise errors with a ``code`` and no field (they are called from forms
    too); the API knows which input each code is about.
    """
    try:
        yield
    except DjangoValidationError as exc:
        errors: dict[str, list[str]] = {}
        if hasattr(exc, "error_dict"):
            errors = {field: list(messages) for field, messages in exc.message_dict.items()}
        else:
            for error in exc.error_list:
                field = field_by_code.get(error.code or "", "non_field_errors")
                errors.setdefault(field, []).extend(error.messages)
        raise exceptions.ValidationError(errors) from exc


# ---------------------------------------------------------------------------
# The caller and the organization


class MeView(APIView):
    @extend_schema(
        summary="The caller",
        description=(
            "Who the request is authenticated as, and the organization and role it acts in."
        ),
        responses={200: MeSerializer, **READ_ERRORS},
        tags=["me"],
    )
    def get(self, request: Request) -> Response:
        membership: Membership | None = getattr(request, "membership", None)
        return Response(MeSerializer({"user": request.user, "membership": membership}).data)


class OrganizationView(APIView):
    @extend_schema(
        summary="The caller's organization",
        responses={200: OrganizationSerializer, **READ_ERRORS},
        tags=["organization"],
    )
    def get(self, request: Request) -> Response:
        membership = request_membership(request)
        require_perm(membership, "org.view")
        return Response(OrganizationSerializer(membership.organization).data)

    @extend_schema(
        summary="Change the organization's settings (admins)",
        description=(
            "Turning require_2fa off needs disable_2fa_confirmation set to the "
            "organization's current name."
        ),
        request=OrganizationUpdateSerializer,
        responses={200: OrganizationSerializer, **WRITE_ERRORS},
        tags=["organization"],
    )
    def patch(self, request: Request) -> Response:
        membership = request_membership(request)
        require_perm(membership, "org.manage")
        serializer = OrganizationUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        organization = membership.organization
        with service_errors(
            name_required="name",
            invalid_time_zone="time_zone",
            invalid_language="default_language",
            confirm_2fa_off="disable_2fa_confirmation",
        ):
            organization = organization_update_settings(
                organization=organization,
                actor=_actor(request),
                name=data.get("name", organization.name),
                time_zone=data.get("time_zone", organization.time_zone),
                default_language=data.get("default_language", organization.default_language),
                require_2fa=data.get("require_2fa", organization.require_2fa),
                disable_2fa_confirmation=data.get("disable_2fa_confirmation", ""),
                request=request._request,
            )
        return Response(OrganizationSerializer(organization).data)


# ---------------------------------------------------------------------------
# Members and invitations


class MemberListView(generics.ListAPIView[Membership]):
    serializer_class = MemberSerializer

    def get_queryset(self) -> QuerySet[Membership]:
        membership = request_membership(self.request)
        require_perm(membership, "members.view")
        return members_for_org(membership.organization)

    @extend_schema(
        summary="Members of the organization",
        responses={200: MemberSerializer(many=True), **READ_ERRORS},
        tags=["members"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


def _member_for_request(request: Request, pk: int, perm: str) -> Membership:
    membership = request_membership(request)
    require_perm(membership, perm)
    # Another organization's member is a 404: the lookup is inside the caller's org.
    return member_get_for_org(membership.organization, pk)


class MemberDetailView(APIView):
    @extend_schema(
        summary="One member",
        responses={200: MemberSerializer, **READ_ERRORS},
        tags=["members"],
    )
    def get(self, request: Request, pk: int) -> Response:
        member = _member_for_request(request, pk, "members.view")
        return Response(MemberSerializer(member).data)

    @extend_schema(
        summary="Change a member's role, account limits or leaving date (admins)",
        description=(
            "Give only what changes. all_accounts true gives every channel account; "
            "channel_accounts (editors and reviewers only) limits the member to those ids."
        ),
        request=MemberUpdateSerializer,
        responses={200: MemberSerializer, **WRITE_ERRORS},
        tags=["members"],
    )
    def patch(self, request: Request, pk: int) -> Response:
        member = _member_for_request(request, pk, "members.manage")
        serializer = MemberUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        role = data.get("role", member.role)
        account_ids: list[int] | None
        if data.get("all_accounts") or role not in LIMITABLE_ROLES:
            # A role that cannot be limited always has every account; the service
            # refuses explicit ids for it, which is the error the caller should see.
            account_ids = data.get("channel_accounts") or None
        elif "channel_accounts" in data:
            account_ids = data["channel_accounts"]
        else:
            account_ids = None if member.all_accounts else member_channel_account_ids(member)
        with service_errors(
            invalid_role="role",
            last_admin="role",
            invalid_accounts="channel_accounts",
            not_limitable="channel_accounts",
        ):
            member = member_update(
                membership=member,
                actor=_actor(request),
                role=role,
                channel_account_ids=account_ids,
                leaving_on=data.get("leaving_on", member.leaving_on),
                request=request._request,
            )
        return Response(MemberSerializer(member_get_for_org(member.organization, member.pk)).data)


class MemberDeactivateView(APIView):
    @extend_schema(
        summary="Deactivate a member (admins)",
        description=(
            "Ends the member's sessions and revokes their API tokens for this organization. "
            "The last active admin cannot be deactivated."
        ),
        request=MemberDeactivateSerializer,
        responses={200: MemberSerializer, **WRITE_ERRORS},
        tags=["members"],
    )
    def post(self, request: Request, pk: int) -> Response:
        member = _member_for_request(request, pk, "members.manage")
        serializer = MemberDeactivateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            member = member_deactivate(
                membership=member,
                actor=_actor(request),
                leaving_on=serializer.validated_data.get("leaving_on"),
                request=request._request,
            )
        return Response(MemberSerializer(member_get_for_org(member.organization, member.pk)).data)


class InvitationListView(generics.ListCreateAPIView[Invitation]):
    serializer_class = InvitationSerializer

    def get_queryset(self) -> QuerySet[Invitation]:
        membership = request_membership(self.request)
        require_perm(membership, "members.view")
        if query_choice(self.request, "status", choices=["pending", "expired"]) == "expired":
            return invitations_expired_for_org(membership.organization)
        return invitations_pending_for_org(membership.organization)

    @extend_schema(
        summary="Invitations waiting to be accepted",
        parameters=[
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                enum=["pending", "expired"],
                description="pending (default): still usable; expired: never accepted in time.",
            )
        ],
        responses={200: InvitationSerializer(many=True), **READ_ERRORS},
        tags=["members"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Invite someone by e-mail (admins)",
        description=(
            "Sends the invitation e-mail. channel_accounts (editors and reviewers only) "
            "limits the new member to those account ids; empty means every account."
        ),
        request=InvitationCreateSerializer,
        responses={201: InvitationSerializer, **WRITE_ERRORS},
        tags=["members"],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        membership = request_membership(request)
        require_perm(membership, "members.manage")
        serializer = InvitationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with service_errors(
            invalid_role="role",
            invalid_accounts="channel_accounts",
            not_limitable="channel_accounts",
            already_member="email",
            deactivated_member="email",
            already_invited="email",
        ):
            invitation = invitation_create(
                organization=membership.organization,
                actor=_actor(request),
                email=data["email"],
                role=data["role"],
                channel_account_ids=data["channel_accounts"],
                request=request._request,
            )
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------------------
# The audit log


class AuditEventListView(generics.ListAPIView[AuditEvent]):
    serializer_class = AuditEventSerializer
    # A cursor stays stable while new entries arrive at the top of the log.
    pagination_class = NewestFirstCursorPagination

    def get_queryset(self) -> QuerySet[AuditEvent]:
        membership = request_membership(self.request)
        query = AuditEventFilterSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        filters = AuditFilters(
            actor_id=params.get("actor"),
            action=params.get("action", ""),
            created_from=params.get("since"),
            created_before=params.get("until"),
        )
        # The selector checks audit.view (admins and auditors).
        return audit_events_for_user(membership, filters)

    @extend_schema(
        summary="The organization's audit log (admins and auditors)",
        description=(
            "Newest first, cursor-paginated: follow `next` to read further back. "
            "Each entry carries its position in the organization's chain (seq), prev_hash, and "
            "hash (HMAC-SHA256 under the audit key named by key_id), so the chain can be "
            "verified outside the app."
        ),
        parameters=[AuditEventFilterSerializer],
        responses={
            200: AuditEventSerializer(many=True),
            **READ_ERRORS,
            400: VALIDATION_ERROR_RESPONSE,
        },
        tags=["audit"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


# ---------------------------------------------------------------------------
# Personal API tokens


class ApiTokenListView(generics.ListCreateAPIView[ApiToken]):
    serializer_class = ApiTokenSerializer

    def get_queryset(self) -> QuerySet[ApiToken]:
        membership = request_membership(self.request)
        require_perm(membership, "tokens.manage")
        return api_tokens_for_membership(membership)

    @extend_schema(
        summary="The caller's API tokens",
        description="The tokens themselves are never listed: only their name and prefix.",
        responses={200: ApiTokenSerializer(many=True), **READ_ERRORS},
        tags=["tokens"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Make an API token",
        description=(
            "The response holds the token, this once: store it now. Only a logged-in "
            "browser session can make tokens, so a leaked token cannot make more."
        ),
        request=ApiTokenCreateSerializer,
        responses={201: ApiTokenCreatedSerializer, **WRITE_ERRORS},
        tags=["tokens"],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        membership = request_membership(request)
        require_perm(membership, "tokens.manage")
        if isinstance(request.auth, ApiToken):
            raise exceptions.PermissionDenied(
                _("API tokens are made from a logged-in session, not with another token."),
                code="token_cannot_create_tokens",
            )
        serializer = ApiTokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            token, raw = api_token_create(
                user=_actor(request),
                organization=membership.organization,
                name=serializer.validated_data["name"],
                request=request._request,
            )
        body = {**ApiTokenSerializer(token).data, "token": raw}
        response = Response(body, status=status.HTTP_201_CREATED)
        # The one response that carries the token must not be kept by any cache.
        response["Cache-Control"] = "no-store"
        return response


class ApiTokenRevokeView(APIView):
    @extend_schema(
        summary="Revoke one of the caller's API tokens",
        description="Takes effect at once. Revoking an already revoked token changes nothing.",
        request=None,
        responses={200: ApiTokenSerializer, **READ_ERRORS},
        tags=["tokens"],
    )
    def post(self, request: Request, pk: int) -> Response:
        membership = request_membership(request)
        require_perm(membership, "tokens.manage")
        token = api_token_get_for_membership(membership, pk)
        api_token_revoke(token=token, actor=_actor(request), request=request._request)
        return Response(ApiTokenSerializer(token).data)


# ---------------------------------------------------------------------------
# Documentation pages (Swagger UI and Redoc, served from our own static files)


class ApiSwaggerView(SpectacularSwaggerSplitView):
    """Swagger UI at /api/swagger/ (for trying calls out), within the site's CSP: the
    split view loads its start-up code as a script file, and the template has no
    inline style. Its own colours fall short of WCAG contrast, so the template adds
    ``swagger-contrast.css``; deep links are off (they put a link inside each
    operation's button). The documentation itself is Redoc's page."""

    template_name = "governance/api/swagger_ui.html"


REDOC_BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
# The one address outside the site Redoc's bundle asks for: its logo in the sidebar.
# An image that fails to load is left out, so the bundle is served with "data:,"
# there: nothing is fetched from elsewhere and the CSP has nothing to block.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@functools.cache
def _redoc_bundle() -> bytes:
    path = finders.find(REDOC_BUNDLE)
    if not isinstance(path, str):
        raise Http404
    with open(path, "rb") as bundle:
        return bundle.read().replace(REDOC_LOGO.encode(), b"data:,")


@method_decorator(
    # Redoc styles itself by injecting <style> elements and runs its search in a
    # blob: worker; only this page allows those, and scripts stay 'self' only.
    csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]}),
    name="dispatch",
)
class ApiRedocView(SpectacularRedocView):
    """The API documentation at /api/docs/: Redoc, which axe finds readable by all
    (WCAG 2.1 AA), from the site's own files; ``?script`` is its bundle."""

    template_name = "governance/api/redoc.html"

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        if "script" in request.GET:
            response = HttpResponse(_redoc_bundle(), content_type="application/javascript")
            response["Cache-Control"] = "public, max-age=86400"
            return response
        response = super().get(request, *args, **kwargs)
        response.data["redoc_standalone"] = request.path + "?script"
        return response
