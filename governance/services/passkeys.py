"""Passkeys (WebAuthn): a second factor beside the authenticator app and backup codes,
and, where the organization allows it, a way to sign in on their own.

django-otp-webauthn does the ceremonies (py_webauthn checks every signature, the
challenge, the origin and the relying party); this module decides what GovSocial
needs around them: which host is the relying party, which origin is expected, who may
sign in with a passkey alone, what a passkey is called, and that every change and
every sign-in is in the audit log.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp_webauthn.exceptions import OTPWebAuthnApiError
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential

from governance.models import Membership, Organization, User
from governance.services.audit import audit_record

PASSKEY_NAME_MAX_LENGTH = 100


def relying_party_id(request: HttpRequest) -> str:
    """The host name people reach GovSocial at, without the port (ALLOWED_HOSTS has
    already vetted it). A passkey belongs to this name: changing the site's address
    means registering passkeys again."""
    return request.get_host().rsplit(":", 1)[0] if "]" not in request.get_host() else ""


class PasskeyHelper(WebAuthnHelper):
    """The library's helper, expecting the origin this request came to."""

    def get_allowed_origins(self) -> list[str]:
        return [f"{self.request.scheme}://{self.request.get_host()}"]

    def get_credential_display_name(self, user: Any) -> str:
        return str(getattr(user, "full_name", "") or user.get_username())


class PasskeySignInNotAllowed(OTPWebAuthnApiError):
    status_code = 403
    default_detail = gettext_lazy(
        "Your organization does not allow signing in with a passkey alone. Sign in with "
        "your e-mail address and password; your passkey then serves as the second step."
    )
    default_code = "passkey_sign_in_not_allowed"


class PasskeyMemberInactive(OTPWebAuthnApiError):
    status_code = 403
    default_detail = gettext_lazy(
        "This account is deactivated. Ask an administrator of your organization."
    )
    default_code = "account_deactivated"


def passkey_sign_in_allowed(user: User) -> bool:
    """Whether ``user`` may sign in with a passkey alone: every organization they are an
    active member of allows it (the strictest one decides)."""
    organizations = list(
        Organization.objects.filter(memberships__user=user, memberships__is_active=True)
    )
    return bool(organizations) and all(org.allow_passkey_sign_in for org in organizations)


def passkeys_for_user(user: User) -> list[WebAuthnCredential]:
    return list(WebAuthnCredential.objects.filter(user=user).order_by("created_at", "pk"))


def passkey_get_for_user(user: User, pk: int) -> WebAuthnCredential:
    """One of the person's own passkeys; anyone else's is ``DoesNotExist`` (a 404)."""
    return WebAuthnCredential.objects.get(user=user, pk=pk)


def _organization_of(user: User, request: HttpRequest | None) -> Organization | None:
    current = getattr(request, "organization", None) if request is not None else None
    if isinstance(current, Organization):
        return current
    membership = (
        Membership.objects.select_related("organization")
        .filter(user=user, is_active=True)
        .order_by("joined_at", "pk")
        .first()
    )
    return membership.organization if membership else None


def _default_name(user: User) -> str:
    taken = set(WebAuthnCredential.objects.filter(user=user).values_list("name", flat=True))
    number = 1
    while (name := _("Passkey %(number)d") % {"number": number}) in taken:
        number += 1
    return name


def passkey_added(*, request: HttpRequest, user: User, device: WebAuthnCredential) -> None:
    """Name a just-registered passkey and record it."""
    with transaction.atomic():
        if not device.name or device.name == "WebAuthn":
            device.name = _default_name(user)
            device.save(update_fields=["name"])
        audit_record(
            action="auth.passkey_added",
            organization=_organization_of(user, request),
            actor=user,
            target=user,
            new={"passkey": device.name},
            request=request,
        )


def passkey_rename(
    *, request: HttpRequest, user: User, device: WebAuthnCredential, name: str
) -> WebAuthnCredential:
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the passkey a name you will recognise.")})
    if len(name) > PASSKEY_NAME_MAX_LENGTH:
        raise ValidationError(
            {"name": _("Use at most %(limit)d characters.") % {"limit": PASSKEY_NAME_MAX_LENGTH}}
        )
    old = device.name
    if old == name:
        return device
    with transaction.atomic():
        device.name = name
        device.save(update_fields=["name"])
        audit_record(
            action="auth.passkey_renamed",
            organization=_organization_of(user, request),
            actor=user,
            target=user,
            old={"passkey": old},
            new={"passkey": name},
            request=request,
        )
    return device


def passkey_remove(*, request: HttpRequest, user: User, device: WebAuthnCredential) -> None:
    """Remove one of the person's passkeys. The authenticator app and backup codes stay,
    so nobody locks themselves out by removing a passkey."""
    with transaction.atomic():
        name = device.name
        device.delete()
        audit_record(
            action="auth.passkey_removed",
            organization=_organization_of(user, request),
            actor=user,
            target=user,
            old={"passkey": name},
            request=request,
        )


def organization_set_passkey_sign_in(
    *, request: HttpRequest, actor: User, organization: Organization, allowed: bool
) -> None:
    if organization.allow_passkey_sign_in == allowed:
        return
    with transaction.atomic():
        old = organization.allow_passkey_sign_in
        organization.allow_passkey_sign_in = allowed
        organization.save(update_fields=["allow_passkey_sign_in"])
        audit_record(
            action="org.passkey_sign_in_changed",
            organization=organization,
            actor=actor,
            target=organization,
            old={"allow_passkey_sign_in": old},
            new={"allow_passkey_sign_in": allowed},
            request=request,
        )
