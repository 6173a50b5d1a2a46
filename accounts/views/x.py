"""X: the organization's own X app (admins), connecting an account through it, and an
account's monthly budget of API calls."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import services
from accounts.connect_flow import (
    PendingFlow,
    connect_error_message,
    pending_flow_keep,
    pending_flow_take,
    send_to_sign_in,
    x_canonical_redirect_uri,
    x_redirect_uri,
)
from accounts.connectors.base import AuthError, ConnectorError
from accounts.connectors.x import DEFAULT_PLAN, PLANS, SCOPES
from accounts.forms import CallBudgetForm, XAppForm
from accounts.selectors import channel_account_get_for_membership, network_app_get
from accounts.views.common import membership_with, user_of
from governance.models import Membership, Role

X_HOST = "X"
# What each permission lets GovSocial do, shown on the app page.
SCOPE_USES = {
    "tweet.read": gettext_lazy("read the account's posts and the posts that mention it"),
    "tweet.write": gettext_lazy("publish, reply and delete posts"),
    "users.read": gettext_lazy("read the account's profile and follower count"),
    "offline.access": gettext_lazy("stay signed in (renew the two-hour sign-in without asking)"),
    "media.write": gettext_lazy("upload images and their descriptions"),
    "dm.read": gettext_lazy("read direct messages into the inbox"),
    "dm.write": gettext_lazy("answer direct messages"),
}


def _admin(request: HttpRequest) -> Membership:
    membership = membership_with(request, "accounts.manage")
    if membership.role != Role.ADMIN:
        raise PermissionDenied
    return membership


@login_required
@require_http_methods(["GET", "POST"])
def x_app_view(request: HttpRequest) -> HttpResponse:
    """The organization's own X app: setup steps, the callback address, id and secret."""
    membership = _admin(request)
    app = network_app_get(organization=membership.organization, network="x")
    initial = {"plan": DEFAULT_PLAN}
    if app is not None:
        initial = {
            "client_id": app.client_id,
            "plan": (app.options or {}).get("plan", DEFAULT_PLAN),
        }
    form = XAppForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        has_secret=app is not None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.x_app_save(
                organization=membership.organization,
                actor=user_of(request),
                client_id=form.cleaned_data["client_id"],
                client_secret=form.cleaned_data["client_secret"],
                plan=form.cleaned_data["plan"],
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The X app is saved. You can now connect X accounts."))
            return redirect("accounts:x_app")
    return render(
        request,
        "accounts/x_app.html",
        {
            "form": form,
            "app": app,
            "redirect_uri": x_canonical_redirect_uri(),
            "scopes": [(scope, SCOPE_USES[scope]) for scope in SCOPES],
            "plans": PLANS.values(),
        },
        status=400 if form.errors else 200,
    )


def _connect_page(
    request: HttpRequest, membership: Membership, *, problem: str = ""
) -> HttpResponse:
    app = network_app_get(organization=membership.organization, network="x")
    plan = PLANS.get(str((app.options or {}).get("plan") or DEFAULT_PLAN)) if app else None
    return render(
        request,
        "accounts/connect_x.html",
        {
            "app": app,
            "plan": plan,
            "problem": problem,
            "is_admin": membership.role == Role.ADMIN,
        },
        status=400 if problem else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def connect_x_view(request: HttpRequest) -> HttpResponse:
    """Send the person to X's consent page through the organization's own X app."""
    membership = membership_with(request, "accounts.manage")
    if request.method != "POST":
        return _connect_page(request, membership)
    raw = request.POST.get("account", "")
    reconnect = channel_account_get_for_membership(membership, int(raw)) if raw.isdigit() else None
    redirect_uri = x_redirect_uri(request)
    try:
        start = services.channel_account_connect_x_start(
            organization=membership.organization, redirect_uri=redirect_uri
        )
    except ConnectorError as error:
        return _connect_page(
            request, membership, problem=connect_error_message(error, server=X_HOST)
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
    return send_to_sign_in(request, start.authorization_url, X_HOST)


@login_required
@require_GET
def x_callback_view(request: HttpRequest) -> HttpResponse:
    """Where X sends the person back, with a code and our state (or an error)."""
    membership = membership_with(request, "accounts.manage")
    state = request.GET.get("state", "")
    flow = pending_flow_take(request, state)
    if request.GET.get("error"):
        if request.GET["error"] == "access_denied":
            problem = _("The sign-in was cancelled at X, so no account was connected.")
        else:
            problem = _("X could not sign you in (%(error)s).") % {
                "error": request.GET["error"][:100]
            }
        return _connect_page(request, membership, problem=problem)
    if flow is None or flow.organization_id != membership.organization_id:
        return _connect_page(
            request,
            membership,
            problem=_(
                "The answer from X's sign-in page does not match a connect started here "
                "(or it came too late). Start connecting again."
            ),
        )
    code = request.GET.get("code", "")
    if not code:
        return _connect_page(
            request, membership, problem=_("X sent no sign-in code. Start connecting again.")
        )
    try:
        account = services.channel_account_connect_x_finish(
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
            request, membership, problem=connect_error_message(error, server=X_HOST)
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


@login_required
@require_POST
def account_budget_view(request: HttpRequest, pk: int) -> HttpResponse:
    """An admin sets the account's monthly budget of API calls (empty: no budget)."""
    membership = _admin(request)
    account = channel_account_get_for_membership(membership, pk)
    form = CallBudgetForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(str(e) for errors in form.errors.values() for e in errors)
        messages.error(request, _("The budget was not saved: %(errors)s") % {"errors": errors})
        return redirect("accounts:detail", pk=account.pk)
    services.channel_account_set_call_budget(
        account=account,
        actor=user_of(request),
        monthly_calls=form.cleaned_data["monthly_calls"],
        request=request,
    )
    messages.success(request, _("The monthly budget of API calls is saved."))
    return redirect("accounts:detail", pk=account.pk)
