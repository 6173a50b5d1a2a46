"""Connecting LinkedIn pages: the organization's own app, LinkedIn's sign-in, then
choosing which of the pages the person administers become channel accounts.

Between LinkedIn's answer and the choice, the token and the list of pages wait in
the person's session, encrypted (a session row holds no readable token), for at
most ``SIGN_IN_TTL_SECONDS``; they are used once.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import services
from accounts.connect_flow import (
    PendingFlow,
    connect_error_message,
    pending_flow_keep,
    pending_flow_take,
    send_to_sign_in,
)
from accounts.connectors.base import AuthError, ConnectorError
from accounts.connectors.linkedin import (
    SCOPES,
    LinkedInSignIn,
    Page,
    api_version,
    auth_url,
    version_sunset,
    version_warning,
)
from accounts.crypto import DecryptionError, decrypt, encrypt
from accounts.forms import LinkedInAppForm, LinkedInPagesForm
from accounts.selectors import network_app_get
from accounts.views.common import membership_with, user_of
from governance.models import Membership

SIGN_IN_SESSION_KEY = "accounts_linkedin_sign_in"
SIGN_IN_TTL_SECONDS = 15 * 60


def linkedin_redirect_uri(request: HttpRequest) -> str:
    """The callback's absolute address, as registered in the LinkedIn app."""
    path = reverse("accounts:linkedin_callback")
    site = urlsplit(settings.SITE_URL)
    if site.scheme and site.netloc:
        return f"{site.scheme}://{site.netloc}{path}"
    return request.build_absolute_uri(path)


