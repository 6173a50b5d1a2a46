"""YouTube: connecting a channel through the organization's own Google project
(entered by an admin on the Network apps page, platform "google")."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts import services
from accounts.connect_flow import (
    PendingFlow,
    connect_error_message,
    pending_flow_keep,
    pending_flow_take,
    send_to_sign_in,
)
from accounts.connectors.base import AuthError, ConnectorError
from accounts.connectors.youtube import PLATFORM
from accounts.selectors import channel_account_get_for_membership, network_app_get
from accounts.views.common import membership_with, user_of
from governance.models import Membership, Role

GOOGLE_HOST = "Google"


def youtube_redirect_uri(request: HttpRequest) -> str:
    """The callback's absolute address (registered in the Google project)."""
    path = reverse("accounts:youtube_callback")
    site = urlsplit(settings.SITE_URL)
    if site.scheme and site.netloc and site.netloc == request.get_host():
        return f"{site.scheme}://{site.netloc}{path}"
    return request.build_absolute_uri(path)


def _connect_page(
    request: HttpRequest, membership: Membership, *, problem: str = ""
) -> HttpResponse:
    app = network_app_get(organization=membership.organization, network=PLATFORM)
    return render(
        request,
        "accounts/connect_youtube.html",
        {"app": app, "problem": problem, "is_admin": membership.role == Role.ADMIN},
        status=400 if problem else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def connect_youtube_view(request: HttpRequest) -> HttpResponse:
    """Send the person to Google's consent page through the organization's project."""
    membership = membership_with(request, "accounts.manage")
    if request.method != "POST":
        return _connect_page(request, membership)
    raw = request.POST.get("account", "")
    reconnect = channel_account_get_for_membership(membership, int(raw)) if raw.isdigit() else None
    redirect_uri = youtube_redirect_uri(request)
    try:
        start = services.channel_account_connect_youtube_start(
            organization=membership.organization, redirect_uri=redirect_uri
        )
    except ConnectorError as error:
        return _connect_page(
            request, membership, problem=connect_error_message(error, server=GOOGLE_HOST)
        )
    pending_flow_keep(
        request,
        PendingFlow(
            state=start.state,
            code_verifier=start.code_verifier,
            server_url=redirect_uri,
            organization_id=membership.organization_id,
            user_id=user_of(request).pk,
            reconnect_account_id=reconnect.pk if reconnect else None,
        ),
    )
    return send_to_sign_in(request, start.authorization_url, GOOGLE_HOST)


@login_required
@require_GET
def youtube_callback_view(request: HttpRequest) -> HttpResponse:
    """Where Google sends the person back, with a code and our state (or an error)."""
    membership = membership_with(request, "accounts.manage")
    state = request.GET.get("state", "")
    flow = pending_flow_take(request, state)
    if request.GET.get("error"):
        if request.GET["error"] == "access_denied":
            problem = _("The sign-in was cancelled at Google, so no channel was connected.")
        else:
            problem = _("Google could not sign you in (%(error)s).") % {
                "error": request.GET["error"][:100]
            }
        return _connect_page(request, membership, problem=problem)
    if flow is None or flow.organization_id != membership.organization_id:
        return _connect_page(
            request,
            membership,
            problem=_(
                "The answer from Google's sign-in page does not match a connect started here "
                "(or it came too late). Start connecting again."
            ),
        )
    code = request.GET.get("code", "")
    if not code:
        return _connect_page(
            request, membership, problem=_("Google sent no sign-in code. Start connecting again.")
        )
    try:
        account = services.channel_account_connect_youtube_finish(
            organization=membership.organization,
            actor=user_of(request),
            redirect_uri=flow.server_url,
            code=code,
            returned_state=state,
            expected_state=flow.state,
            code_verifier=flow.code_verifier,
            request=request,
        )
    except AuthError as error:
        return _connect_page(request, membership, problem=error.message)
    except ConnectorError as error:
        return _connect_page(
            request, membership, problem=connect_error_message(error, server=GOOGLE_HOST)
        )
    messages.success(request, _("%(handle)s is connected.") % {"handle": account.handle})
    return redirect("accounts:detail", pk=account.pk)
