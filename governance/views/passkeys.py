"""Passkeys: the person's own list (add, rename, remove), the organization's choice
whether a passkey alone signs in, and the WebAuthn ceremony endpoints, which are
django-otp-webauthn's views with GovSocial's rules and audit around them."""

from __future__ import annotations

import json
import logging
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp_webauthn import views as webauthn_views
from django_otp_webauthn.exceptions import MalformedRequest, OTPWebAuthnApiError
from django_otp_webauthn.models import AbstractWebAuthnCredential, WebAuthnCredential

from governance.models import User
from governance.selectors.access import has_perm
from governance.services import passkeys as services
from governance.services.auth import record_login_success

logger = logging.getLogger("govsocial.passkeys")


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _device_or_404(request: HttpRequest, pk: int) -> WebAuthnCredential:
    try:
        return services.passkey_get_for_user(_user(request), pk)
    except WebAuthnCredential.DoesNotExist as missing:
        raise Http404 from missing


@login_required
@require_http_methods(["GET"])
def passkeys_view(request: HttpRequest) -> HttpResponse:
    membership = getattr(request, "membership", None)
    organization = getattr(request, "organization", None)
    context: dict[str, Any] = {
        "passkeys": services.passkeys_for_user(_user(request)),
        "can_manage_org": membership is not None and has_perm(membership, "org.manage"),
        "organization": organization,
        "name_limit": services.PASSKEY_NAME_MAX_LENGTH,
    }
    return render(request, "governance/passkeys/list.html", context)


@login_required
@require_POST
def passkey_rename_view(request: HttpRequest, pk: int) -> HttpResponse:
    device = _device_or_404(request, pk)
    try:
        services.passkey_rename(
            request=request, user=_user(request), device=device, name=request.POST.get("name", "")
        )
    except ValidationError as error:
        for problem in error.message_dict.get("name", []):
            messages.error(request, problem)
    else:
        messages.success(
            request, _("The passkey is now called “%(name)s”.") % {"name": device.name}
        )
    return redirect("governance:passkeys")


@login_required
@require_POST
def passkey_remove_view(request: HttpRequest, pk: int) -> HttpResponse:
    device = _device_or_404(request, pk)
    name = device.name
    signed_in_with_it = request.session.get(DEVICE_ID_SESSION_KEY) == device.persistent_id
    services.passkey_remove(request=request, user=_user(request), device=device)
    messages.success(
        request,
        _("The passkey “%(name)s” was removed. It no longer signs you in.") % {"name": name},
    )
    if signed_in_with_it:
        # This session was proved with that passkey: it has to be proved again.
        messages.info(
            request,
            _(
                "You had signed in with that passkey, so enter a code from your "
                "authenticator app to go on."
            ),
        )
    return redirect("governance:passkeys")


@login_required
@require_POST
def passkey_policy_view(request: HttpRequest) -> HttpResponse:
    membership = getattr(request, "membership", None)
    if membership is None or not has_perm(membership, "org.manage"):
        raise PermissionDenied
    allowed = request.POST.get("allow_passkey_sign_in") == "on"
    services.organization_set_passkey_sign_in(
        request=request, actor=_user(request), organization=membership.organization, allowed=allowed
    )
    messages.success(
        request,
        _("Members may now sign in with a passkey alone.")
        if allowed
        else _("Members sign in with their password; a passkey serves as the second step."),
    )
    return redirect("governance:passkeys")


# --- The WebAuthn ceremonies (JSON, called by the library's script) ----------------


class _LockedOut(OTPWebAuthnApiError):
    status_code = 403
    default_code = "locked_out"

    def __init__(self) -> None:
        super().__init__(detail=_("Too many failed sign-in attempts. Try again later."))


class _Errors:
    """Whatever a client sends, the answer is JSON: a malformed body is a 400, never a 500."""

    def handle_exception(self, exc: Exception) -> HttpResponse:
        if isinstance(exc, PermissionDenied):
            exc = _LockedOut()
        elif isinstance(exc, KeyError | ValueError | TypeError | AttributeError):
            logger.info("Malformed passkey request: %s", type(exc).__name__)
            exc = MalformedRequest()
        if isinstance(exc, OTPWebAuthnApiError):
            return JsonResponse({"detail": str(exc), "code": exc.code}, status=exc.status_code)
        raise exc


class BeginRegistrationView(_Errors, webauthn_views.BeginCredentialRegistrationView):
    pass


class CompleteRegistrationView(_Errors, webauthn_views.CompleteCredentialRegistrationView):
    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(*args, **kwargs)
        if response.status_code == 200:
            device = WebAuthnCredential.objects.get(pk=_json_id(response))
            services.passkey_added(request=self.request, user=_user(self.request), device=device)
        return response


def _json_id(response: HttpResponse) -> int:
    return int(json.loads(response.content)["id"])


class BeginAuthenticationView(_Errors, webauthn_views.BeginCredentialAuthenticationView):
    pass


class CompleteAuthenticationView(_Errors, webauthn_views.CompleteCredentialAuthenticationView):
    def check_device_usable(self, device: AbstractWebAuthnCredential) -> None:
        super().check_device_usable(device)
        user = cast(User, device.user)
        if self.request.user.is_authenticated:
            return  # the second step after the password: the library checked it is theirs
        if not services.passkey_sign_in_allowed(user):
            if not user.memberships.filter(is_active=True).exists():
                raise services.PasskeyMemberInactive()
            raise services.PasskeySignInNotAllowed()

    def complete_auth(self, device: AbstractWebAuthnCredential) -> Any:
        alone = not self.request.user.is_authenticated
        super().complete_auth(device)
        if not alone:
            # The session just gained the right to everything: give it a new key.
            otp_login(self.request, device)
            self.request.session.cycle_key()
        record_login_success(
            request=self.request,
            user=cast(User, device.user),
            second_factor="passkey (sign-in)" if alone else "passkey",
        )
