"""API authentication: personal tokens, and the browser session once 2FA is satisfied.

Both classes leave ``request.membership`` and ``request.organization`` set the way
``ActiveMembershipMiddleware`` sets them for pages, so the access layer
(``governance.selectors.access``) works the same whichever door a request came in by.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.authentication import (
    BaseAuthentication,
    SessionAuthentication,
    get_authorization_header,
)
from rest_framework.request import Request

from governance.middleware import two_factor_required
from governance.models import ApiToken, Membership, User
from governance.services.tokens import api_token_hash

# Accepted words before the token in the Authorization header (compared case-insensitively).
TOKEN_KEYWORDS = (b"bearer", b"token")
# ``last_used_at`` is written at most this often per token: a script polling every
# second must not turn every read into a database write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TwoFactorRequired(exceptions.APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = _("Two-factor authentication is required.")
    default_code = "otp_required"


def _attach_membership(request: Request, membership: Membership) -> None:
    # The Django request underneath is what the middleware, the access layer and
    # the audit log read; DRF's Request forwards attribute reads to it.
    django_request = request._request
    django_request.membership = membership  # type: ignore[attr-defined]
    django_request.organization = membership.organization  # type: ignore[attr-defined]


def _touch_last_used(token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    # Conditional, so concurrent requests with one token write at most once.
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)
    token.last_used_at = now


class ApiTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer gs_…`` (or ``Token gs_…``): a personal API token.

    The token acts for its user inside the one organization it was made in, with
    the role that user holds there now: a changed role applies at once, and a
    deactivated membership or user stops the token.
    """

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in TOKEN_KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("Invalid Authorization header: give the token after the word Bearer."),
                code="invalid_header",
            )
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(
                _("Invalid token."), code="invalid_token"
            ) from exc
        token = (
            ApiToken.objects.select_related("user", "organization")
            .filter(token_hash=api_token_hash(raw))
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."), code="invalid_token")
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(
                _("This token has been revoked."), code="token_revoked"
            )
        user = token.user
        if not user.is_active:
            raise exceptions.AuthenticationFailed(
                _("This user account is inactive."), code="user_inactive"
            )
        membership = (
            Membership.objects.select_related("organization", "user")
            .filter(user=user, organization=token.organization, is_active=True)
            .first()
        )
        if membership is None:
            raise exceptions.AuthenticationFailed(
                _("The token's organization membership is no longer active."),
                code="membership_inactive",
            )
        _touch_last_used(token)
        _attach_membership(request, membership)
        # A token is not a second factor: code that asks for a freshly verified
        # person (revealing a vault secret, say) must say no to a script.
        user.otp_device = None  # type: ignore[attr-defined]
        user.is_verified = lambda: False  # type: ignore[attr-defined]
        return membership.user, token

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) to an unauthenticated API request.
        return 'Bearer realm="api"'


class OTPSessionAuthentication(SessionAuthentication):
    """The browser session (with CSRF enforced), counted only once 2FA is satisfied.

    ``TwoFactorRequiredMiddleware`` already stops unverified sessions on /api/
    paths; this repeats the rule where the API decides who the caller is, so an
    API view mounted elsewhere cannot be reached with half a login.
    """

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        user = result[0]
        is_verified = getattr(user, "is_verified", None)
        verified = bool(is_verified()) if callable(is_verified) else False
        if not verified and two_factor_required(request._request):
            raise TwoFactorRequired
        return result