def _page(
    request: HttpRequest,
    membership: Membership,
    *,
    form: LinkedInAppForm | None = None,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    app = network_app_get(organization=membership.organization, network="linkedin")
    if form is None:
        form = LinkedInAppForm(initial={"client_id": app.client_id if app else ""})
    return render(
        request,
        "accounts/connect_linkedin.html",
        {
            "form": form,
            "app": app,
            "problem": problem,
            "redirect_uri": linkedin_redirect_uri(request),
            "scopes": SCOPES,
            "version": api_version(),
            "sunset": version_sunset(api_version()),
            "version_warning": version_warning(),
        },
        status=400 if (problem or form.errors) and status == 200 else status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def connect_linkedin_view(request: HttpRequest) -> HttpResponse:
    """The setup steps, the organization's app, and the button to LinkedIn's sign-in."""
    membership = membership_with(request, "accounts.manage")
    if request.method == "GET":
        return _page(request, membership)
    if request.POST.get("action") == "save_app":
        form = LinkedInAppForm(request.POST)
        if form.is_valid():
            try:
                services.network_app_save(
                    organization=membership.organization,
                    actor=user_of(request),
                    network="linkedin",
                    client_id=form.cleaned_data["client_id"],
                    client_secret=form.cleaned_data["client_secret"],
                    request=request,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The LinkedIn app is saved."))
                return redirect("accounts:connect_linkedin")
        return _page(request, membership, form=form)
    try:
        start = services.linkedin_connect_start(
            organization=membership.organization, redirect_uri=linkedin_redirect_uri(request)
        )
    except ValidationError as error:
        return _page(request, membership, problem=" ".join(error.messages))
    pending_flow_keep(
        request,
        PendingFlow(
            state=start.state,
            code_verifier="",
            server_url=auth_url(),
            organization_id=membership.organization_id,
            user_id=user_of(request).pk,
        ),
    )
    return send_to_sign_in(request, start.authorization_url, auth_url())


def _keep_sign_in(request: HttpRequest, membership: Membership, signed_in: LinkedInSignIn) -> None:
    payload = {
        "organization_id": membership.organization_id,
        "user_id": user_of(request).pk,
        "at": time.time(),
        "credentials": dict(signed_in.credentials),
        "expires_at": signed_in.expires_at.isoformat(),
        "scopes": list(signed_in.scopes),
        "pages": [asdict(page) for page in signed_in.pages],
    }
    request.session[SIGN_IN_SESSION_KEY] = encrypt(json.dumps(payload))


def _kept_sign_in(request: HttpRequest, membership: Membership) -> LinkedInSignIn | None:
    raw = request.session.get(SIGN_IN_SESSION_KEY)
    if not raw:
        return None
    try:
        payload: dict[str, Any] = json.loads(decrypt(raw))
    except (DecryptionError, ValueError, TypeError):
        return None
    if (
        payload.get("organization_id") != membership.organization_id
        or payload.get("user_id") != user_of(request).pk
        or time.time() - float(payload.get("at") or 0) > SIGN_IN_TTL_SECONDS
    ):
        return None
    return LinkedInSignIn(
        credentials=payload["credentials"],
        expires_at=datetime.fromisoformat(payload["expires_at"]),
        scopes=tuple(payload["scopes"]),
        pages=tuple(Page(**page) for page in payload["pages"]),
    )


@login_required
@require_GET
def linkedin_callback_view(request: HttpRequest) -> HttpResponse:
    """Where LinkedIn sends the person back, with a code and our state (or an error)."""
    membership = membership_with(request, "accounts.manage")
    state = request.GET.get("state", "")
    flow = pending_flow_take(request, state)
    if request.GET.get("error"):
        if request.GET["error"] in ("user_cancelled_login", "user_cancelled_authorize"):
            problem = _("The sign-in was cancelled at LinkedIn, so no page was connected.")
        else:
            problem = _("LinkedIn could not sign you in (%(error)s). %(description)s") % {
                "error": request.GET.get("error", "")[:100],
                "description": request.GET.get("error_description", "")[:300],
            }
        return _page(request, membership, problem=problem)
    if flow is None or flow.organization_id != membership.organization_id:
        return _page(
            request,
            membership,
            problem=_(
                "The answer from LinkedIn does not match a connect started here (or it came "
                "too late). Start connecting again."
            ),
        )
    try:
        signed_in = services.linkedin_connect_finish(
            organization=membership.organization,
            redirect_uri=linkedin_redirect_uri(request),
            code=request.GET.get("code", ""),
            returned_state=state,
            expected_state=flow.state,
        )
    except ValidationError as error:
        return _page(request, membership, problem=" ".join(error.messages))
    except AuthError as error:
        return _page(request, membership, problem=error.message)
    except ConnectorError as error:
        return _page(request, membership, problem=connect_error_message(error, server="LinkedIn"))
    _keep_sign_in(request, membership, signed_in)
    return redirect("accounts:linkedin_pages")


def _choices(signed_in: LinkedInSignIn) -> list[tuple[str, str]]:
    return [(page.remote_id, page.name) for page in signed_in.pages if page.can_post]


@login_required
@require_http_methods(["GET", "POST"])
def linkedin_pages_view(request: HttpRequest) -> HttpResponse:
    """Choose the pages; one click connects several."""
    membership = membership_with(request, "accounts.manage")
    signed_in = _kept_sign_in(request, membership)
    if signed_in is None:
        return _page(
            request,
            membership,
            problem=_("The LinkedIn sign-in has expired or was used. Start connecting again."),
        )
    choices = _choices(signed_in)
    form = LinkedInPagesForm(
        request.POST if request.method == "POST" else None,
        choices=choices,
        initial={"pages": [value for value, _label in choices]},
    )
    if request.method == "POST" and form.is_valid():
        try:
            accounts = services.linkedin_pages_connect(
                organization=membership.organization,
                actor=user_of(request),
                signed_in=signed_in,
                page_ids=form.cleaned_data["pages"],
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            request.session.pop(SIGN_IN_SESSION_KEY, None)
            messages.success(
                request,
                _("Connected: %(pages)s.") % {"pages": ", ".join(a.display_name for a in accounts)},
            )
            return redirect("accounts:list")
    return render(
        request,
        "accounts/linkedin_pages.html",
        {
            "form": form,
            "pages": signed_in.pages,
            "can_post_any": bool(choices),
            "other_roles": [p for p in signed_in.pages if not p.can_post],
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def linkedin_app_delete_view(request: HttpRequest) -> HttpResponse:
    membership = membership_with(request, "accounts.manage")
    services.network_app_delete(
        organization=membership.organization,
        actor=user_of(request),
        network="linkedin",
        request=request,
    )
    messages.success(request, _("The LinkedIn app was removed."))
    return redirect("accounts:connect_linkedin")
