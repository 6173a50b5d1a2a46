"""Threads: the organization's own Threads app (admins), and connecting a Threads
profile through it (sign in on Threads, allow, come back here)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
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
from accounts.connectors.threads import PERMISSIONS, REQUIRED_SCOPES, authorize_url
from accounts.forms import ThreadsAppForm
from accounts.models import ChannelAccount
from accounts.selectors import network_app_get, network_summary
from accounts.views.common import membership_with, user_of
from governance.selectors.access import has_perm


def threads_redirect_uri(request: HttpRequest) -> str:
    """The callback's absolute address, as it must be registered in Meta's dashboard."""
    path = reverse("accounts:threads_callback")
    site = urlsplit(settings.SITE_URL)
    if site.scheme and site.netloc and site.netloc == request.get_host():
        return f"{site.scheme}://{site.netloc}{path}"
    return request.build_absolute_uri(path)


def permission_rows(granted: list[str] | None = None) -> list[dict[str, object]]:
    """Each Threads permission, what it enables, and (for an account) whether it is granted."""
    return [
        {
            "name": name,
            "enables": enables,
            "required": name in REQUIRED_SCOPES,
            "granted": granted is not None and name in granted,
        }
        for name, enables in PERMISSIONS.items()
    ]


@login_required
@require_http_methods(["GET", "POST"])
def threads_app_view(request: HttpRequest) -> HttpResponse:
    """Admins enter the organization's Threads app; the page says how to create it."""
    membership = membership_with(request, "org.manage")
    app = network_app_get(organization=membership.organization, network="threads")
    form = ThreadsAppForm(
        request.POST if request.method == "POST" else None,
        initial={"app_id": app.client_id} if app else None,
        has_secret=app is not None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.network_app_save(
                organization=membership.organization,
                actor=user_of(request),
                network="threads",
                client_id=form.cleaned_data["app_id"],
                client_secret=form.cleaned_data["app_secret"],
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The Threads app is saved."))
            return redirect("accounts:threads_app")
    return render(
        request,
        "accounts/threads_app.html",
        {
            "form": form,
            "app": app,
            "redirect_uri": threads_redirect_uri(request),
            "permissions": permission_rows(),
        },
        status=400 if form.errors else 200,
    )


def _connect_page(request: HttpRequest, *, problem: str = "", status: int = 200) -> HttpResponse:
    membership = membership_with(request, "accounts.manage")
    app = network_app_get(organization=membership.organization, network="threads")
    return render(
        request,
        "accounts/connect_threads.html",
        {
            "app": app,
            "problem": problem,
            "can_set_up": has_perm(membership, "org.manage"),
            "network": network_summary("threads"),
            "permissions": permission_rows(),
        },
        status=400 if problem else status,
    )


def threads_sign_in(
    request: HttpRequest, *, reconnect: ChannelAccount | None = None
) -> HttpResponse:
    """Start the OAuth flow and send the person to Threads' authorization window."""
    membership = membership_with(request, "accounts.manage")
    try:
        start = services.channel_account_connect_threads_start(
            organization=membership.organization, redirect_uri=threads_redirect_uri(request)
        )
    except ConnectorError as error:
        return _connect_page(request, problem=connect_error_message(error, server="Threads"))
    pending_flow_keep(
        request,
        PendingFlow(
            state=start.state,
            code_verifier="",
            server_url=start.server_url,
            organization_id=membership.organization_id,
            user_id=user_of(request).pk,
            reconnect_account_id=reconnect.pk if reconnect else None,
        ),
    )
    return send_to_sign_in(request, start.authorization_url, authorize_url())


@login_required
@require_http_methods(["GET", "POST"])
def connect_threads_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return threads_sign_in(request)
    return _connect_page(request)


@login_required
@require_GET
def threads_callback_view(request: HttpRequest) -> HttpResponse:
    """Where Threads sends the person back, with a code and our state (or an error)."""
    membership = membership_with(request, "accounts.manage")
    state = request.GET.get("state", "")
    flow = pending_flow_take(request, state)
    if request.GET.get("error"):
        reason = request.GET.get("error_reason", "") or request.GET.get("error", "")
        if reason in ("user_denied", "access_denied"):
            problem = _("The sign-in was cancelled on Threads, so no account was connected.")
        else:
            problem = _("Threads could not sign you in (%(error)s). %(description)s") % {
                "error": request.GET.get("error", "")[:100],
                "description": request.GET.get("error_description", "")[:300],
            }
        return _connect_page(request, problem=problem)
    if flow is None:
        return _connect_page(
            request,
            problem=_(
                "The answer from the sign-in page does not match a connect started here "
                "(or it came too late). Start connecting again."
            ),
        )
    if flow.organization_id != membership.organization_id:
        return _connect_page(
            request,
            problem=_(
                "You switched to another organization while signing in. Start connecting again."
            ),
        )
    code = request.GET.get("code", "")
    if not code:
        return _connect_page(
            request, problem=_("Threads sent no sign-in code. Start connecting again.")
        )
    try:
        account = services.channel_account_connect_threads_finish(
            organization=membership.organization,
            actor=user_of(request),
            redirect_uri=threads_redirect_uri(request),
            code=code,
            returned_state=state,
            expected_state=flow.state,
            request=request,
        )
    except AuthError as error:
        return _connect_page(request, problem=error.message)
    except ConnectorError as error:
        return _connect_page(request, problem=connect_error_message(error, server="Threads"))
    messages.success(request, _("%(handle)s is connected.") % {"handle": account.handle})
    if flow.reconnect_account_id and flow.reconnect_account_id != account.pk:
        messages.warning(
            request,
            _(
                "You signed in as %(handle)s, which is not the account you were reconnecting, "
                "so it was added as another account. The other one still needs reconnecting."
            )
            % {"handle": account.handle},
        )
    return redirect("accounts:detail", pk=account.pk)
