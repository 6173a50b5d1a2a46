"""Login, logout and two-factor pages. Each view parses a form, calls one service, renders."""

from __future__ import annotations

import math
from typing import Any, cast
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import user_has_device
from django_otp_webauthn.models import WebAuthnCredential

from governance.forms.auth import (
    LOGIN_ERROR_ID,
    CodeForm,
    EnrolCodeForm,
    LoginForm,
    RegenerateBackupCodesForm,
)
from governance.middleware import organization_requires_second_factor, second_factor_required
from governance.models import User
from governance.services.auth import (
    CodeCheck,
    backup_codes_left,
    backup_codes_regenerate,
    lockout_wait,
    session_login_password,
    session_logout,
    session_verify_code,
    totp_device_active,
    totp_device_confirm,
    totp_device_prepare,
    totp_secret_groups,
)
from governance.services.login_help import deactivated_login_message

# Fresh backup codes wait here between the POST that made them and the page that
# shows them (once: the page pops them), so a reload never re-submits a form.
FRESH_BACKUP_CODES_SESSION_KEY = "govsocial_fresh_backup_codes"
# Below this many unused backup codes, people are nudged to make new ones.
FEW_BACKUP_CODES = 3

# The auth pages lead nowhere else until the login is complete: no main navigation.
AUTH_PAGE_CONTEXT: dict[str, Any] = {"nav_items": []}


