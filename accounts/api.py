"""Channel accounts through the REST API (/api/v1/channel-accounts/).

The same access layer and services as the pages: listing and reading need
``accounts.view``; connecting, checking and disconnecting need ``accounts.manage``;
another organization's account is a 404. A failure at the network comes back
by kind: refused or bad sign-in 400, an address where no server answers (the
name does not resolve, the connection is refused) 400, rate limited 429 (with
Retry-After), a server that was reached but failed 502.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import http, services
from accounts.connect_flow import (
    FLOW_TTL_SECONDS,
    PendingFlow,
    connect_error_message,
    mastodon_redirect_uri,
    pending_flow_keep,
)
from accounts.connectors.base import AuthError, ConnectorError, RateLimited, Rejected
from accounts.forms import SANDBOX_TAKEN, suggested_sandbox_handle
from accounts.models import ChannelAccount
from accounts.selectors import (
    channel_account_get_for_membership,
    channel_account_list_for_membership,
    sandbox_handle_taken,
)
from accounts.serializers import (
    BlueskyConnectSerializer,
    ChannelAccountSerializer,
    HealthCheckResultSerializer,
    MastodonConnectSerializer,
    MastodonConnectStartedSerializer,
    SandboxConnectSerializer,
)
from governance.api.organization import ERROR_RESPONSE, READ_ERRORS, WRITE_ERRORS, service_errors
from governance.selectors.access import request_membership_with_perm as _membership
from governance.selectors.access import request_user as _actor

TAGS = ["channel accounts"]
CONNECT_ERRORS: dict[int, Any] = {**WRITE_ERRORS, 429: ERROR_RESPONSE, 502: ERROR_RESPONSE}


class NetworkUnavailable(exceptions.APIException):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = "The network could not be reached."
    default_code = "network_unavailable"


@contextmanager
def connector_errors(*, field: str, server: str = "") -> Iterator[None]:
    """A network's failure as the API's error of the same kind (see the module doc)."""
    try:
        yield
    except (AuthError, Rejected) as exc:
        raise exceptions.ValidationError(
            {field: [connect_error_message(exc, server=server)]}
        ) from exc
    except RateLimited as exc:
        raise exceptions.Throttled(
            wait=exc.retry_after, detail=connect_error_message(exc, server=server)
        ) from exc
    except ConnectorError as exc:
        if isinstance(exc.__cause__, http.ConnectFailed):
            # Nothing was sent: the address the person typed has no server answering.
            raise exceptions.ValidationError(
                {field: [connect_error_message(exc, server=server)]}
            ) from exc
        raise NetworkUnavailable(connect_error_message(exc, server=server)) from exc


def _account(request: Request, pk: int, perm: str) -> ChannelAccount:
    # Another organization's account, or one a limited member may not use, is a 404.
    return channel_account_get_for_membership(_membership(request, perm), pk)


class ChannelAccountListView(generics.ListAPIView[ChannelAccount]):
    serializer_class = ChannelAccountSerializer

    def get_queryset(self) -> QuerySet[ChannelAccount]:
        return channel_account_list_for_membership(_membership(self.request, "accounts.view"))

    @extend_schema(
        summary="Channel accounts",
        description="The organization's accounts the caller may see, with their status and "
        "what their network supports. Credentials are never returned.",
        responses={200: ChannelAccountSerializer(many=True), **READ_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class ChannelAccountDetailView(APIView):
    @extend_schema(
        summary="One channel account",
        responses={200: ChannelAccountSerializer, **READ_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(ChannelAccountSerializer(_account(request, pk, "accounts.view")).data)


class ChannelAccountCheckView(APIView):
    @extend_schema(
        summary="Check an account's connection now",
        description="Asks the network whether the account's sign-in still works. A refused "
        "sign-in marks the account needs_reconnect and tells the person who connected it "
        "and the organization's admins.",
        request=None,
        responses={200: HealthCheckResultSerializer, **READ_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        account = _account(request, pk, "accounts.manage")
        result = services.channel_account_check_health(account=account)
        account.refresh_from_db()
        detail = (
            _("The connection works.")
            if result is not None
            else _("The check failed: %(error)s") % {"error": account.last_error}
        )
        return Response(
            HealthCheckResultSerializer(
                {"ok": result is not None, "detail": detail, "account": account}
            ).data
        )


class ChannelAccountDisconnectView(APIView):
    @extend_schema(
        summary="Disconnect an account",
        description="Gives the access back to the network where it allows that, forgets the "
        "credentials and marks the account disconnected. The account stays on the network.",
        request=None,
        responses={200: ChannelAccountSerializer, **READ_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        account = _account(request, pk, "accounts.manage")
        account = services.channel_account_disconnect(
            account=account, actor=_actor(request), request=request._request
        )
        return Response(ChannelAccountSerializer(account).data)


class BlueskyConnectView(APIView):
    @extend_schema(
        summary="Connect a Bluesky account",
        description="With the handle and an app password made for GovSocial. Connecting an "
        "account the organization already has reconnects it.",
        request=BlueskyConnectSerializer,
        responses={201: ChannelAccountSerializer, **CONNECT_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        membership = _membership(request, "accounts.manage")
        serializer = BlueskyConnectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with (
            service_errors(),
            connector_errors(field="non_field_errors", server=data["server_url"] or "Bluesky"),
        ):
            account = services.channel_account_connect_bluesky(  # type: ignore[attr-defined,unused-ignore]
                organization=membership.organization,
                actor=_actor(request),
                handle=data["handle"],
                app_password=data["app_password"],
                server_url=data["server_url"],
                request=request._request,
            )
        return Response(ChannelAccountSerializer(account).data, status=status.HTTP_201_CREATED)


class MastodonConnectView(APIView):
    @extend_schema(
        summary="Start connecting a Mastodon account",
        description="Registers GovSocial on the instance (once per instance) and returns the "
        "address where a person signs in. Open it in a browser logged in to GovSocial as "
        "the same user: the instance sends the browser back to GovSocial's callback page, "
        "which finishes connecting the account.",
        request=MastodonConnectSerializer,
        responses={200: MastodonConnectStartedSerializer, **CONNECT_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        membership = _membership(request, "accounts.manage")
        serializer = MastodonConnectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = serializer.validated_data["instance"].strip()
        callback_url = mastodon_redirect_uri(request._request)
        with connector_errors(field="instance", server=instance):
            start = services.channel_account_connect_mastodon_start(
                organization=membership.organization,
                actor=_actor(request),
                server_url=instance,
                redirect_uri=callback_url,
            )
        # The browser that comes back is not this client's session: keep the flow
        # server-side, bound to the user (see accounts.connect_flow).
        pending_flow_keep(
            request._request,
            PendingFlow(
                state=start.state,
                code_verifier=start.code_verifier,
                server_url=start.server_url,
                organization_id=membership.organization_id,
                user_id=_actor(request).pk,
            ),
            in_session=False,
        )
        return Response(
            MastodonConnectStartedSerializer(
                {
                    "authorization_url": start.authorization_url,
                    "server_url": start.server_url,
                    "callback_url": callback_url,
                    "expires_in": FLOW_TTL_SECONDS,
                }
            ).data
        )


class SandboxConnectView(APIView):
    @extend_schema(
        summary="Add a Sandbox (training) account",
        description="A practice account whose feed lives inside GovSocial.",
        request=SandboxConnectSerializer,
        responses={201: ChannelAccountSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        membership = _membership(request, "accounts.manage")
        serializer = SandboxConnectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        organization = membership.organization
        handle = serializer.validated_data["handle"] or suggested_sandbox_handle(organization)
        if sandbox_handle_taken(organization.pk, handle):
            raise exceptions.ValidationError({"handle": [str(SANDBOX_TAKEN)]})
        with connector_errors(field="handle"):
            account = services.channel_account_connect_sandbox(
                organization=organization,
                actor=_actor(request),
                handle=handle,
                request=request._request,
            )
        return Response(ChannelAccountSerializer(account).data, status=status.HTTP_201_CREATED)
