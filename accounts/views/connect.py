"""Connecting an account: choose the network, then its own way in (Bluesky: handle and
app password; Mastodon: sign in at the instance; Sandbox: one click)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts import services
from accounts.connect_flow import (
    PendingFlow,
    connect_error_message,
    mastodon_redirect_uri,
    pending_flow_keep,
    pending_flow_take,
    send_to_sign_in,
)
from accounts.connectors.base import AuthError, ConnectorError, Rejected
from accounts.forms import (
    BlueskyConnectForm,
    MastodonConnectForm,
    SandboxConnectForm,
    suggested_sandbox_handle,
)
from accounts.models import ChannelAccount
from accounts.selectors import channel_account_get_for_membership, network_summary
from accounts.views.common import membership_with, user_of
from governance.models import Membership

BLUESKY_DEFAULT_SERVER = "Bluesky"


def _attach_errors(form: Form, error: ValidationError) -> None:
    """A service's ValidationError next to the field it names, else above the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


@login_required
@require_GET
def connect_choose_view(request: HttpRequest) -> HttpResponse:
    membership_with(request, "accounts.manage")
    return render(
        request,
        "accounts/connect.html",
        {
            "bluesky": network_summary("bluesky"),
            "mastodon": network_summary("mastodon"),
            "sandbox": network_summary("sandbox"),
        },
    )


# --- Bluesky --------------------------------------------------------------------------


def _reconnecting(request: HttpRequest, membership: Membership) -> ChannelAccount | None:
    raw = request.GET.get("account") or request.POST.get("account") or ""
    if not raw.isdigit():
        return None
    return channel_account_get_for_membership(membership, int(raw))


@login_required
@require_http_methods(["GET", "POST"])
def connect_bluesky_view(request: HttpRequest) -> HttpResponse:
    membership = membership_with(request, "accounts.manage")
    account = _reconnecting(request, membership)
    initial: dict[str, Any] = {}
    if account is not None:
        initial = {"handle": account.handle, "server_url": account.server_url}
    form = BlueskyConnectForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            connected = services.channel_account_connect_bluesky(  # type: ignore[attr-defined,unused-ignore]
                organization=membership.organization,
                actor=user_of(request),
                handle=data["handle"],
                app_password=data["app_password"],
                server_url=data["server_url"],
                request=request,
            )
        except ValidationError as error:
            _attach_errors(form, error)
        except ConnectorError as error:
            form.add_error(
                None,
                connect_error_message(error, server=data["server_url"] or BLUESKY_DEFAULT_SERVER),
            )
        else:
            messages.success(request, _("%(handle)s is connected.") % {"handle": connected.handle})
            return redirect("accounts:detail", pk=connected.pk)
    status = 400 if form.errors else 200
    return render(
        request,
        "accounts/connect_bluesky.html",
        {"form": form, "account": account, "network": network_summary("bluesky")},
        status=status,
    )


# --- Mastodon -------------------------------------------------------------------------


def _mastodon_page(
    request: HttpRequest,
    form: MastodonConnectForm,
    *,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "accounts/connect_mastodon.html",
        {"form": form, "problem": problem, "network": network_summary("mastodon")},
        status=400 if (problem or form.errors) else status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def connect_mastodon_view(request: HttpRequest) -> HttpResponse:
    """Register on the instance if needed and send the person there to sign in."""
    membership = membership_with(request, "accounts.manage")
    form = MastodonConnectForm(request.POST if request.method == "POST" else None)
    if request.method != "POST" or not form.is_valid():
        return _mastodon_page(request, form)
    instance = form.cleaned_data["instance"].strip()
    try:
        start = services.channel_account_connect_mastodon_start(
            organization=membership.organization,
            actor=user_of(request),
            server_url=instance,
            redirect_uri=mastodon_redirect_uri(request),
        )
    except Rejected as error:
        form.add_error("instance", connect_error_message(error, server=instance))
        return _mastodon_page(request, form)
    except ConnectorError as error:
        return _mastodon_page(request, form, problem=connect_error_message(error, server=instance))
    pending_flow_keep(
        request,
        PendingFlow(
            state=start.state,
            code_verifier=start.code_verifier,
            server_url=start.server_url,
            organization_id=membership.organization_id,
            user_id=user_of(request).pk,
        ),
    )
    return send_to_sign_in(request, start.authorization_url, start.server_url)


def _denied_message(error: str, description: str) -> str:
    if error == "access_denied":
        return _("The sign-in was cancelled at the server, so no account was connected.")
    return _("The server could not sign you in (%(error)s). %(description)s") % {
        "error": error,
        "description": description,
    }


@login_required
@require_GET
def mastodon_callback_view(request: HttpRequest) -> HttpResponse:
    """Where the instance sends the person back, with a code and our state (or an error)."""
    membership = membership_with(request, "accounts.manage")
    state = request.GET.get("state", "")
    flow = pending_flow_take(request, state)
    retry_form = MastodonConnectForm(initial={"instance": flow.server_url} if flow else None)
    if request.GET.get("error"):
        problem = _denied_message(
            request.GET.get("error", "")[:100], request.GET.get("error_description", "")[:300]
        )
        return _mastodon_page(request, retry_form, problem=problem)
    if flow is None:
        return _mastodon_page(
            request,
            retry_form,
            problem=_(
                "The answer from the sign-in page does not match a connect started here "
                "(or it came too late). Start connecting again."
            ),
        )
    if flow.organization_id != membership.organization_id:
        return _mastodon_page(
            request,
            retry_form,
            problem=_(
                "You switched to another organization while signing in. Start connecting again."
            ),
        )
    code = request.GET.get("code", "")
    if not code:
        return _mastodon_page(
            request,
            retry_form,
            problem=_("The server sent no sign-in code. Start connecting again."),
        )
    try:
        account = services.channel_account_connect_mastodon_finish(
            organization=membership.organization,
            actor=user_of(request),
            server_url=flow.server_url,
            code=code,
            returned_state=state,
            expected_state=flow.state,
            code_verifier=flow.code_verifier,
            request=request,
        )
    except AuthError as error:
        return _mastodon_page(request, retry_form, problem=error.message)
    except ConnectorError as error:
        return _mastodon_page(
            request, retry_form, problem=connect_error_message(error, server=flow.server_url)
        )
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


# --- Sandbox --------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def connect_sandbox_view(request: HttpRequest) -> HttpResponse:
    membership = membership_with(request, "accounts.manage")
    organization = membership.organization
    form = SandboxConnectForm(
        request.POST if request.method == "POST" else None,
        organization=organization,
        initial={"handle": suggested_sandbox_handle(organization)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            account = services.channel_account_connect_sandbox(
                organization=organization,
                actor=user_of(request),
                handle=form.cleaned_data["handle"],
                request=request,
            )
        except Rejected as error:
            form.add_error("handle", error.message)
        else:
            messages.success(
                request,
                _("The practice account %(handle)s is ready. Posts to it stay inside GovSocial.")
                % {"handle": account.handle},
            )
            return redirect("accounts:sandbox_feed", pk=account.pk)
    return render(
        request,
        "accounts/connect_sandbox.html",
        {"form": form, "network": network_summary("sandbox")},
        status=400 if form.errors else 200,
    )
