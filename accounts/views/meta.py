"""Meta (Facebook Pages and Instagram): the organization's own app, then Facebook Login,
then picking which Pages and linked Instagram accounts become channel accounts.

Between the login and the pick, the long-lived user token and the Page tokens wait
in the person's session, encrypted, for at most ``PICK_TTL_SECONDS``."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from accounts import services
from accounts.connect_flow import (
    PendingFlow,
    connect_error_message,
    pending_flow_keep,
    pending_flow_take,
    send_to_sign_in,
)
from accounts.connectors import facebook
from accounts.connectors.base import ConnectorError
from accounts.forms import MetaAppForm, MetaPickForm
from accounts.selectors import network_app_get
from accounts.views.common import membership_with, user_of
from governance.crypto import decrypt, encrypt

PLATFORM = "meta"
PICK_SESSION_KEY = "accounts_meta_pick"
PICK_TTL_SECONDS = 15 * 60
META_SERVER = "Meta"


def meta_redirect_uri(request: HttpRequest) -> str:
    """The Facebook Login callback's absolute address (the one to register at Meta)."""
    path = reverse("accounts:meta_callback")
    site = urlsplit(settings.SITE_URL)
    if site.scheme and site.netloc:
        return f"{site.scheme}://{site.netloc}{path}"
    return request.build_absolute_uri(path)


def meta_webhook_url(app_pk: int | None) -> str:
    """The organization's webhook address (served by the inbox), when it is installed."""
    if app_pk is None:
        return ""
    try:
        path = reverse("inbox:meta_webhook", kwargs={"app_id": app_pk})
    except NoReverseMatch:
        return ""
    return settings.SITE_URL.rstrip("/") + path


def _permission_rows(wanted: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(scope, str(facebook.PERMISSIONS[scope])) for scope in wanted]


