"""TikTok: connecting an account through the organization's own TikTok app (Login Kit
for Web, OAuth v2 with a state; no PKCE for web apps)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts import services
from accounts.connect_flow import (
    PendingFlow,
    connect_error_message,
    pending_flow_keep,
    pending_flow_take,
    send_to_sign_in,
    tiktok_redirect_uri,
)
from accounts.connectors.base import AuthError, ConnectorError
from accounts.connectors.tiktok import app_audited
from accounts.selectors import network_app_get
from accounts.views.common import membership_with, user_of
from governance.models import Membership, Role

TIKTOK_HOST = "TikTok"


def _connect_page(
    request: HttpRequest, membership: Membership, *, problem: str = ""
) -> HttpResponse:
    app = network_app_get(organization=membership.organization, network="tiktok")
    return render(
        request,
        "accounts/connect_tiktok.html",
        {
            "app": app,
            "audited": app_audited(options=app.options) if app else False,
            "problem": problem,
            "is_admin": membership.role == Role.ADMIN,
        },
        status=400 if problem else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def connect_tiktok_view(request: HttpRequest) -> HttpResponse:
    """Send the person to TikTok's authorization page through the organization's app."""
    membership = membership_with(request, "accounts.manage")
    if request.method != "POST":
        return _connect_page(request, membership)
    redirect_uri = tiktok_redirect_uri(request)
    try:
        start = services.channel_account_connect_tiktok_start(
            organization=membership.organization, redirect_uri=redirect_uri
        )
    except ConnectorError as error:
        return _connect_page(
            request, membership, problem=connect_error_message(error, server=TIKTOK_HOST)
        )
    pending_flow_keep(
        request,
        PendingFlow(
            state=start.state,
            code_verifier="",
            server_url=redirect_uri,
            organization_id=membership.organization_id,
            user_id=user_of(request).pk,
        ),
    )
    return send_to_sign_in(request, start.authorization_url, TIKTOK_HOST)


@login_required
@require_GET
def tiktok_callback_view(request: HttpRequest) -> HttpResponse:
    """Where TikTok sends the person back, with a code and our state (or an error)."""
    membership = membership_with(request, "accounts.manage")
    state = request.GET.get("state", "")
    flow = pending_flow_take(request, state)
    if request.GET.get("error"):
        if request.GET["error"] == "access_denied":
            problem = _("The sign-in was cancelled at TikTok, so no account was connected.")
        else:
            problem = _("TikTok could not sign you in (%(error)s).") % {
                "error": request.GET["error"][:100]
            }
        return _connect_page(request, membership, problem=problem)
    if flow is None or flow.organization_id != membership.organization_id:
        return _connect_page(
            request,
            membership,
            problem=_(
                "The answer from TikTok's sign-in page does not match a connect started here "
                "(or it came too late). Start connecting again."
            ),
        )
    code = request.GET.get("code", "")
    if not code:
        return _connect_page(
            request, membership, problem=_("TikTok sent no sign-in code. Start connecting again.")
        )
    try:
        account = services.channel_account_connect_tiktok_finish(
            organization=membership.organization,
            actor=user_of(request),
            redirect_uri=flow.server_url,
            code=code,
            returned_state=state,
            expected_state=flow.state,
            request=request,
        )
    except AuthError as error:
        return _connect_page(request, membership, problem=error.message)
    except ConnectorError as error:
        return _connect_page(
            request, membership, problem=connect_error_message(error, server=TIKTOK_HOST)
        )
    messages.success(request, _("%(handle)s is connected.") % {"handle": account.handle})
    return redirect("accounts:detail", pk=account.pk)
