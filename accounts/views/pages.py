"""The accounts list and one account: check, disconnect, reconnect."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import services
from accounts.connect_flow import (
    PendingFlow,
    connect_error_message,
    mastodon_redirect_uri,
    pending_flow_keep,
    send_to_sign_in,
)
from accounts.connectors.base import ConnectorError
from accounts.connectors.facebook import FACEBOOK_SCOPES, INSTAGRAM_SCOPES, PERMISSIONS
from accounts.connectors.linkedin import version_warning as linkedin_version_warning
from accounts.connectors.registry import get_connector
from accounts.connectors.youtube import quota_usage as youtube_quota_usage
from accounts.forms import CallBudgetForm
from accounts.models import AccountStatus, ChannelAccount
from accounts.selectors import (
    channel_account_get_for_membership,
    channel_account_limits,
    channel_account_list_for_membership,
)
from accounts.usage import account_month_usage
from accounts.views.common import (
    TEXT_COUNTING,
    account_view,
    capability_rows,
    membership_with,
    user_of,
)
from accounts.views.threads import permission_rows, threads_sign_in
from governance.models import Role
from governance.selectors.access import has_perm

# Networks whose API calls are paid or capped: their usage shows on the account page.
METERED = frozenset({"x"})
# The permissions each Meta network needs (Instagram acts through its Page's token).
META_NETWORKS: dict[str, tuple[str, ...]] = {
    "facebook": FACEBOOK_SCOPES,
    "instagram": ("pages_show_list", "pages_read_engagement", *INSTAGRAM_SCOPES),
}


@login_required
@require_GET
def account_list_view(request: HttpRequest) -> HttpResponse:
    membership = membership_with(request, "accounts.view")
    rows = [account_view(account) for account in channel_account_list_for_membership(membership)]
    return render(
        request,
        "accounts/list.html",
        {
            "rows": rows,
            "can_manage": has_perm(membership, "accounts.manage"),
            "can_manage_apps": has_perm(membership, "org.manage"),
        },
    )


@login_required
@require_GET
def account_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = membership_with(request, "accounts.view")
    account = channel_account_get_for_membership(membership, pk)
    row = account_view(account)
    limits = channel_account_limits(account)
    usage = account_month_usage(account) if account.network in METERED else None
    wanted = META_NETWORKS.get(account.network, ())
    granted = set(account.scopes or [])
    publishing_limit = None
    if account.network == "instagram" and account.status == AccountStatus.ACTIVE:
        connector = get_connector("instagram")
        try:
            publishing_limit = connector.publishing_limit(account)  # type: ignore[attr-defined]
        except ConnectorError:
            publishing_limit = None
    tiktok = _tiktok_panel(account) if account.network == "tiktok" else None
    return render(
        request,
        "accounts/detail.html",
        {
            "row": row,
            "account": account,
            "capabilities": capability_rows(row.network),
            "limits": limits,
            "counting_label": TEXT_COUNTING.get(limits.text_counting, "") if limits else "",
            "can_manage": has_perm(membership, "accounts.manage"),
            "linkedin_version_warning": (
                linkedin_version_warning()
                if account.network == "linkedin" and has_perm(membership, "accounts.manage")
                else None
            ),
            "threads_permissions": permission_rows(list(account.scopes or []))
            if account.network == "threads"
            else None,
            "is_admin": membership.role == Role.ADMIN,
            "usage": usage,
            "budget_form": CallBudgetForm(initial={"monthly_calls": usage.budget})
            if usage
            else None,
            "publishing_limit": publishing_limit,
            "tiktok": tiktok,
            "youtube_quota": youtube_quota_usage(account.organization_id)
            if account.network == "youtube"
            else None,
            "permission_rows": [
                (scope, str(PERMISSIONS[scope]), scope in granted) for scope in wanted
            ],
        },
    )


def _tiktok_panel(account: ChannelAccount) -> dict[str, Any]:
    """What TikTok lets this creator choose now (read live; the rules can change any
    day), and whether the organization's app is still unaudited (private posts only)."""
    from accounts.connectors.tiktok import PRIVACY_LABELS, TikTokConnector, app_audited

    panel: dict[str, Any] = {"audited": app_audited(account), "info": None, "levels": []}
    if account.status != AccountStatus.ACTIVE:
        return panel
    connector = get_connector("tiktok")
    assert isinstance(connector, TikTokConnector)
    try:
        info = connector.creator_info(account)
    except ConnectorError as error:
        panel["problem"] = error.message
        return panel
    panel["info"] = info
    panel["levels"] = [str(PRIVACY_LABELS.get(level, level)) for level in info.privacy_levels]
    return panel