@login_required
@require_http_methods(["GET", "POST"])
def meta_app_view(request: HttpRequest) -> HttpResponse:
    """The organization's Meta app: how to create it, and its id and secrets."""
    membership = membership_with(request, "org.manage")
    organization = membership.organization
    app = network_app_get(organization=organization, network=PLATFORM)
    initial: dict[str, Any] = {}
    if app is not None:
        initial = {"app_id": app.client_id, "human_agent": bool(app.options.get("human_agent"))}
    form = MetaAppForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        has_secret=app is not None,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.network_app_save(
            organization=organization,
            actor=user_of(request),
            network=PLATFORM,
            client_id=data["app_id"],
            client_secret=data["app_secret"],
            secrets={"verify_token": data["verify_token"]},
            options={**(app.options if app else {}), "human_agent": data["human_agent"]},
            request=request,
        )
        messages.success(request, _("The Meta app is saved."))
        return redirect("accounts:meta_app")
    return render(
        request,
        "accounts/meta_app.html",
        {
            "form": form,
            "app": app,
            "redirect_uri": meta_redirect_uri(request),
            "webhook_url": meta_webhook_url(app.pk if app else None),
            "has_verify_token": bool(app and (app.secrets or {}).get("verify_token")),
            "facebook_permissions": _permission_rows(facebook.FACEBOOK_SCOPES),
            "instagram_permissions": _permission_rows(facebook.INSTAGRAM_SCOPES),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def connect_meta_view(request: HttpRequest) -> HttpResponse:
    """Explain, then send the person to Facebook Login with the organization's app."""
    membership = membership_with(request, "accounts.manage")
    app = network_app_get(organization=membership.organization, network=PLATFORM)
    if request.method == "POST" and app is not None:
        start = facebook.login_start(app_id=app.client_id, redirect_uri=meta_redirect_uri(request))
        pending_flow_keep(
            request,
            PendingFlow(
                state=start.state,
                code_verifier="",
                server_url=PLATFORM,
                organization_id=membership.organization_id,
                user_id=user_of(request).pk,
            ),
        )
        return send_to_sign_in(request, start.authorization_url, "Facebook")
    return render(
        request,
        "accounts/connect_meta.html",
        {
            "app": app,
            "can_manage_app": membership.role == "admin",
            "permissions": _permission_rows(facebook.LOGIN_SCOPES),
        },
    )


def _problem(request: HttpRequest, problem: str) -> HttpResponse:
    membership = membership_with(request, "accounts.manage")
    app = network_app_get(organization=membership.organization, network=PLATFORM)
    return render(
        request,
        "accounts/connect_meta.html",
        {
            "app": app,
            "problem": problem,
            "can_manage_app": membership.role == "admin",
            "permissions": _permission_rows(facebook.LOGIN_SCOPES),
        },
        status=400,
    )


@login_required
@require_GET
def meta_callback_view(request: HttpRequest) -> HttpResponse:
    """Facebook sends the person back here with a code and our state (or an error)."""
    membership = membership_with(request, "accounts.manage")
    state = request.GET.get("state", "")
    flow = pending_flow_take(request, state)
    if request.GET.get("error"):
        return _problem(
            request,
            _("The sign-in was cancelled on Facebook, so nothing was connected.")
            if request.GET.get("error") == "access_denied"
            else _("Facebook could not sign you in: %(reason)s")
            % {"reason": request.GET.get("error_description", "")[:300]},
        )
    if flow is None or flow.server_url != PLATFORM:
        return _problem(
            request,
            _(
                "The answer from Facebook does not match a connect started here (or it came "
                "too late). Start connecting again."
            ),
        )
    app = network_app_get(organization=membership.organization, network=PLATFORM)
    code = request.GET.get("code", "")
    if flow.organization_id != membership.organization_id or app is None or not code:
        return _problem(request, _("Start connecting again."))
    try:
        login = facebook.login_finish(
            app_id=app.client_id,
            app_secret=app.client_secret,
            redirect_uri=meta_redirect_uri(request),
            code=code,
            returned_state=state,
            expected_state=flow.state,
        )
        assets = facebook.login_assets(user_token=login.user_token)
    except ConnectorError as error:
        return _problem(request, connect_error_message(error, server=META_SERVER))
    request.session[PICK_SESSION_KEY] = encrypt(
        json.dumps(
            {
                "organization_id": membership.organization_id,
                "at": time.time(),
                "login": {
                    **asdict(login),
                    "expires_at": login.expires_at.isoformat() if login.expires_at else None,
                    "data_access_expires_at": login.data_access_expires_at.isoformat()
                    if login.data_access_expires_at
                    else None,
                },
                "assets": [asdict(asset) for asset in assets],
            }
        )
    )
    return redirect("accounts:connect_meta_pick")


def _pending_pick(request: HttpRequest, organization_id: int) -> tuple[Any, Any] | None:
    from datetime import datetime

    raw = request.session.get(PICK_SESSION_KEY)
    if not raw:
        return None
    try:
        data = json.loads(decrypt(raw))
    except (ValueError, TypeError):
        return None
    if (
        data.get("organization_id") != organization_id
        or time.time() - data["at"] > PICK_TTL_SECONDS
    ):
        return None
    login_data = data["login"]
    login = facebook.MetaLogin(
        user_token=login_data["user_token"],
        expires_at=datetime.fromisoformat(login_data["expires_at"])
        if login_data.get("expires_at")
        else None,
        data_access_expires_at=datetime.fromisoformat(login_data["data_access_expires_at"])
        if login_data.get("data_access_expires_at")
        else None,
        scopes=tuple(login_data.get("scopes") or ()),
    )
    assets = [facebook.MetaAsset(**asset) for asset in data["assets"]]
    return login, assets


@login_required
@require_http_methods(["GET", "POST"])
def connect_meta_pick_view(request: HttpRequest) -> HttpResponse:
    """Pick the Pages and Instagram accounts to connect (one click connects several)."""
    membership = membership_with(request, "accounts.manage")
    pending = _pending_pick(request, membership.organization_id)
    if pending is None:
        return _problem(
            request, _("The list of Pages has expired or was never made. Start connecting again.")
        )
    login, assets = pending
    page_choices = [(a.page_id, a.page_name) for a in assets]
    ig_choices = [
        (a.ig_id, _("@%(username)s (linked to %(page)s)")
         % {"username": a.ig_username or a.ig_id, "page": a.page_name})
        for a in assets if a.ig_id
    ]  # fmt: skip
    form = MetaPickForm(
        request.POST if request.method == "POST" else None,
        pages=page_choices,
        instagram=ig_choices,
    )
    if request.method == "POST" and form.is_valid():
        connected = services.channel_accounts_connect_meta(
            organization=membership.organization,
            actor=user_of(request),
            login=login,
            assets=assets,
            page_ids=set(form.cleaned_data.get("pages") or []),
            instagram_ids=set(form.cleaned_data.get("instagram") or []),
            request=request,
        )
        request.session.pop(PICK_SESSION_KEY, None)
        messages.success(
            request,
            ngettext(
                "%(count)d account is connected: %(names)s.",
                "%(count)d accounts are connected: %(names)s.",
                len(connected),
            )
            % {"count": len(connected), "names": ", ".join(a.handle for a in connected)},
        )
        return redirect("accounts:list")
    missing = facebook.missing_permissions(login.scopes, facebook.LOGIN_SCOPES)
    return render(
        request,
        "accounts/connect_meta_pick.html",
        {"form": form, "missing": missing, "no_pages": not assets},
        status=400 if form.errors else 200,
    )
