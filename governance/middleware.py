"""Request middleware: pick the membership, enforce two-factor, apply the user's time zone."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Sequence
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    JsonResponse,
)
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_otp import user_has_device
from django_otp.middleware import OTPMiddleware
from django_otp.models import Device

from governance.models import Membership, Organization, User

SESSION_ORG_KEY = "govsocial_org_id"
# The saved interface language last applied in this session (UserPreferencesMiddleware).
SESSION_LANGUAGE_APPLIED = "govsocial_language_applied"
# Set on a session that must prove a second factor whatever the organization's policy
# (a break-glass login past single sign-on).
SESSION_SECOND_FACTOR_FORCED = "govsocial_second_factor_forced"

# Paths a logged-in person without a verified second factor may still reach.
TWO_FACTOR_EXEMPT_PREFIXES = (
    "/auth/",
    "/static/",
    "/i18n/",
    "/healthz",
    "/invite/",
    "/favicon.ico",
    "/l/",
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
            if request.path.startswith("/scim/"):
                # The identity provider reads RFC 7644 error objects.
                return JsonResponse(
                    {
                        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                        "status": "400",
                        "scimType": "invalidValue",
                        "detail": message,
                    },
                    status=400,
                    content_type="application/scim+json",
                )
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


# What the two-factor layer reads on every request, cached so that a signed-in
# request costs no device or policy query. Every write that could change an answer
# (a device, a membership, an organization's policy, a user's staff flag) drops it;
# the time limits only bound what a write outside the ORM could leave behind.
OTP_DEVICE_CACHE_SECONDS = 300
SECOND_FACTOR_CACHE_SECONDS = 60
_MISSING = "missing"


def _device_cache_key(persistent_id: str) -> str:
    return f"otp-device:{persistent_id}"


def _second_factor_cache_key(user_id: int) -> str:
    return f"second-factor-required:{user_id}"


class CachedOTPMiddleware(OTPMiddleware):
    """django-otp's middleware, reading the session's verified device from the cache.

    Generic over the device models: whichever ``django_otp.models.Device``
    subclass verified the session, its persistent id is the key. The middleware
    still checks the device's owner and confirmation on every request.
    """

    def _device_from_persistent_id(self, persistent_id: str) -> Device | None:
        key = _device_cache_key(self._normalize_persistent_id(persistent_id))
        cached = cache.get(key)
        if isinstance(cached, Device):
            return cached
        if cached == _MISSING:
            return None
        device = super()._device_from_persistent_id(persistent_id)
        cache.set(key, _without_secrets(device) or _MISSING, OTP_DEVICE_CACHE_SECONDS)
        return device


# What the middleware and ``is_verified()`` read of a device. The rest (the TOTP key,
# static tokens' parents, throttling) stays out of the cache: a cached copy has those
# fields deferred, so reading one would load it from the database.
_CACHED_DEVICE_FIELDS = frozenset({"id", "user_id", "name", "confirmed"})


def _without_secrets(device: Device | None) -> Device | None:
    if device is None:
        return None
    model = type(device)
    fields = [f.attname for f in model._meta.concrete_fields if f.attname in _CACHED_DEVICE_FIELDS]
    return model.from_db(device._state.db, fields, [getattr(device, name) for name in fields])


def second_factor_required(user: User | AnonymousUser) -> bool:
    """Whether ``user`` must prove a second factor in each session (cached per user;
    see ``second_factor_required_uncached``)."""
    if not user.is_authenticated:
        return False
    key = _second_factor_cache_key(user.pk)
    cached = cache.get(key)
    if isinstance(cached, bool):
        return cached
    required = second_factor_required_uncached(user)
    cache.set(key, required, SECOND_FACTOR_CACHE_SECONDS)
    return required


def second_factor_required_uncached(user: User | AnonymousUser) -> bool:
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
    return bool(request.session.get(SESSION_SECOND_FACTOR_FORCED)) or second_factor_required(
        request.user
    )


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


def forget_second_factor_state(*, user_ids: Sequence[int], devices: Sequence[Device] = ()) -> None:
    """Drop the cached two-factor answers of these users and devices (after commit,
    so a concurrent request cannot re-cache what the transaction is changing)."""
    keys = [_second_factor_cache_key(user_id) for user_id in user_ids]
    keys += [_device_cache_key(device.persistent_id) for device in devices]

    def forget() -> None:
        cache.delete_many(keys)

    forget()
    transaction.on_commit(forget)


def _device_changed(sender: type, instance: Device, **kwargs: Any) -> None:
    forget_second_factor_state(user_ids=[instance.user_id], devices=[instance])


def _membership_changed(sender: type, instance: Membership, **kwargs: Any) -> None:
    forget_second_factor_state(user_ids=[instance.user_id])


def _user_changed(sender: type, instance: User, **kwargs: Any) -> None:
    forget_second_factor_state(user_ids=[instance.pk])


def _organization_changed(sender: type, instance: Organization, **kwargs: Any) -> None:
    member_ids = list(
        Membership.objects.filter(organization=instance).values_list("user_id", flat=True)
    )
    forget_second_factor_state(user_ids=member_ids)


def connect_second_factor_cache_signals() -> None:
    """Drop cached answers whenever a device (of any django-otp device model), a
    membership, a user or an organization is saved or deleted."""
    receivers: list[tuple[type[models.Model], Callable[..., None]]] = [
        (Membership, _membership_changed),
        (User, _user_changed),
        (Organization, _organization_changed),
    ]
    receivers += [
        (model, _device_changed)
        for model in apps.get_models()
        if issubclass(model, Device) and not model._meta.abstract
    ]
    for model, receiver in receivers:
        uid = f"second-factor-cache:{model._meta.label}"
        post_save.connect(receiver, sender=model, dispatch_uid=uid)
        post_delete.connect(receiver, sender=model, dispatch_uid=uid)


class UserPreferencesMiddleware:
    """Show times in the person's own time zone, and pages in their saved language.

    The saved language becomes the interface language once per login (and again when
    the saved preference changes): it is activated for that request and written to the
    language cookie that LocaleMiddleware reads on every later one. Between those
    moments the cookie rules, so the language switcher still works; the session
    remembers which preference was applied (a new login starts a fresh session)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        tz_name = getattr(user, "time_zone", "") if user.is_authenticated else ""
        try:
            timezone.activate(zoneinfo.ZoneInfo(tz_name)) if tz_name else timezone.deactivate()
        except zoneinfo.ZoneInfoNotFoundError:
            timezone.deactivate()
        language = self._language_to_apply(request)
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if language and settings.LANGUAGE_COOKIE_NAME not in response.cookies:
            # Unless this very request chose another language (the switcher's view).
            set_language_cookie(response, language)
        return response

    @staticmethod
    def _language_to_apply(request: HttpRequest) -> str:
        if not request.user.is_authenticated:
            return ""
        language = getattr(request.user, "preferred_language", "") or ""
        session = request.session
        if session.get(SESSION_LANGUAGE_APPLIED, "") == language:
            return ""
        session[SESSION_LANGUAGE_APPLIED] = language
        if not language or not translation.check_for_language(language):
            return ""
        return language


def set_language_cookie(response: HttpResponse, language: str) -> None:
    """The cookie LocaleMiddleware and the language switcher read."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