@login_required
@require_POST
def account_check_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = membership_with(request, "accounts.manage")
    account = channel_account_get_for_membership(membership, pk)
    result = services.channel_account_check_health(account=account)
    if result is not None:
        messages.success(
            request,
            _("The connection works: the network answered as %(handle)s.")
            % {"handle": result.handle or account.handle},
        )
    else:
        account.refresh_from_db()
        message = _("The check failed: %(error)s") % {"error": account.last_error}
        if account.status == AccountStatus.NEEDS_RECONNECT:
            message += " " + _("The account needs reconnecting.")
        messages.error(request, message)
    return redirect("accounts:detail", pk=account.pk)


@login_required
@require_http_methods(["GET", "POST"])
def account_disconnect_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = membership_with(request, "accounts.manage")
    account = channel_account_get_for_membership(membership, pk)
    if request.method == "POST":
        if account.status == AccountStatus.DISCONNECTED:
            messages.info(
                request, _("%(handle)s was already disconnected.") % {"handle": account.handle}
            )
        else:
            services.channel_account_disconnect(
                account=account, actor=user_of(request), request=request
            )
            messages.success(
                request,
                _(
                    "%(handle)s is disconnected. GovSocial no longer holds its sign-in, and "
                    "gave the access back to the network where the network allows it."
                )
                % {"handle": account.handle},
            )
        return redirect("accounts:detail", pk=account.pk)
    return render(
        request, "accounts/disconnect.html", {"row": account_view(account), "account": account}
    )


@login_required
@require_POST
def account_reconnect_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Connect the same account again through its network's own flow; the services
    recognise it (same handle, or the same id on the same server) and update it."""
    membership = membership_with(request, "accounts.manage")
    account = channel_account_get_for_membership(membership, pk)
    if account.network == "sandbox":
        services.channel_account_connect_sandbox(
            organization=membership.organization,
            actor=user_of(request),
            handle=account.handle,
            request=request,
        )
        messages.success(request, _("%(handle)s is connected again.") % {"handle": account.handle})
        return redirect("accounts:detail", pk=account.pk)
    if account.network == "bluesky":
        return redirect(f"{reverse('accounts:connect_bluesky')}?account={account.pk}")
    if account.network == "linkedin":
        # Reconnecting is signing in at LinkedIn again and choosing the same page.
        return redirect("accounts:connect_linkedin")
    if account.network == "x":
        return redirect(f"{reverse('accounts:connect_x')}?account={account.pk}")
    if account.network == "tiktok":
        return redirect("accounts:connect_tiktok")
    if account.network in META_NETWORKS:
        # One Facebook Login reconnects the Page and its Instagram account alike.
        return redirect("accounts:connect_meta")
    if account.network == "mastodon" and account.server_url:
        try:
            start = services.channel_account_connect_mastodon_start(
                organization=membership.organization,
                actor=user_of(request),
                server_url=account.server_url,
                redirect_uri=mastodon_redirect_uri(request),
            )
        except ConnectorError as error:
            messages.error(request, connect_error_message(error, server=account.server_url))
            return redirect("accounts:detail", pk=account.pk)
        pending_flow_keep(
            request,
            PendingFlow(
                state=start.state,
                code_verifier=start.code_verifier,
                server_url=start.server_url,
                organization_id=membership.organization_id,
                user_id=user_of(request).pk,
                reconnect_account_id=account.pk,
            ),
        )
        return send_to_sign_in(request, start.authorization_url, start.server_url)
    if account.network == "threads":
        return threads_sign_in(request, reconnect=account)
    messages.error(request, _("GovSocial cannot reconnect accounts of this network."))
    return redirect("accounts:detail", pk=account.pk)