def _next_url(request: HttpRequest) -> str:
    """The page to return to after login, if it is a safe place on this site."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def _after_login(request: HttpRequest) -> str:
    return _next_url(request) or resolve_url(settings.LOGIN_REDIRECT_URL)


def _with_next(url_name: str, next_url: str) -> str:
    url = reverse(url_name)
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def _is_verified(user: Any) -> bool:
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified()) if callable(is_verified) else False


def _code_error(check: CodeCheck) -> str:
    if check.reason == "throttled":
        return ngettext(
            "Too many wrong codes. Wait %(seconds)d second, then try again.",
            "Too many wrong codes. Wait %(seconds)d seconds, then try again.",
            check.wait_seconds,
        ) % {"seconds": check.wait_seconds}
    return _(
        "That code is not right. Enter the newest code from your authenticator app "
        "(check that your phone's clock is right), or an unused backup code."
    )


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _next_url(request)
    if request.method != "POST" and request.user.is_authenticated:
        # TwoFactorRequiredMiddleware sends anyone still owing a code on to it.
        return redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
    form = LoginForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        outcome = session_login_password(
            request=request,
            email=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
        )
        if outcome.locked_out:
            # AxesMiddleware would swap in the same page; answering here keeps the
            # outcomes of this view in one place.
            return lockout_response(request, None, outcome.credentials)
        if outcome.next_step == "verify":
            return redirect(_with_next("governance:verify", next_url))
        if outcome.next_step == "enrol":
            return redirect(_with_next("governance:enrol", next_url))
        if outcome.next_step == "done":
            return redirect(_after_login(request))
        if outcome.sso_only is not None:
            form.credentials_refused(
                _(
                    "%(org)s signs in with %(provider)s only. Use the button "
                    '"Sign in with %(provider)s" below.'
                )
                % {
                    "org": outcome.sso_only.organization.name,
                    "provider": outcome.sso_only.display_name,
                }
            )
            return login_page(request, form=form, sso_provider=outcome.sso_only)
        deactivated = deactivated_login_message(
            email=form.cleaned_data["username"], password=form.cleaned_data["password"]
        )
        form.credentials_refused(
            deactivated
            or _("The e-mail address or password is not right. Check them and try again.")
        )
    return login_page(request, form=form)


def login_page(
    request: HttpRequest,
    *,
    form: LoginForm | None = None,
    find_form: Any = None,
    sso_provider: Any = None,
    status: int = 200,
) -> HttpResponse:
    """The login page: the password form and the single sign-on step or button."""
    from governance.views.sso import sso_login_context

    sso = sso_login_context(request, find_form)
    if sso_provider is not None:
        sso["sso_provider"] = sso_provider
    return render(
        request,
        "governance/auth/login.html",
        {
            **AUTH_PAGE_CONTEXT,
            **sso,
            "form": form or LoginForm(),
            "next": _next_url(request),
            "login_error_id": LOGIN_ERROR_ID,
        },
        status=status,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    session_logout(request=request)
    messages.success(request, _("You have logged out."))
    return redirect("governance:login")


@sensitive_post_parameters("code")
@login_required
@never_cache
def verify_view(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    next_url = _next_url(request)
    if _is_verified(user):
        return redirect(_after_login(request))
    if not user_has_device(user):
        return redirect(_with_next("governance:enrol", next_url))
    form = CodeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        check = session_verify_code(request=request, user=user, code=form.cleaned_data["code"])
        if check.ok:
            if check.used_backup_code and check.backup_codes_left is not None:
                _tell_backup_codes_left(request, check.backup_codes_left)
            return redirect(_after_login(request))
        form.add_error("code", _code_error(check))
    return render(
        request,
        "governance/auth/verify.html",
        {
            **AUTH_PAGE_CONTEXT,
            "form": form,
            "next": next_url,
            "has_passkey": WebAuthnCredential.objects.filter(user=user, confirmed=True).exists(),
        },
    )


def _tell_backup_codes_left(request: HttpRequest, left: int) -> None:
    text = ngettext(
        "You logged in with a backup code. You have %(count)d backup code left.",
        "You logged in with a backup code. You have %(count)d backup codes left.",
        left,
    ) % {"count": left}
    if left < FEW_BACKUP_CODES:
        text += " " + _("Make new backup codes on the Security page.")
        messages.warning(request, text)
    else:
        messages.info(request, text)


def _qr_svg(data: str) -> str:
    # segno writes plain SVG shapes (no style attribute), so it passes our CSP inline.
    # omitsize: a viewBox instead of a fixed size, so app.css (.qr svg) scales it.
    return str(
        segno.make(data, error="m").svg_inline(
            scale=5,
            border=4,
            dark="#000",
            light="#fff",
            svgclass="qr-code",
            lineclass=None,
            omitsize=True,
        )
    )


@sensitive_post_parameters("code")
@login_required
@never_cache
def enrol_view(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    next_url = _next_url(request)
    if user_has_device(user):
        # Only a verified session may manage an existing authenticator: a password
        # alone must never be enough to add a second one.
        if _is_verified(user):
            return redirect("governance:backup_codes")
        return redirect(_with_next("governance:verify", next_url))
    device = totp_device_prepare(user=user)
    form = EnrolCodeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        outcome = totp_device_confirm(
            request=request, user=user, device=device, code=form.cleaned_data["code"]
        )
        if outcome.ok:
            request.session[FRESH_BACKUP_CODES_SESSION_KEY] = outcome.backup_codes
            return redirect(_with_next("governance:backup_codes", next_url))
        form.add_error("code", _code_error(outcome.check))
    return render(
        request,
        "governance/auth/enrol.html",
        {
            **AUTH_PAGE_CONTEXT,
            "form": form,
            "next": next_url,
            "qr_svg": _qr_svg(device.config_url),
            "secret_groups": totp_secret_groups(device),
            "account_name": user.email,
            "issuer": getattr(settings, "OTP_TOTP_ISSUER", "GovSocial"),
            "digits": device.digits,
            "period": device.step,
            "required_by_org": organization_requires_second_factor(user),
        },
    )


@sensitive_post_parameters("code")
@login_required
@never_cache
def backup_codes_view(request: HttpRequest) -> HttpResponse:
    """The Security page: the authenticator, the backup codes left, and new ones on request.

    Right after enrolment or regeneration it shows the new codes, once.
    """
    user = cast(User, request.user)
    has_device = user_has_device(user)
    if has_device and not _is_verified(user):
        return redirect(_with_next("governance:verify", request.get_full_path()))
    if not has_device and second_factor_required(user):
        return redirect("governance:enrol")
    if request.method == "GET":
        fresh = request.session.pop(FRESH_BACKUP_CODES_SESSION_KEY, None)
        if fresh:
            return render(
                request,
                "governance/auth/backup_codes_new.html",
                {"codes": fresh, "continue_url": _after_login(request)},
            )
    form = RegenerateBackupCodesForm(
        request.POST if request.method == "POST" and has_device else None
    )
    if form.is_valid():
        outcome = backup_codes_regenerate(
            request=request, user=user, code=form.cleaned_data["code"]
        )
        if outcome.ok:
            request.session[FRESH_BACKUP_CODES_SESSION_KEY] = outcome.backup_codes
            # "Continue" after saving them leads back here, not to the home page.
            here = reverse("governance:backup_codes")
            return redirect(_with_next("governance:backup_codes", here))
        form.add_error("code", _code_error(outcome.check))
    left = backup_codes_left(user)
    return render(
        request,
        "governance/auth/security.html",
        {
            "form": form,
            "has_device": has_device,
            "totp_device": totp_device_active(user),
            "backup_codes_left": left,
            "few_backup_codes": left < FEW_BACKUP_CODES,
            "second_factor_required": second_factor_required(user),
        },
    )


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The page for a locked-out login (django-axes' AXES_LOCKOUT_CALLABLE): 429, how
    long until the next try, and whom to ask for help."""
    wait = lockout_wait(request, credentials)
    seconds = max(1, math.ceil(wait.total_seconds()))
    response = render(
        request,
        "governance/auth/locked_out.html",
        {
            **AUTH_PAGE_CONTEXT,
            "minutes": max(1, math.ceil(seconds / 60)),
            "help_contact": getattr(settings, "LOGIN_HELP_CONTACT", ""),
        },
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response
