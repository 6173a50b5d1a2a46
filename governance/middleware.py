"""Request middleware: pick the membership, enforce two-factor, apply the user's time zone."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.contrib.auth.models import AnonymousUser
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    JsonResponse,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import user_has_device

from governance.models import Membership, User

SESSION_ORG_KEY = "govsocial_org_id"

# Paths a logged-in person without a verified second factor may still reach.
TWO_FACTOR_EXEMPT_PREFIXES = (
    "/auth/",
    "/static/",
    "/i18n/",
    "/healthz",
    "/invite/",
    "/favicon.ico",
)


def _has_nul(request: HttpRequest) -> list[str]:
    """The query parameters (or "path") holding a NUL character."""
    found = ["path"] if "\x00" in request.path else []
    for key, values in request.GET.lists():
        if "\x00" in key or any("\x00" in value for value in values):
            found.append(key.replace("\x00", "\\x00"))
    return found


class RejectNulMiddleware:
    """A NUL character in the path or query string is a 400, never a 500.

    PostgreSQL cannot compare or store text holding NUL, and query parameters reach
    filters in many places; one check here covers every page and API endpoint.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        fields = _has_nul(request)
        if fields:
            message = _("This value cannot contain NUL characters.")
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {
                        "detail": _("Invalid input."),
                        "code": "invalid",
                        "errors": {field: [message] for field in fields},
                    },
                    status=400,
                )
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class ActiveMembershipMiddleware:
    """Attach ``request.membership`` and ``request.organization`` (None when not a member)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        membership: Membership | None = None
        if request.user.is_authenticated:
            memberships = Membership.objects.select_related("organization").filter(
                user=request.user, is_active=True
            )
            wanted = request.session.get(SESSION_ORG_KEY)
            if wanted:
                membership = memberships.filter(organization_id=wanted).first()
            if membership is None:
                membership = memberships.order_by("joined_at", "pk").first()
        request.membership = membership  # type: ignore[attr-defined]
        request.organization = membership.organization if membership else None  # type: ignore[attr-defined]
        return self.get_response(request)


def second_factor_required(user: User | AnonymousUser) -> bool:
    """Whether ``user`` must prove a second factor in each session: a membership of an
    organization whose policy requires it, an authenticator they set up themselves
    (a device someone enrolled protects them even where the policy is off), or staff
    status (the Django admin reaches every organization's data)."""
    if not user.is_authenticated:
        return False
    return (
        bool(user.is_staff)
        or organization_requires_second_factor(user)
        or bool(user_has_device(user))
    )


def organization_requires_second_factor(user: User | AnonymousUser) -> bool:
    """Whether one of the person's active memberships is in an organization whose
    policy requires two-factor authentication."""
    return Membership.objects.filter(
        user=user.pk, is_active=True, organization__require_2fa=True
    ).exists()


def two_factor_required(request: HttpRequest) -> bool:
    return second_factor_required(request.user)


class TwoFactorRequiredMiddleware:
    """A member of an organization that requires 2FA reaches nothing but enrolment
    and verification until they have proved a second factor in this session."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.user.is_authenticated
            and not request.user.is_verified()  # type: ignore[attr-defined]
            and not request.path.startswith(TWO_FACTOR_EXEMPT_PREFIXES)
            and two_factor_required(request)
        ):
            target = "governance:verify" if user_has_device(request.user) else "governance:enrol"
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"detail": "Two-factor authentication is required.", "code": "otp_required"},
                    status=403,
                )
            return HttpResponseRedirect(reverse(target))
        return self.get_response(request)


class UserPreferencesMiddleware:
    """Show times in the person's own time zone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tz_name = getattr(request.user, "time_zone", "") if request.user.is_authenticated else ""
        try:
            timezone.activate(zoneinfo.ZoneInfo(tz_name)) if tz_name else timezone.deactivate()
        except zoneinfo.ZoneInfoNotFoundError:
            timezone.deactivate()
        return self.get_response(request)
