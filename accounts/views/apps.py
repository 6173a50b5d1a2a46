"""The organization's own developer apps ("Network apps"): what to create on each
platform, and the form that stores the app's id and secrets (admins only)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import services
from accounts.forms import NetworkAppForm
from accounts.platforms import PLATFORMS, Platform, platform_get
from accounts.selectors import network_app_get
from accounts.views.common import membership_with, user_of


def _platform(key: str) -> Platform:
    platform = platform_get(key)
    if platform is None:
        raise Http404
    return platform


def _page_of(platform: Platform) -> str:
    """The platform's own app page where it has one (Threads, X), else the shared form."""
    try:
        return reverse(f"accounts:{platform.key}_app")
    except NoReverseMatch:
        return reverse("accounts:network_app_edit", args=[platform.key])


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path if path else ""


@login_required
@require_GET
def network_app_list_view(request: HttpRequest) -> HttpResponse:
    membership = membership_with(request, "org.manage")
    rows = [
        (
            platform,
            network_app_get(organization=membership.organization, network=key),
            _page_of(platform),
        )
        for key, platform in PLATFORMS.items()
    ]
    return render(request, "accounts/network_apps.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def network_app_edit_view(request: HttpRequest, platform: str) -> HttpResponse:
    membership = membership_with(request, "org.manage")
    spec = _platform(platform)
    app = network_app_get(organization=membership.organization, network=spec.key)
    initial: dict[str, Any] = {"client_id": app.client_id} if app else {}
    if app is not None and spec.key == "tiktok":
        initial["audited"] = bool((app.options or {}).get("audited"))
    form = NetworkAppForm(
        request.POST or None, initial=initial, platform=spec, has_app=app is not None
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.network_app_save(
                organization=membership.organization,
                actor=user_of(request),
                network=spec.key,
                client_id=form.cleaned_data["client_id"],
                client_secret=form.cleaned_data["client_secret"],
                secrets=form.extra_secret_values(),
                options={"audited": bool(form.cleaned_data.get("audited"))}
                if spec.key == "tiktok"
                else None,
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("The %(platform)s app is saved.") % {"platform": spec.label}
            )
            return redirect("accounts:network_apps")
    return render(
        request,
        "accounts/network_app_edit.html",
        {
            "platform": spec,
            "app": app,
            "form": form,
            "redirect_uri": _absolute(spec.redirect_path),
            "webhook_url": _absolute(spec.webhook_path),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def network_app_delete_view(request: HttpRequest, platform: str) -> HttpResponse:
    membership = membership_with(request, "org.manage")
    spec = _platform(platform)
    if services.network_app_delete(
        organization=membership.organization,
        actor=user_of(request),
        network=spec.key,
        request=request,
    ):
        messages.success(request, _("The %(platform)s app is removed.") % {"platform": spec.label})
    return redirect("accounts:network_apps")
